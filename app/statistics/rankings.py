"""红黑榜: departments, windows and people ranked for a week or a month (日评周考).

Each is scored from what the platform recorded in the period (docs/STATISTICS.md):

- 按时率: departments: their cases decided on time (the case's promised date);
  windows and people: the steps they completed by the step's due time;
- 满意率: the 好差评 ratings attached to them (非常满意、满意、基本满意 of all);
- 扣分: the deduction ledger's points;
- 投诉: complaints (投诉处理 cases) filed in the period and assigned to the department.

score = 100 × (the weighted mean of the rates present) − points × 扣分权重 − complaints ×
投诉权重. The rules are the application's ``RANKING_RULES`` (defaults below) and are
printed with every ranking.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select

from app.clock import center_clock
from app.feedback.services import COMPLAINT
from app.models.auth import User
from app.models.cases import Case
from app.models.feedback import CaseRating
from app.models.items import Item
from app.models.org import Department, Post, Region, user_post
from app.models.supervision import Deduction
from workflows import models as wm

from .services import Filters, Scope, _in_scope, report

SATISFIED = ("5", "4", "3")
KINDS = {"department": "部门", "window": "窗口", "person": "工作人员"}


@dataclass(frozen=True)
class Rules:
    on_time_weight: float = 0.6
    satisfaction_weight: float = 0.4
    point_penalty: float = 1.0  # per point of 扣分
    complaint_penalty: float = 2.0  # per complaint
    red_at_least: float = 95.0  # 红榜: this score or more, best first
    red_size: int = 3
    black_below: float = 85.0  # 黑榜: below this score, worst first

    def described(self) -> list[str]:
        return [
            f"得分 = 100 ×（按时率 × {self.on_time_weight:g} + 满意率 × {self.satisfaction_weight:g}）"
            "÷ 所列比率的权重之和（缺少的比率不计）",
            f"每扣 1 分减 {self.point_penalty:g} 分，每件投诉减 {self.complaint_penalty:g} 分",
            f"红榜：得分不低于 {self.red_at_least:g} 分的前 {self.red_size} 名",
            f"黑榜：得分低于 {self.black_below:g} 分的全部，按得分从低到高",
        ]


def rules() -> Rules:
    """The configured rules; unknown keys and wrong types fall back to the defaults."""
    configured = current_app.config.get("RANKING_RULES") or {}
    known = {f.name: f.type for f in fields(Rules)}
    values = {}
    for name, value in configured.items():
        if name in known and isinstance(value, int | float) and not isinstance(value, bool):
            values[name] = int(value) if name == "red_size" else float(value)
    return Rules(**values)


@dataclass
class Standing:
    kind: str
    key: object
    name: str
    timed: int = 0
    on_time: int = 0
    ratings: int = 0
    satisfied: int = 0
    points: float = 0.0
    complaints: int = 0
    score: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.timed if self.timed else None

    @property
    def satisfaction(self) -> float | None:
        return self.satisfied / self.ratings if self.ratings else None

    def scored(self, rule: Rules) -> Standing:
        parts = [
            (rate, weight)
            for rate, weight in (
                (self.on_time_rate, rule.on_time_weight),
                (self.satisfaction, rule.satisfaction_weight),
            )
            if rate is not None and weight > 0
        ]
        if not parts:
            return self
        base = 100 * sum(r * w for r, w in parts) / sum(w for _r, w in parts)
        penalty = self.points * rule.point_penalty + self.complaints * rule.complaint_penalty
        self.score = round(base - penalty, 2)
        return self


@dataclass
class Ranking:
    rules: Rules
    standings: dict[str, list[Standing]]

    def red(self, kind: str) -> list[Standing]:
        ranked = [s for s in self.standings[kind] if s.score is not None]
        good = [s for s in ranked if s.score >= self.rules.red_at_least]
        return good[: self.rules.red_size]

    def black(self, kind: str) -> list[Standing]:
        ranked = [s for s in self.standings[kind] if s.score is not None]
        return sorted((s for s in ranked if s.score < self.rules.black_below), key=_worst)


def _best(s: Standing):
    return (-(s.score if s.score is not None else -1e9), s.name)


def _worst(s: Standing):
    return (s.score, s.name)


def ranking(session, scope: Scope, filters: Filters) -> Ranking:
    rule = rules()
    clock = center_clock(session)
    start = clock.start_of_day(filters.start)
    end = clock.start_of_day(filters.end + timedelta(days=1))
    counted = report(session, scope, filters, clock).by["department"]
    in_scope = _in_scope(select(Case.id), session, scope, filters)
    departments = _departments(session, [c.key for c in counted if c.key], scope)
    windows = _windows(session, scope)
    people: dict[str, Standing] = {}

    for line in counted:  # departments: their cases decided on time
        if line.key in departments:
            departments[line.key].timed += line.timed
            departments[line.key].on_time += line.on_time

    members = _members(session, [w.key for w in windows.values()])
    for username, due, done in session.execute(  # windows and people: steps by their due
        select(wm.WorkItem.completed_by, wm.WorkItem.due_at, wm.WorkItem.completed_at)
        .join(Case, Case.instance_id == wm.WorkItem.instance_id)
        .where(
            Case.id.in_(in_scope),
            wm.WorkItem.completed_at >= start,
            wm.WorkItem.completed_at < end,
            wm.WorkItem.due_at.is_not(None),
            wm.WorkItem.completed_by.is_not(None),
        )
    ):
        for line in [_person(people, username)] + [windows[w] for w in members.get(username, ())]:
            line.timed += 1
            line.on_time += done <= due

    for rating in session.scalars(  # 满意率: ratings given in the period
        select(CaseRating).where(
            CaseRating.case_id.in_(in_scope),
            CaseRating.rated_at >= start,
            CaseRating.rated_at < end,
        )
    ):
        good = rating.level in SATISFIED
        targets = [departments.get(rating.department_id), windows.get(rating.window_id)]
        targets += [_person(people, name) for name in rating.handlers or []]
        for line in filter(None, targets):
            line.ratings += 1
            line.satisfied += good

    deductions = select(Deduction.department_id, Deduction.username, Deduction.points).where(
        Deduction.at >= start, Deduction.at < end
    )
    if scope.departments is not None:
        deductions = deductions.where(Deduction.department_id.in_(scope.departments or {0}))
    for department_id, username, points in session.execute(deductions):
        if department_id in departments:
            departments[department_id].points += float(points)
        if username:
            _person(people, username).points += float(points)

    for name, count in _complaints(session, scope, start, end).items():
        line = next((d for d in departments.values() if d.name == name), None)
        if line is not None:
            line.complaints += count

    _name_people(session, people)
    standings = {
        "department": list(departments.values()),
        "window": list(windows.values()),
        "person": list(people.values()),
    }
    for kind, lines in standings.items():
        recorded = [s for s in lines if s.timed or s.ratings or s.points or s.complaints]
        standings[kind] = sorted((s.scored(rule) for s in recorded), key=_best)
    return Ranking(rule, standings)


def _person(people: dict, username: str) -> Standing:
    if username not in people:
        people[username] = Standing("person", username, username)
    return people[username]


def _name_people(session, people: dict) -> None:
    names = dict(
        session.execute(
            select(User.username, User.display_name).where(User.username.in_(list(people) or [""]))
        ).all()
    )
    for username, line in people.items():
        line.name = names.get(username, username)


def _departments(session, keys: list[int], scope: Scope) -> dict[int, Standing]:
    """The departments leading cases in the scope (a department head: their own)."""
    keys = set(keys)
    if scope.departments is not None:
        keys &= scope.departments
    return {
        d.id: Standing("department", d.id, d.name)
        for d in session.scalars(select(Department).where(Department.id.in_(keys or {0})))
    }


def _windows(session, scope: Scope) -> dict[int, Standing]:
    """The departments holding window posts in the scope's regions (none for a
    department head)."""
    if scope.departments is not None or scope.empty:
        return {}
    regions = {r.id for r in scope.regions}
    found = session.scalars(
        select(Department)
        .join(Post, Post.department_id == Department.id)
        .where(Post.role == "window_clerk", Department.region_id.in_(_under(session, regions)))
        .distinct()
    )
    return {d.id: Standing("window", d.id, _window_name(d)) for d in found}


def _under(session, region_ids: set[int]):
    paths = session.scalars(select(Region.path).where(Region.id.in_(region_ids))).all()
    return select(Region.id).where(or_(*[Region.path.startswith(p) for p in paths]))


def _window_name(department: Department) -> str:
    parent = department.parent
    return f"{parent.name} {department.name}" if parent is not None else department.name


def _members(session, window_ids: list[int]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = defaultdict(list)
    for username, department_id in session.execute(
        select(User.username, Post.department_id)
        .join(user_post, user_post.c.user_id == User.id)
        .join(Post, Post.id == user_post.c.post_id)
        .where(Post.department_id.in_(window_ids or [0]), Post.role == "window_clerk")
    ):
        found[username].append(department_id)
    return found


def _complaints(session, scope: Scope, start, end) -> dict[str, int]:
    """投诉处理 cases filed in the period in the scope's regions, by the department they
    were assigned to (分办)."""
    counted: dict[str, int] = defaultdict(int)
    stmt = (
        select(wm.ProcessInstance.data)
        .join(Case, Case.instance_id == wm.ProcessInstance.id)
        .join(Item, Item.id == Case.item_id)
        .where(
            Item.code == COMPLAINT,
            Case.received_at >= start,
            Case.received_at < end,
            Case.place_id.in_(_under(session, {r.id for r in scope.regions})),
        )
    )
    for (data,) in session.execute(stmt):
        name = (data or {}).get("handling_department")
        if name:
            counted[name] += 1
    return counted
