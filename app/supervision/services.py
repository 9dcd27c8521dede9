"""Cases under a supervisor's regions (read-only)."""

from __future__ import annotations

from sqlalchemy import func, or_, select

from app.org.models import Region
from workflows import models as m


def _place_codes(regions: list[Region]):
    return select(Region.code).where(or_(*[Region.path.startswith(r.path) for r in regions]))


def cases_under(session, regions: list[Region], status: str | None, *, limit: int, offset: int):
    """Instances whose place lies in one of ``regions`` (and their subtrees)."""
    if not regions:
        return [], 0
    place = m.ProcessInstance.data["place"].as_string()
    stmt = select(m.ProcessInstance).where(place.in_(_place_codes(regions)))
    if status:
        stmt = stmt.where(m.ProcessInstance.status == status)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.scalars(
        stmt.order_by(m.ProcessInstance.id.desc()).limit(limit).offset(offset)
    ).all()
    return rows, total
