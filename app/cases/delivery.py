"""待送达: decided cases the window that received them still has to hand out.

A case is waiting for delivery once its decision is made (status 办结: the process
ended, or waits only at its own delivery step, docs/DIAGRAMS.md 8.4) until it is
delivered. It waits at the window that received it (``receiving_window``): the
receiving clerk's own window, or, when nobody of a window received it (online,
deemed acceptance, a receiver who has left the window), the window serving its
place — the village's 代办点, else the township's 便民服务中心, else the county
center. The same rule picks who sees the queue and who is told once the result
is ready, whatever the diagram draws.
"""

from __future__ import annotations

from sqlalchemy import exists, func, literal, or_, select, union
from sqlalchemy.orm import aliased

from app.models.auth import User
from app.models.cases import Case
from app.models.org import Department, Post, Region, user_post
from app.notifications.services import notify_once
from app.routing.windows import WINDOW_ROLE, holders_of, receiving_window
from app.vocabulary import CaseResult, CaseStatus

from .places import served_places

NOTICE_KIND = "delivery"
# a case that has ended one way or another: nothing more will come of it (一件事 waits
# for every case of the package to be one of these before 统一出证)
ENDED = frozenset({
    CaseStatus.DECIDED, CaseStatus.DELIVERED, CaseStatus.REFUSED,
    CaseStatus.WITHDRAWN, CaseStatus.TERMINATED,
})  # fmt: skip


def package_ready():
    """SQL: the case is no 一件事 member, or every case of its package has ended."""
    sibling = aliased(Case)
    return or_(
        Case.package_case_id.is_(None),
        ~exists(
            select(sibling.id).where(
                sibling.package_case_id == Case.package_case_id,
                sibling.status.not_in(list(ENDED)),
            )
        ),
    )


def _windows_of(session, user: User) -> list[tuple[int, Region]]:
    """(department id, region) of every window where the user is a clerk."""
    return list(
        session.execute(
            select(Department.id, Region)
            .join(Region, Region.id == Department.region_id)
            .join(Post, Post.department_id == Department.id)
            .join(user_post, user_post.c.post_id == Post.id)
            .where(user_post.c.user_id == user.id, Post.role == WINDOW_ROLE)
        )
    )


def _received_by_a_window_containing(place):
    """SQL: the case's receiver is a clerk of a window whose region contains ``place``."""
    window_region = aliased(Region)
    return exists(
        select(Post.id)
        .join(Department, Department.id == Post.department_id)
        .join(window_region, window_region.id == Department.region_id)
        .join(user_post, user_post.c.post_id == Post.id)
        .join(User, User.id == user_post.c.user_id)
        .where(
            User.username == Case.received_by,
            Post.role == WINDOW_ROLE,
            place.path.startswith(window_region.path),
        )
    )


def waiting_ids(session, user: User):
    """A select of the ids of the cases waiting for delivery at the user's windows, or None.

    Two selects, each on the (status, place) index: cases a colleague of these
    windows received, and cases of the places these windows serve that no
    window's clerk received.
    """
    windows = _windows_of(session, user)
    if not windows:
        return None
    regions = list({region.id: region for _, region in windows}.values())
    colleagues = (
        select(User.username)
        .join(user_post, user_post.c.user_id == User.id)
        .join(Post, Post.id == user_post.c.post_id)
        .where(Post.department_id.in_([d for d, _ in windows]), Post.role == WINDOW_ROLE)
    )
    under = select(Region.id).where(or_(*[Region.path.startswith(r.path) for r in regions]))
    # inline, not a parameter: the planner then matches the partial index on decided cases
    decided = Case.status == literal(CaseStatus.DECIDED.value, literal_execute=True)
    received_here = select(Case.id).where(
        decided, Case.place_id.in_(under), Case.received_by.in_(colleagues), package_ready()
    )
    place = aliased(Region)
    served_here = (
        select(Case.id)
        .join(place, place.id == Case.place_id)
        .where(
            decided,
            Case.place_id.in_(served_places(session, regions)),
            or_(Case.received_by.is_(None), ~_received_by_a_window_containing(place)),
            package_ready(),
        )
    )
    return union(received_here, served_here)


def count_waiting(session, user: User) -> int:
    """The number in the desk's 待送达 tab."""
    ids = waiting_ids(session, user)
    if ids is None:
        return 0
    return session.scalar(select(func.count()).select_from(ids.subquery()))


def waiting_cases(session, user: User, *, limit: int = 50, offset: int = 0) -> list[Case]:
    """The cases waiting for delivery at the user's windows: 绿色通道 first, oldest decision first."""
    ids = waiting_ids(session, user)
    if ids is None:
        return []
    return list(
        session.scalars(
            select(Case)
            .where(Case.id.in_(select(ids.subquery().c[0])))
            .order_by(Case.green_channel.desc(), Case.decided_at, Case.id)
            .limit(limit)
            .offset(offset)
        )
    )


def receiving_clerks(session, case: Case) -> list[User]:
    """The active clerks of the window the case belongs to."""
    return holders_of(session, receiving_window(session, case.received_by, case.place))


def result_ready(session, case: Case) -> list[str]:
    """Tell the receiving window's clerks, once, that the result waits to be delivered;
    for a 一件事 case only once the last case of the package has ended (统一出证)."""
    usernames = [u.username for u in receiving_clerks(session, case)]
    bundle = case.package_case
    if bundle is not None:
        if any(c.status not in ENDED for c in bundle.cases):
            return []
        text = (
            f"一件事“{bundle.package.name}”（{bundle.number}）已全部办结，"
            f"待统一出证给申请人{bundle.applicant_name}。"
        )
        link = f"/cases/packages/{bundle.number}"
        return notify_once(session, usernames, NOTICE_KIND, text, link)
    text = (
        f"{case.number}（{case.item.name}）已办结（{CaseResult.label_of(case.result)}），"
        f"待送达申请人{case.applicant_name}。"
    )
    return notify_once(session, usernames, NOTICE_KIND, text, f"/cases/{case.number}")
