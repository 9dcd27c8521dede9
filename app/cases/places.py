"""Where a window may receive applications: its own region and everything under it."""

from __future__ import annotations

from sqlalchemy import or_, select

from app import policy
from app.models.org import Region

PLACE_LEVELS = ("county", "township", "village")


def _roots(session, user) -> list[Region]:
    if user.is_admin:
        return list(session.scalars(select(Region).where(Region.level == "county")))
    return policy.home_regions(session, user, ("window_clerk",))


def intake_regions(session, user) -> list[Region]:
    """Regions (the window's own and below) for which the user may receive applications."""
    roots = _roots(session, user)
    if not roots:
        return []
    return list(
        session.scalars(
            select(Region)
            .where(
                or_(*[Region.path.startswith(r.path) for r in roots]),
                Region.level.in_(PLACE_LEVELS),
            )
            .order_by(Region.path)
        )
    )


def may_receive_at(session, user, place: Region) -> bool:
    return place.level in PLACE_LEVELS and any(
        place.path.startswith(r.path) for r in _roots(session, user)
    )
