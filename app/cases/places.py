"""Where a window may receive applications (its own region and everything under it),
and which places it serves (those with no nearer window of their own)."""

from __future__ import annotations

from sqlalchemy import or_, select

from app import policy
from app.models.org import Region
from app.routing.windows import window_region_ids
from app.vocabulary import CaseChannel

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


def served_places(session, windows: list[Region]) -> list[int]:
    """Ids of the places whose nearest window is at one of ``windows`` (regions).

    A village without a 代办点 is served by its township's window, a township
    without one by the county center (``nearest_window``).
    """
    if not windows:
        return []
    with_window = window_region_ids(session)
    mine = {w.id for w in windows}
    rows = session.execute(
        select(Region.id, Region.path).where(
            or_(*[Region.path.startswith(w.path) for w in windows])
        )
    )
    found = []
    for region_id, path in rows:
        ids = [int(i) for i in path.strip("/").split("/") if i]
        if next((i for i in reversed(ids) if i in with_window), None) in mine:
            found.append(region_id)
    return found


def receiving_channel(session, user) -> str:
    """村代办 when the user's windows are all village 代办点, else 窗口."""
    roots = _roots(session, user)
    if roots and all(r.level == "village" for r in roots):
        return CaseChannel.PROXY
    return CaseChannel.WINDOW
