"""The runtime's assigner: candidates for every new work item, AB角, odd-case rules."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select

from app.clock import center_clock
from app.models.auth import User
from app.models.cases import Case
from app.models.items import Item
from app.models.org import Backup, Department, Post
from app.models.routing import WorkItemCandidate
from app.org.services import rules_for
from app.vocabulary import InstanceEventKind
from workflows.models import InstanceEvent
from workflows.timeutil import utcnow

from .describe import describe
from .resolver import Resolution, admin_posts, leader_posts, place_of, region_chain, resolve
from .windows import WINDOW_ROLE, receiving_window
from .windows import holders_of as _holders

INSTANT = "instant"  # 即办件
# 绿色通道: such work goes first in every worklist.
GREEN_CHANNEL_PRIORITY = 100
RULE_ZH = {
    "leader": "转部门负责人办理",
    "admin": "转系统管理员处理",
    "skip": "自动跳过",
    "allow": "照常办理",
}


@dataclass
class Candidates:
    posts: list[Post]
    users: list[User]
    reason: str = "diagram"


def backups_in_force(session, holders: list[User], process_id: str, at) -> list[Backup]:
    """Backups that stand in for any of ``holders`` now, for this process."""
    if not holders:
        return []
    return list(
        session.scalars(
            select(Backup).where(
                Backup.holder_id.in_([h.id for h in holders]),
                Backup.valid_from <= at,
                or_(Backup.valid_to.is_(None), Backup.valid_to > at),
                or_(Backup.process_id.is_(None), Backup.process_id == process_id),
            )
        )
    )


def _backup_covers(session, backup: Backup, posts: list[Post]) -> bool:
    if backup.department_id is None:
        return True
    department_ids = {p.department_id for p in posts}
    parents = session.scalars(
        select(Department.parent_id).where(Department.id.in_(department_ids))
    ).all()
    return backup.department_id in department_ids | {p for p in parents if p}


def _set_due(session, item, data: dict) -> None:
    """A step's own limit fixes its due time, counted from the moment the step opened:
    ``limit_hours`` (hours on working days only) or ``limit_days`` (working days), else
    the approval item's limit for the step."""
    properties = item.properties or {}
    clock = center_clock(session)
    try:
        if "limit_hours" in properties:
            item.due_at = clock.step_due(item.created_at, hours=float(properties["limit_hours"]))
            return
        days = int(properties.get("limit_days", "") or _item_limit(session, item, data))
    except (TypeError, ValueError):
        return
    item.due_at = clock.step_due(item.created_at, days=days)


def _item_limit(session, item, data: dict) -> int | str:
    """The approval item's limit for this step (by bpmn id or name), or "" for none."""
    code = data.get("item_code")
    if not code:
        return ""
    limits = session.scalar(select(Item.step_limits).where(Item.code == str(code))) or {}
    return limits.get(item.bpmn_id) or limits.get(item.name or "") or ""


def _initiator(instance, data: dict) -> str | None:
    """Who applied, as far as the rule on one's own case goes.

    A case received at a window (it has a ``case_number``) was applied for by an
    outside applicant; the clerk who started its process is not its initiator, and
    the window's later steps (补正材料接收, 送达) rightly land with that clerk.
    """
    return None if data.get("case_number") else instance.started_by


def _receiver(session, instance, data: dict) -> str | None:
    """Who received the case at the window (else who started the process)."""
    number = data.get("case_number")
    if number:
        receiver = session.scalar(select(Case.received_by).where(Case.number == str(number)))
        if receiver:
            return receiver
    return instance.started_by


def _at_receiving_window(session, instance, assignment, data: dict, place) -> Resolution | None:
    """A 即办件 is decided where it was received: its window steps go to the window
    that received the case, whatever level the diagram names (a village's case
    received at the village 代办点 is not sent to the county center)."""
    if assignment.role != WINDOW_ROLE or assignment.user or not data.get("case_number"):
        return None
    kind = session.scalar(select(Item.kind).where(Item.code == str(data.get("item_code"))))
    if kind != INSTANT:
        return None
    posts = receiving_window(session, _receiver(session, instance, data), place)
    if not posts:
        return None
    department = posts[0].department
    return Resolution(posts=posts, department=department, region=department.region)


