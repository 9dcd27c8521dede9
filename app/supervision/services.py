"""Cases under a supervisor's regions (read-only)."""

from __future__ import annotations

from sqlalchemy import func, or_, select

from app.org.models import Region
from workflows import models as m


def _place_codes(regions: list[Region]):
    return select(Region.code).where(or_(*[Region.path.startswith(r.path) for r in regions]))


def _instances_under(regions: list[Region]):
    place = m.ProcessInstance.data["place"].as_string()
    return select(m.ProcessInstance.id).where(place.in_(_place_codes(regions)))


def routing_decisions(session, regions: list[Region], *, limit: int = 20) -> list[m.InstanceEvent]:
    """The latest odd-assignment decisions (nobody found, self-approval…) in the regions."""
    if not regions:
        return []
    return list(
        session.scalars(
            select(m.InstanceEvent)
            .where(
                m.InstanceEvent.kind.in_(("routing_rule", "auto_completed")),
                m.InstanceEvent.instance_id.in_(_instances_under(regions)),
            )
            .order_by(m.InstanceEvent.id.desc())
            .limit(limit)
        )
    )


def cases_under(session, regions: list[Region], status: str | None, *, limit: int, offset: int):
    """Instances whose place lies in one of ``regions`` (and their subtrees)."""
    if not regions:
        return [], 0
    stmt = select(m.ProcessInstance).where(m.ProcessInstance.id.in_(_instances_under(regions)))
    if status:
        stmt = stmt.where(m.ProcessInstance.status == status)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.scalars(
        stmt.order_by(m.ProcessInstance.id.desc()).limit(limit).offset(offset)
    ).all()
    return rows, total
