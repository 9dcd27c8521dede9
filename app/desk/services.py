"""Worklist queries: plain SQL over work items and their candidates."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from app import policy
from app.auth.models import User
from app.routing.models import WorkItemCandidate
from workflows import models as m


@dataclass
class WorkRow:
    item: m.WorkItem
    instance: m.ProcessInstance
    on_behalf_of: str | None


def my_open_work(session, user: User, *, limit: int = 50, offset: int = 0) -> list[WorkRow]:
    """Open work items the user may take, oldest first; green channel and priority first."""
    rows = session.execute(
        select(m.WorkItem, m.ProcessInstance)
        .join(m.ProcessInstance, m.ProcessInstance.id == m.WorkItem.instance_id)
        .where(m.WorkItem.status == m.OPEN, policy.work_item_filter(session, user))
        .order_by(
            m.WorkItem.priority.desc(),
            m.WorkItem.due_at.is_(None),
            m.WorkItem.due_at,
            m.WorkItem.id,
        )
        .limit(limit)
        .offset(offset)
    ).all()
    backups = _backup_names(session, user, [item for item, _ in rows])
    return [WorkRow(item, instance, backups.get(item.id)) for item, instance in rows]


def count_open_work(session, user: User) -> int:
    return session.scalar(
        select(func.count())
        .select_from(m.WorkItem)
        .where(m.WorkItem.status == m.OPEN, policy.work_item_filter(session, user))
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
    from app.org.models import Post

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
