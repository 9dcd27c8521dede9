"""Worklist queries: plain SQL over work items, their candidates and their cases.

Every list starts from the person's own rows (assignee, candidate, completed_by,
received_by or recipient indexes), joins the case columns it shows, and never
touches a serialized workflow.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, timedelta

from sqlalchemy import func, select, union
from sqlalchemy.orm import aliased

from app import policy
from app.clock import CenterClock, center_clock
from app.errors import DomainError
from app.models.auth import User
from app.models.cases import Case, CaseEvent, CasePause
from app.models.desk import CaseCopy
from app.models.items import Item
from app.models.org import Post
from app.models.routing import WorkItemCandidate
from app.models.supervision import CaseWarning
from app.vocabulary import CaseEventKind, WorkItemStatus
from workflows import models as m
from workflows.timeutil import utcnow


@dataclass
class WorkFilter:
    """The filters of 待办 and 已办; empty fields filter nothing."""

    item: int | None = None  # 事项
    step: str = ""  # 步骤名称, a part of it
    applicant: str = ""  # 申请人, a part of the name
    number: str = ""  # 办件编号, its beginning
    date_from: date | None = None  # local days, inclusive
    date_to: date | None = None

    @classmethod
    def from_args(cls, args) -> WorkFilter:
        return cls(
            item=args.get("item", type=int),
            step=args.get("step", "").strip(),
            applicant=args.get("applicant", "").strip(),
            number=args.get("number", "").strip(),
            date_from=_day(args.get("date_from")),
            date_to=_day(args.get("date_to")),
        )

    @property
    def needs_case(self) -> bool:
        return bool(self.item or self.applicant or self.number)

    def args(self) -> dict:
        """The filters as URL arguments (for the pager)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items() if v}

    def apply(self, stmt, moment, clock: CenterClock | None = None):
        """Narrow ``stmt`` (which joins ``Case``); ``moment`` is the column the dates judge
        (local days of the center's ``clock``)."""
        if self.item:
            stmt = stmt.where(Case.item_id == self.item)
        if self.step:
            stmt = stmt.where(m.WorkItem.name.contains(self.step, autoescape=True))
        if self.applicant:
            stmt = stmt.where(Case.applicant_name.contains(self.applicant, autoescape=True))
        if self.number:
            stmt = stmt.where(Case.number.startswith(self.number, autoescape=True))
        if self.date_from or self.date_to:
            clock = clock or center_clock()
        if self.date_from:
            stmt = stmt.where(moment >= clock.start_of_day(self.date_from))
        if self.date_to:
            stmt = stmt.where(moment < clock.start_of_day(self.date_to + timedelta(days=1)))
        return stmt


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@dataclass
class WorkRow:
    item: m.WorkItem
    case_number: str | None
    applicant_name: str | None
    item_name: str | None  # the approval item (事项), or the process id without a case
    on_behalf_of: str | None = None
    returned: m.InstanceEvent | None = None  # the 退回 that re-opened this step
    suspended: str | None = None  # the reason its case is 挂起


def _work_rows(stmt) -> list:
    """``stmt`` with the case columns a row shows; the case may be missing (API starts)."""
    return (
        stmt.add_columns(
            Case.number,
            Case.applicant_name,
            Item.name,
            m.ProcessInstance.process_id,
            m.ProcessInstance.data,
        )
        .join(m.ProcessInstance, m.ProcessInstance.id == m.WorkItem.instance_id)
        .outerjoin(Case, Case.instance_id == m.WorkItem.instance_id)
        .outerjoin(Item, Item.id == Case.item_id)
    )


def _as_rows(result) -> list[WorkRow]:
    rows = []
    for item, number, applicant, item_name, process_id, data in result:
        data = data if isinstance(data, dict) else {}
        rows.append(
            WorkRow(
                item,
                number or data.get("case_number"),
                applicant or data.get("applicant_name"),
                item_name or data.get("item_name") or process_id,
            )
        )
    return rows


def _open_stmt(session, user: User):
    return select(m.WorkItem.id).where(
        m.WorkItem.status == WorkItemStatus.OPEN,
        policy.work_item_filter(session, user, narrow=policy.open_only),
    )


def _open_order(item) -> tuple:
    """Green channel first, then the nearest deadline (no deadline last), then the oldest."""
    return (item.priority.desc(), item.due_at.is_(None), item.due_at, item.created_at, item.id)


def open_work_query(
    session, user: User, filters: WorkFilter | None = None, clock: CenterClock | None = None
):
    """待办: the ids of open work the user may take in worklist order, each row with
    how many match (the sort reads them all anyway, so the count costs nothing more)."""
    filters = filters or WorkFilter()
    stmt = _open_stmt(session, user).add_columns(func.count().over().label("matching"))
    if filters.needs_case:
        stmt = stmt.join(Case, Case.instance_id == m.WorkItem.instance_id)
    return filters.apply(stmt, m.WorkItem.created_at, clock).order_by(*_open_order(m.WorkItem))


