"""黄牌 / 红牌: every running case and every open step measured against its limit.

A card is issued once per case (or step) and level: the ``case_warning`` unique
constraint decides, with ``INSERT … ON CONFLICT DO NOTHING``, so several
scheduler processes may compute at the same time and only one of them issues
the card, its deductions and its notifications (they share its transaction).

Thresholds are rules, per center (config) and per item:
``share:0.8`` (80% of the limit used), ``left:2`` (two working days or fewer
left), ``overdue`` (past the due date).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import selectinload

from app.clock import CenterClock, center_clock
from app.errors import DomainError
from app.items.warning_rules import Rule, warning_rules
from app.models.auth import User
from app.models.cases import Case, CaseEvent, CasePause
from app.models.notifications import Notification
from app.models.org import Department, Post, user_post
from app.models.routing import WorkItemCandidate
from app.models.supervision import LEVELS, CaseWarning, Deduction
from app.vocabulary import CaseEventKind, CaseStatus, WorkItemStatus
from workflows import models as wm
from workflows.timeutil import utcnow


class LedgerError(DomainError):
    """A refused change to the points ledger (扣分台账): it is only ever reversed, once."""


def level_of(rules: dict[str, Rule], limit: int, left: int) -> str | None:
    if rules["red"].reached(limit, left):
        return "red"
    if rules["yellow"].reached(limit, left):
        return "yellow"
    return None


# --- issuing -------------------------------------------------------------------------


@dataclass
class Measured:
    case: Case
    scope: str
    level: str
    due: date
    left: int
    limit: int
    item: wm.WorkItem | None = None


def _insert(session):
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def _holders(session, item: wm.WorkItem) -> list[User]:
    """Who holds the step: its assignee, or everyone it is routed to."""
    if item.assignee:
        return list(session.scalars(select(User).where(User.username == item.assignee)))
    posts = select(WorkItemCandidate.post_id).where(
        WorkItemCandidate.work_item_id == item.id, WorkItemCandidate.post_id.is_not(None)
    )
    people = select(WorkItemCandidate.user_id).where(
        WorkItemCandidate.work_item_id == item.id, WorkItemCandidate.user_id.is_not(None)
    )
    return list(
        session.scalars(
            select(User)
            .where(
                User.active.is_(True),
                User.id.in_(select(user_post.c.user_id).where(user_post.c.post_id.in_(posts)))
                | User.id.in_(people),
            )
            .order_by(User.username)
        )
    )


def notify_holders(session, items, kind: str, text: str, number: str, now=None) -> list[str]:
    """One notification per person holding any of ``items``; returns their usernames."""
    notified: list[str] = []
    for item in items:
        for user in _holders(session, item):
            if user.username not in notified:
                notified.append(user.username)
                session.add(
                    Notification(
                        username=user.username,
                        kind=kind,
                        text=text,
                        link=f"/cases/{number}",
                        created_at=now or utcnow(),
                    )
                )
    return notified


LEADER_ROLES = ("deputy_leader", "chief_leader")


def escalation(session, case: Case, items: list[wm.WorkItem]) -> list[User]:
    """Who hears of a red card besides the holders: the leaders of each holding
    department (of the parent department for a section) and the inspectors
    (电子监察) whose region covers the case's place."""
    departments = {d for d in (_department_of(session, item) for item in items) if d}
    parents = select(Department.parent_id).where(
        Department.id.in_(departments), Department.parent_id.is_not(None)
    )
    leaders = select(Post.id).where(
        Post.role.in_(LEADER_ROLES),
        Post.department_id.in_(departments) | Post.department_id.in_(parents),
    )
    covering = [int(r) for r in (case.place.path or "").strip("/").split("/") if r]
    inspectors = (
        select(Post.id)
        .join(Department, Department.id == Post.department_id)
        .where(Post.role == "inspector", Department.region_id.in_(covering))
    )
    posts = leaders.union(inspectors)
    return list(
        session.scalars(
            select(User)
            .where(
                User.active.is_(True),
                User.id.in_(select(user_post.c.user_id).where(user_post.c.post_id.in_(posts))),
            )
            .order_by(User.username)
        )
    )


def _department_of(session, item: wm.WorkItem) -> int | None:
    return session.scalar(
        select(Post.department_id)
        .join(WorkItemCandidate, WorkItemCandidate.post_id == Post.id)
        .where(WorkItemCandidate.work_item_id == item.id)
        .order_by(WorkItemCandidate.id)
        .limit(1)
    )


def _issue(session, m: Measured, now: datetime) -> CaseWarning | None:
    """Insert the card unless it exists; returns it only when this call issued it."""
    step = m.item.name if m.item is not None else None
    where = f"步骤“{step}”" if step else "办件"
    when = "已超期" if m.left < 0 else f"剩余 {m.left} 个工作日"
    message = (
        f"{m.case.number}（{m.case.item.name}）{where}{LEVELS[m.level]}：期限 {m.due}，{when}。"
    )
    inserted = session.execute(
        _insert(session)(CaseWarning)
        .values(
            case_id=m.case.id,
            scope=m.scope,
            work_item_id=m.item.id if m.item is not None else None,
            step=step,
            level=m.level,
            issued_at=now,
            due=m.due,
            days_left=m.left,
            message=message,
        )
        .on_conflict_do_nothing(index_elements=["case_id", "scope", "level"])
        .returning(CaseWarning.id)
    ).scalar()
    if inserted is None:
        return None
    warning = session.get(CaseWarning, inserted)
    session.add(
        CaseEvent(
            case_id=m.case.id, at=now, kind=CaseEventKind.WARNING, actor=None, message=message
        )
    )
    return warning


