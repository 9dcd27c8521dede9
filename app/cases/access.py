"""Who may see a case: its page, its documents, its API record.

A case with a process follows the process's jurisdiction
(``policy.can_view_instance``). A case without one — received and waiting for
受理 or 补正, or refused before acceptance — has nobody routed to it yet, so
the window decides: the person who received it, the window clerks and the
inspectors whose region contains the case's place, and whoever manages
instances. The receiving person keeps access after acceptance too: they
issued its first notices.
"""

from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import select

from app import policy
from app.extensions import db
from app.models.cases import Case
from app.models.items import FEEDBACK_KIND
from app.models.org import Region
from app.privacy import PERSONAL_KEYS
from workflows import models as m

from .places import may_receive_at
from .services import ANONYMOUS


def _place_within(case: Case, regions) -> bool:
    return any(case.place.path.startswith(region.path) for region in regions)


def can_view_case(session, user, case: Case) -> bool:
    """May ``user`` see ``case`` and the documents issued for it?"""
    if user is None or not getattr(user, "is_active", False):
        return False
    if policy.has(user, "instances.manage") and policy.manages_place(session, user, case.place):
        return True
    if case.received_by is not None and case.received_by == user.username:
        return True
    if case.instance is not None:
        return policy.can_view_instance(session, user, case.instance)
    if _place_within(case, policy.home_regions(session, user, ("window_clerk",))):
        return True
    return policy.has(user, "supervise") and _place_within(
        case, policy.home_regions(session, user, ("inspector",))
    )


def visible_case(number: str) -> Case:
    """The case by its number, or 404; 403 when the signed-in user may not see it."""
    case = db.session.scalars(select(Case).where(Case.number == number)).first()
    if case is None:
        abort(404)
    if not can_view_case(db.session, current_user, case):
        abort(403)
    return case


def reveals_personal_data(session, user, place: Region | None) -> bool:
    """ID and phone numbers are shown in full to the receiving window: whoever may
    receive applications at the case's place. Everyone else sees them masked."""
    return (
        place is not None
        and user is not None
        and policy.has(user, "intake")
        and may_receive_at(session, user, place)
    )


def shields_complainant(case: Case) -> bool:
    """An anonymous 投诉 or 办不成事 report (a 监督件 filed with a phone number only)."""
    return case.item.kind == FEEDBACK_KIND and case.applicant_name == ANONYMOUS


def reveals_complainant(user, case: Case) -> bool:
    """Who filed a 监督件 is seen in full by the center's own posts only (its lead
    department itself, not its windows): the accused may be a clerk or a department."""
    return user is not None and any(
        post.department_id == case.lead_department_id for post in getattr(user, "posts", ())
    )


def reveals_case_applicant(session, user, case: Case) -> bool:
    """ID and phone numbers of the case's applicant in full (else masked, or for an
    anonymous complaint not shown at all)."""
    if case.item.kind == FEEDBACK_KIND:
        return reveals_complainant(user, case)
    return reveals_personal_data(session, user, case.place)


def revealed_keys(session, user, instance: m.ProcessInstance) -> frozenset[str]:
    """The personal keys of an instance's data ``user`` reads in full: all of them at the
    receiving window, none elsewhere (a step adds its own form's fields). A 监督件's
    are read by the center only."""
    case = session.scalars(select(Case).where(Case.instance_id == instance.id)).first()
    if case is not None and case.item.kind == FEEDBACK_KIND:
        return PERSONAL_KEYS if reveals_complainant(user, case) else frozenset()
    place = policy.instance_place(session, instance)
    return PERSONAL_KEYS if reveals_personal_data(session, user, place) else frozenset()