@dataclass
class WorkPage:
    rows: list[WorkRow]
    matching: int | None  # rows of every page; None when not counted


def my_open_work(
    session,
    user: User,
    *,
    filters: WorkFilter | None = None,
    clock: CenterClock | None = None,
    limit: int = 50,
    offset: int = 0,
) -> WorkPage:
    """A page of 待办, with whose work each item is where the user stands in (B角).

    The page's ids are chosen on work item columns alone; the case columns are
    joined for those rows only.
    """
    page = open_work_query(session, user, filters, clock).limit(limit).offset(offset).subquery()
    stmt = _work_rows(select(m.WorkItem).join(page, page.c.id == m.WorkItem.id))
    stmt = stmt.add_columns(page.c.matching)
    result = session.execute(stmt.order_by(*_open_order(m.WorkItem))).all()
    rows = _as_rows([row[:-1] for row in result])
    backups = _backup_names(session, user, [r.item for r in rows])
    for row in rows:
        row.on_behalf_of = backups.get(row.item.id)
    flag_returned_and_suspended(session, rows)
    return WorkPage(rows, result[0][-1] if result else None)


def flag_returned_and_suspended(session, rows: list[WorkRow]) -> None:
    """Mark the rows re-opened by a 退回 (with who and why) and those whose case is 挂起."""
    items = [r.item for r in rows]
    previous = {i.previous_item_id for i in items if i.previous_item_id}
    returns = {}
    if previous:
        for event in session.scalars(
            select(m.InstanceEvent).where(
                m.InstanceEvent.work_item_id.in_(previous), m.InstanceEvent.kind == "returned"
            )
        ):
            returns[event.work_item_id] = event
    suspended = {}
    if items:
        suspended = dict(
            session.execute(
                select(Case.instance_id, CasePause.reason)
                .join(CasePause, CasePause.case_id == Case.id)
                .where(
                    Case.instance_id.in_({i.instance_id for i in items}),
                    CasePause.kind == "suspended",
                    CasePause.ended_at.is_(None),
                )
            ).all()
        )
    for row in rows:
        row.returned = returns.get(row.item.previous_item_id)
        row.suspended = suspended.get(row.item.instance_id)


def count_open_work(session, user: User) -> int:
    return session.scalar(_open_stmt(session, user).with_only_columns(func.count()))


def done_work_query(
    user: User, filters: WorkFilter | None = None, clock: CenterClock | None = None
):
    """已办: work items the user completed (for themselves or as B角), newest first."""
    stmt = _work_rows(
        select(m.WorkItem).where(
            m.WorkItem.completed_by == user.username, m.WorkItem.status == WorkItemStatus.DONE
        )
    )
    stmt = (filters or WorkFilter()).apply(stmt, m.WorkItem.completed_at, clock)
    return stmt.order_by(m.WorkItem.completed_at.desc(), m.WorkItem.id.desc())


def my_done_work(
    session,
    user: User,
    *,
    filters: WorkFilter | None = None,
    clock: CenterClock | None = None,
    limit: int = 50,
    offset: int = 0,
) -> WorkPage:
    """A page of 已办, with whose work each item was when done as B角."""
    stmt = done_work_query(user, filters, clock)
    rows = _as_rows(session.execute(stmt.limit(limit).offset(offset)).all())
    for row in rows:
        row.on_behalf_of = row.item.on_behalf_of
    return WorkPage(rows, None)