def _follow_up(session, m: Measured, warning: CaseWarning, items: list[wm.WorkItem], now) -> None:
    """Tell the holders; a red card deducts points from the department and the person."""
    told = notify_holders(session, items, "warning", warning.message, m.case.number, now)
    if m.level != "red":
        return
    for user in escalation(session, m.case, items):
        if user.username not in told:
            told.append(user.username)
            session.add(
                Notification(
                    username=user.username,
                    kind="warning",
                    text=warning.message,
                    link=f"/cases/{m.case.number}",
                    created_at=now,
                )
            )
    config = current_app.config
    department_points = Decimal(str(config.get("RED_POINTS_DEPARTMENT", 1)))
    person_points = Decimal(str(config.get("RED_POINTS_PERSON", 1)))
    for item in items:
        department = _department_of(session, item)
        if department is not None and department_points:
            session.add(
                Deduction(
                    at=now,
                    warning_id=warning.id,
                    department_id=department,
                    points=department_points,
                    reason=f"红牌：{warning.message}",
                )
            )
        if item.assignee and person_points:
            session.add(
                Deduction(
                    at=now,
                    warning_id=warning.id,
                    department_id=department,
                    username=item.assignee,
                    points=person_points,
                    reason=f"红牌：{warning.message}",
                )
            )


def measure(session, clock: CenterClock | None = None) -> list[Measured]:
    """Every card due now for running, unpaused cases and their open steps (two queries)."""
    clock = clock or center_clock(session)
    now = clock.now()
    today = clock.day_of(now)
    paused = select(CasePause.case_id).where(CasePause.ended_at.is_(None))
    cases = session.scalars(
        select(Case)
        .options(selectinload(Case.item))
        .where(
            Case.status.in_(CaseStatus.in_progress()),
            Case.promised_date.is_not(None),
            Case.id.not_in(paused),
        )
    ).all()
    steps: dict[int, list[wm.WorkItem]] = {}
    running = [c.instance_id for c in cases if c.instance_id is not None]
    for start in range(0, len(running), 1000):  # keep IN lists bounded
        for item in session.scalars(
            select(wm.WorkItem).where(
                wm.WorkItem.instance_id.in_(running[start : start + 1000]),
                wm.WorkItem.status == WorkItemStatus.OPEN,
                wm.WorkItem.due_at.is_not(None),
            )
        ):
            steps.setdefault(item.instance_id, []).append(item)
    found: list[Measured] = []
    for case in cases:
        rules = warning_rules(case.item)
        left = clock.calendar.workdays_between(today, case.promised_date)
        level = level_of(rules, case.item.committed_days, left)
        if level is not None:
            found.append(
                Measured(case, "case", level, case.promised_date, left, case.item.committed_days)
            )
        for item in steps.get(case.instance_id, []):
            found += _measure_step(clock, rules, case, item, now, today)
    return found


def _measure_step(clock: CenterClock, rules, case, item, now, today) -> list[Measured]:
    """A step against its own due time; the limit is what the due time allowed it."""
    due = clock.day_of(item.due_at)
    if _limit_hours(item) is not None:
        # a limit in hours: measured in working hours (``left:n`` means n hours)
        limit = round(clock.working_hours_between(item.created_at, item.due_at))
        hours_left = clock.working_hours_between(now, item.due_at)
        left = -1 if hours_left < 0 else int(hours_left)
    else:
        opened = clock.calendar.next_workday(clock.day_of(item.created_at))
        limit = max(0, clock.calendar.workdays_between(opened, due))
        left = clock.calendar.workdays_between(today, due)
    level = level_of(rules, limit, left)
    if level is None:
        return []
    return [Measured(case, f"item:{item.id}", level, due, left, limit, item)]


def _limit_hours(item: wm.WorkItem) -> float | None:
    try:
        value = float((item.properties or {})["limit_hours"])
    except (KeyError, TypeError, ValueError):
        return None
    return value if value > 0 else None


def issue_warnings(session, clock: CenterClock | None = None) -> list[CaseWarning]:
    """Issue the cards due now (a red card also issues the yellow it passed)."""
    clock = clock or center_clock(session)
    now = clock.now()
    issued = []
    for m in measure(session, clock):
        levels = ["yellow", "red"] if m.level == "red" else ["yellow"]
        for level in levels:
            current = Measured(m.case, m.scope, level, m.due, m.left, m.limit, m.item)
            warning = _issue(session, current, now)
            if warning is None:
                continue
            items = [m.item] if m.item is not None else open_items(session, m.case)
            _follow_up(session, current, warning, items, now)
            issued.append(warning)
    return issued


def open_items(session, case: Case) -> list[wm.WorkItem]:
    if case.instance_id is None:
        return []
    return list(
        session.scalars(
            select(wm.WorkItem).where(
                wm.WorkItem.instance_id == case.instance_id,
                wm.WorkItem.status == WorkItemStatus.OPEN,
            )
        )
    )


def reverse(session, deduction: Deduction, actor: str, reason: str) -> Deduction:
    """冲销: a supervisor cancels a deduction by a new row of opposite points."""
    if not reason or not reason.strip():
        raise LedgerError("请填写冲销理由。", "reason")
    if deduction.reverses_id is not None or deduction.points < 0:
        raise LedgerError("冲销记录不能再冲销。")
    already = session.scalar(select(Deduction.id).where(Deduction.reverses_id == deduction.id))
    if already is not None:
        raise LedgerError("该扣分已冲销。")
    reversal = Deduction(
        warning_id=deduction.warning_id,
        department_id=deduction.department_id,
        username=deduction.username,
        points=-deduction.points,
        reason=f"冲销：{reason.strip()}",
        created_by=actor,
        reverses_id=deduction.id,
    )
    session.add(reversal)
    return reversal