class OrgAssigner:
    """Implements ``workflows.runtime.Assigner`` with the org model."""

    def __init__(self, clock=utcnow):
        self.clock = clock

    def assign(self, session, instance, work, previous_actor):
        rules = rules_for(session, instance.process_id)
        skipped = {}
        for new in work:
            item, data = new.item, new.task.data
            if data.get("green_channel"):
                item.priority = max(item.priority, GREEN_CHANNEL_PRIORITY)
            _set_due(session, item, data)
            place = place_of(session, data)
            chain = region_chain(session, place)
            assignment = describe(item.lane, item.properties, data)
            resolution = _at_receiving_window(
                session, instance, assignment, data, place
            ) or resolve(session, assignment, place)
            candidates, skip = self._apply_rules(
                session,
                instance,
                item,
                resolution,
                chain,
                rules,
                previous_actor,
                initiator=_initiator(instance, data),
            )
            if skip:
                skipped[item.id] = skip
                continue
            self._record(session, instance, item, candidates)
        return skipped

    def _apply_rules(
        self,
        session,
        instance,
        item,
        resolution: Resolution,
        chain,
        rules,
        previous_actor,
        initiator,
    ):
        candidates = Candidates(resolution.posts, resolution.users)
        people = {u.username for u in _holders(session, candidates.posts)} | {
            u.username for u in candidates.users
        }
        if not people:
            return self._when_empty(session, instance, item, resolution, chain, rules), None
        for rule, who, label in (
            (rules.when_initiator, initiator, "办理人就是办件发起人"),
            (rules.when_same_as_previous, previous_actor, "办理人与上一步办理人相同"),
        ):
            if who is None or people != {who} or rule == "allow":
                continue
            self._note(session, instance, item, f"{label}（{who}），{RULE_ZH[rule]}。", rule)
            if rule == "skip":
                return candidates, f"{label}，按规则自动跳过"
            return Candidates(leader_posts(session, resolution, chain), [], "rule_leader"), None
        return candidates, None

    def _when_empty(self, session, instance, item, resolution, chain, rules) -> Candidates:
        reason = resolution.note or "找到的岗位没有在岗人员。"
        if rules.when_empty == "leader":
            posts = [p for p in leader_posts(session, resolution, chain) if _holders(session, [p])]
            if posts:
                self._note(session, instance, item, f"{reason}已{RULE_ZH['leader']}。", "leader")
                return Candidates(posts, [], "rule_leader")
        posts = admin_posts(session, chain)
        users = [] if posts else list(session.scalars(select(User).where(User.is_admin.is_(True))))
        self._note(session, instance, item, f"{reason}已{RULE_ZH['admin']}。", "admin")
        return Candidates(posts, users, "rule_admin")

    def _record(self, session, instance, item, candidates: Candidates) -> None:
        rows = [
            WorkItemCandidate(work_item_id=item.id, post_id=p.id, reason=candidates.reason)
            for p in candidates.posts
        ]
        rows += [
            WorkItemCandidate(work_item_id=item.id, user_id=u.id, reason=candidates.reason)
            for u in candidates.users
        ]
        holders = _holders(session, candidates.posts) + candidates.users
        for backup in backups_in_force(session, holders, instance.process_id, self.clock()):
            if _backup_covers(session, backup, candidates.posts):
                rows.append(
                    WorkItemCandidate(
                        work_item_id=item.id,
                        user_id=backup.backup_id,
                        on_behalf_of_id=backup.holder_id,
                        reason="backup",
                    )
                )
        session.add_all(rows)

    def _note(self, session, instance, item, message: str, rule: str) -> None:
        session.add(
            InstanceEvent(
                instance_id=instance.id,
                at=self.clock(),
                kind=InstanceEventKind.ROUTING_RULE,
                bpmn_id=item.bpmn_id,
                name=item.name,
                task_id=item.task_id,
                work_item_id=item.id,
                data={"rule": rule},
                message=message,
            )
        )