def my_cases(session, user: User, *, limit: int = 50, offset: int = 0) -> list[Case]:
    """我经办的办件: cases the user received at a window or where they completed a step."""
    step = aliased(m.WorkItem)
    mine = union(
        select(Case.id).where(Case.received_by == user.username),
        select(Case.id)
        .join(step, step.instance_id == Case.instance_id)
        .where(step.completed_by == user.username),
    )
    return list(
        session.scalars(
            select(Case)
            .where(Case.id.in_(mine))
            .order_by(Case.received_at.desc(), Case.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )


def _backup_names(session, user: User, items: list[m.WorkItem]) -> dict[int, str]:
    """For items the user sees only as B角: whose work it is."""
    if not policy.stand_ins(session, user):
        return {}
    result = {}
    for item in items:
        holder = policy.acting_for(session, user, item)
        if holder:
            result[item.id] = holder
    return result


def candidate_titles(session, item_ids: list[int]) -> dict[int, list[str]]:
    """Who each item is routed to, as people read it (post titles and names)."""
    titles: dict[int, list[str]] = {}
    rows = session.execute(
        select(WorkItemCandidate, Post, User)
        .outerjoin(Post, Post.id == WorkItemCandidate.post_id)
        .outerjoin(User, User.id == WorkItemCandidate.user_id)
        .where(
            WorkItemCandidate.work_item_id.in_(item_ids),
            WorkItemCandidate.on_behalf_of_id.is_(None),
        )
    ).all()
    for candidate, post, user in rows:
        label = post.title if post is not None else (user.display_name if user is not None else "")
        titles.setdefault(candidate.work_item_id, []).append(label)
    return titles


def item_choices(session) -> list[tuple[int, str]]:
    """The approval items a filter may name."""
    return list(session.execute(select(Item.id, Item.name).order_by(Item.code)))


# --- copies (抄送) -------------------------------------------------------------------


class NoRecipients(DomainError):
    """A copy names nobody who can receive it."""


def send_copies(
    session,
    instance_id: int,
    work_item_id: int | None,
    usernames: list[str],
    sender: str,
    note: str | None,
) -> list[CaseCopy]:
    """Copy a case (or one of its steps) to each active user named; returns the copies."""
    recipients = session.scalars(
        select(User)
        .where(User.username.in_(set(usernames)), User.active.is_(True), User.username != sender)
        .order_by(User.username)
    ).all()
    if not recipients:
        raise NoRecipients("请选择抄送对象。")
    copies = [
        CaseCopy(
            instance_id=instance_id,
            work_item_id=work_item_id,
            recipient=user,
            sent_by=sender,
            note=note or None,
        )
        for user in recipients
    ]
    session.add_all(copies)
    # on the case's record (and so in the audit chain): who copied whom, when, why
    case_id = session.scalar(select(Case.id).where(Case.instance_id == instance_id))
    if case_id is not None:
        names = "、".join(u.display_name for u in recipients)
        session.add(
            CaseEvent(
                case_id=case_id,
                kind=CaseEventKind.COPIED,
                actor=sender,
                message=f"抄送 {names}" + (f"：{note}" if note else ""),
                data={"to": [u.username for u in recipients], "work_item_id": work_item_id},
            )
        )
    return copies


def copy_recipients(session, sender: User) -> list[User]:
    """Whom a case may be copied to: active colleagues, by name."""
    return list(
        session.scalars(
            select(User)
            .where(User.active.is_(True), User.id != sender.id)
            .order_by(User.display_name)
        )
    )


def copies_of_instance(session, instance_id: int) -> list[CaseCopy]:
    return list(
        session.scalars(
            select(CaseCopy).where(CaseCopy.instance_id == instance_id).order_by(CaseCopy.id)
        )
    )


@dataclass
class CopyRow:
    copy: CaseCopy
    case_number: str | None
    applicant_name: str | None
    item_name: str | None
    step: str | None


def my_copies(
    session, user: User, *, unread_only: bool = False, limit: int = 50, offset: int = 0
) -> list[CopyRow]:
    """抄送我的: newest first."""
    stmt = (
        select(CaseCopy, Case.number, Case.applicant_name, Item.name, m.WorkItem.name)
        .outerjoin(Case, Case.instance_id == CaseCopy.instance_id)
        .outerjoin(Item, Item.id == Case.item_id)
        .outerjoin(m.WorkItem, m.WorkItem.id == CaseCopy.work_item_id)
        .where(CaseCopy.recipient_id == user.id)
    )
    if unread_only:
        stmt = stmt.where(CaseCopy.read_at.is_(None))
    result = session.execute(stmt.order_by(CaseCopy.id.desc()).limit(limit).offset(offset))
    return [CopyRow(*row) for row in result]


def count_unread_copies(session, user: User) -> int:
    return session.scalar(
        select(func.count())
        .select_from(CaseCopy)
        .where(CaseCopy.recipient_id == user.id, CaseCopy.read_at.is_(None))
    )


def mark_read(session, user: User, copy_ids: list[int] | None = None) -> int:
    """Mark the user's unread copies read (those given, or all); returns how many."""
    stmt = select(CaseCopy).where(CaseCopy.recipient_id == user.id, CaseCopy.read_at.is_(None))
    if copy_ids is not None:
        stmt = stmt.where(CaseCopy.id.in_(copy_ids))
    copies = session.scalars(stmt).all()
    now = utcnow()
    for copy in copies:
        copy.read_at = now
    return len(copies)


def cards_for(session, items: list[m.WorkItem]) -> dict[int, str]:
    """The worst card (red over yellow) on each work item: its own, or its case's."""
    if not items:
        return {}
    by_instance: dict[int, list[int]] = {}
    for item in items:
        by_instance.setdefault(item.instance_id, []).append(item.id)
    rows = session.execute(
        select(CaseWarning.level, CaseWarning.scope, CaseWarning.work_item_id, Case.instance_id)
        .join(Case, Case.id == CaseWarning.case_id)
        .where(Case.instance_id.in_(by_instance))
    ).all()
    worst: dict[int, str] = {}
    for level, scope, work_item_id, instance_id in rows:
        targets = by_instance.get(instance_id, []) if scope == "case" else [work_item_id]
        for target in targets:
            if target in worst and worst[target] == "red":
                continue
            worst[target] = level
    return {k: v for k, v in worst.items() if k in {i.id for i in items}}
