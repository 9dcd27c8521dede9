"""统计分析: the center's numbers for a period, by item, department, township and channel.

Every figure is defined in docs/STATISTICS.md; the definitions are the code below.
Days are the center's local days; working days come from the center's calendar.
监督件 (差评整改、投诉、办不成事) are not approval cases and are left out.

The counting is done by the database in a few grouped queries per page: the cases of
the period come through indexed ranges (received, accepted, ``decided_on``, delivered,
closed; open at the end by ``accepted_at`` and ``ended_at``), grouped by item, lead
department, channel and place, then folded here into each table. A case's decision day
and working days used are kept on it when it is decided (cases/services.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, func, or_, select, union

from app.clock import CenterClock, center_clock
from app.models.auth import User
from app.models.cases import Case, CaseDocument
from app.models.items import FEEDBACK_KIND, Item
from app.models.org import Department, Post, Region, user_post
from app.models.supervision import CaseWarning, Deduction
from app.vocabulary import CaseChannel, CaseStatus

PERIODS = {
    "day": "日",
    "week": "周",
    "month": "月",
    "quarter": "季度",
    "year": "年",
    "custom": "自定义",
}
DIMENSIONS = {
    "item": "事项",
    "department": "主办部门",
    "township": "乡镇（街道）",
    "channel": "申请渠道",
    "window": "受理窗口",
}
LONGEST_CUSTOM_DAYS = 3 * 366
# roles that read statistics, and those among them that see a whole region
READERS = ("inspector", "chief_leader", "deputy_leader")
CLOSED_WITHOUT_DECISION = (CaseStatus.REFUSED, CaseStatus.WITHDRAWN, CaseStatus.TERMINATED)


# --- who sees what ---------------------------------------------------------------------


@dataclass
class Scope:
    """The cases a reader may count: places under ``regions``; with ``departments``
    set, only cases those departments lead (a department's own leaders)."""

    regions: list[Region]
    departments: set[int] | None = None

    @property
    def empty(self) -> bool:
        return not self.regions


def scope_of(session, user: User) -> Scope:
    """Inspectors see their region; leaders of a service center (a department with
    windows in it) their region too; other departments' leaders their own cases."""
    if user.is_admin:
        return Scope(list(session.scalars(select(Region).where(Region.parent_id.is_(None)))))
    regions: dict[int, Region] = {}
    departments: set[int] = set()
    whole = False
    for post in user.posts:
        if post.role not in READERS:
            continue
        department = post.department
        regions[department.region_id] = department.region
        if post.role == "inspector" or _runs_windows(session, department):
            whole = True
        else:
            departments |= _tree(session, department)
    return Scope(list(regions.values()), None if whole else departments)


def _tree(session, department: Department) -> set[int]:
    return set(
        session.scalars(
            select(Department.id).where(
                or_(Department.id == department.id, Department.parent_id == department.id)
            )
        )
    )


def _runs_windows(session, department: Department) -> bool:
    return (
        session.scalar(
            select(func.count(Post.id)).where(
                Post.role == "window_clerk", Post.department_id.in_(_tree(session, department))
            )
        )
        > 0
    )


def townships(session, scope: Scope) -> list[Region]:
    """The townships (and counties) a reader may filter by."""
    if scope.empty:
        return []
    return list(
        session.scalars(
            select(Region)
            .where(
                or_(*[Region.path.startswith(r.path) for r in scope.regions]),
                Region.level.in_(("county", "township")),
            )
            .order_by(Region.path)
        )
    )


# --- the period and the filters ---------------------------------------------------------


@dataclass
class Filters:
    start: date  # first local day, inclusive
    end: date  # last local day, inclusive
    region_id: int | None = None  # a township (or county) within the scope
    item_id: int | None = None
    department_id: int | None = None
    channel: str | None = None

    @property
    def label(self) -> str:
        if self.start == self.end:
            return f"{self.start:%Y年%m月%d日}"
        return f"{self.start:%Y年%m月%d日}—{self.end:%Y年%m月%d日}"


def period(kind: str, anchor: date, start: date | None = None, end: date | None = None):
    """The first and last day of the period of ``kind`` holding ``anchor``."""
    if kind == "day":
        return anchor, anchor
    if kind == "week":
        first = anchor - timedelta(days=anchor.weekday())
        return first, first + timedelta(days=6)
    if kind == "quarter":
        first = anchor.replace(month=(anchor.month - 1) // 3 * 3 + 1, day=1)
        return first, _month_end(_add_months(first, 2))
    if kind == "year":
        return anchor.replace(month=1, day=1), anchor.replace(month=12, day=31)
    if kind == "custom" and start and end and start <= end:
        return start, min(end, start + timedelta(days=LONGEST_CUSTOM_DAYS))
    first = anchor.replace(day=1)
    return first, _month_end(first)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _month_end(day: date) -> date:
    return _add_months(day.replace(day=1), 1) - timedelta(days=1)


def months_back(last: date, count: int) -> list[tuple[date, date]]:
    """The ``count`` months up to the one holding ``last``, oldest first."""
    first = last.replace(day=1)
    return [
        (_add_months(first, -n), _month_end(_add_months(first, -n)))
        for n in range(count - 1, -1, -1)
    ]


# --- reading the cases -----------------------------------------------------------------


def places_of(session, scope: Scope, filters: Filters):
    """The places of the scope (of the chosen township), as a subquery."""
    regions = scope.regions
    if filters.region_id:
        chosen = [r for r in townships(session, scope) if r.id == filters.region_id]
        regions = chosen or regions
    return select(Region.id).where(or_(*[Region.path.startswith(r.path) for r in regions]))


def _in_scope(stmt, session, scope: Scope, filters: Filters):
    """``stmt`` (over ``case_file``) limited to the reader's scope and the filters."""
    stmt = stmt.where(Case.place_id.in_(places_of(session, scope, filters)))
    stmt = stmt.where(Case.item_id.in_(select(Item.id).where(Item.kind != FEEDBACK_KIND)))
    if scope.departments is not None:
        stmt = stmt.where(Case.lead_department_id.in_(scope.departments or {0}))
    if filters.item_id:
        stmt = stmt.where(Case.item_id == filters.item_id)
    if filters.department_id:
        stmt = stmt.where(Case.lead_department_id == filters.department_id)
    if filters.channel:
        stmt = stmt.where(Case.channel == filters.channel)
    return stmt


# --- counting -----------------------------------------------------------------------------


@dataclass
class Counts:
    """One line of the volume table."""

    key: object = None
    label: str = "合计"
    received: int = 0
    accepted: int = 0
    corrected: int = 0
    refused: int = 0
    withdrawn: int = 0
    decided: int = 0
    delivered: int = 0
    in_progress: int = 0
    instant: int = 0  # 即办件 accepted
    on_time: int = 0
    early: int = 0
    timed: int = 0  # decided with a promised date: the base of the two rates
    overdue: int = 0  # in progress at the end of the period, past the promised date
    used: dict[int, int] = field(default_factory=dict)  # working days used → cases

    ADDED = (
        "received", "accepted", "corrected", "refused", "withdrawn", "decided", "delivered",
        "in_progress", "instant", "on_time", "early", "timed", "overdue",
    )  # fmt: skip

    def add(self, **values) -> None:
        for name, value in values.items():
            setattr(self, name, getattr(self, name) + int(value or 0))

    @property
    def instant_share(self) -> float | None:
        return self.instant / self.accepted if self.accepted else None

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.timed if self.timed else None

    @property
    def early_rate(self) -> float | None:
        return self.early / self.timed if self.timed else None

    @property
    def median_days(self) -> float | None:
        return percentile_of(self.used, 50)

    @property
    def p90_days(self) -> float | None:
        return percentile_of(self.used, 90)


def percentile(values: list, share: int) -> float | None:
    """Nearest-rank percentile (the value a person finds by sorting and counting)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share / 100 * len(ordered)) - 1)]


def percentile_of(counted: dict[int, int], share: int) -> int | None:
    """The nearest-rank percentile of values given as value → how many."""
    total = sum(counted.values())
    if not total:
        return None
    rank, seen = max(1, math.ceil(share / 100 * total)), 0
    for value in sorted(counted):
        seen += counted[value]
        if seen >= rank:
            return value
    return None


def _bounds(filters: Filters, clock: CenterClock) -> tuple[datetime, datetime]:
    return clock.start_of_day(filters.start), clock.start_of_day(filters.end + timedelta(days=1))


def _n(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


KEYS = (Case.item_id, Case.lead_department_id, Case.channel, Case.place_id, Case.received_by)


def _measured(result) -> tuple[list[str], list]:
    """The measures' names (after the four keys) and the rows as tuples."""
    return list(result.keys())[len(KEYS) :], result.all()


def _activity(session, scope: Scope, filters: Filters, clock: CenterClock):
    """What happened in the period, by item, department, channel and place (one query:
    the cases come through the five indexed ranges, then are counted once)."""
    s, e = _bounds(filters, clock)
    received = and_(Case.received_at >= s, Case.received_at < e)
    accepted = and_(Case.accepted_at >= s, Case.accepted_at < e)
    decided = Case.decided_on.between(filters.start, filters.end)
    delivered = and_(Case.delivered_at >= s, Case.delivered_at < e)
    closed = and_(Case.closed_at >= s, Case.closed_at < e)
    touched = union(
        *(select(Case.id).where(c) for c in (received, accepted, decided, delivered, closed))
    )
    stmt = (
        select(
            *KEYS,
            _n(received).label("received"),
            _n(accepted).label("accepted"),
            _n(and_(accepted, Item.kind == "instant")).label("instant"),
            _n(and_(closed, Case.status == CaseStatus.REFUSED)).label("refused"),
            _n(and_(closed, Case.status == CaseStatus.WITHDRAWN)).label("withdrawn"),
            _n(decided).label("decided"),
            _n(delivered).label("delivered"),
            _n(and_(decided, Case.promised_date.is_not(None))).label("timed"),
            _n(and_(decided, Case.decided_on <= Case.promised_date)).label("on_time"),
            _n(and_(decided, Case.decided_on < Case.promised_date)).label("early"),
        )
        .join(Item, Item.id == Case.item_id)
        .where(Case.id.in_(touched))
        .group_by(*KEYS)
    )
    return _measured(session.execute(_in_scope(stmt, session, scope, filters)))


def _open_at_end(session, scope: Scope, filters: Filters, clock: CenterClock):
    """Accepted by the end of the period and not ended then; those past their date."""
    _s, e = _bounds(filters, clock)
    stmt = (
        select(
            *KEYS,
            func.count(Case.id).label("in_progress"),
            _n(Case.promised_date < filters.end).label("overdue"),
        )
        .where(Case.accepted_at < e, Case.ended_at >= e)
        .group_by(*KEYS)
    )
    return _measured(session.execute(_in_scope(stmt, session, scope, filters)))


def _corrected(session, scope: Scope, filters: Filters, clock: CenterClock):
    """Cases told to correct in the period (a 补正材料通知书 at the window or in a step)."""
    s, e = _bounds(filters, clock)
    told = select(CaseDocument.case_id).where(
        CaseDocument.kind == "correction", CaseDocument.issued_at >= s, CaseDocument.issued_at < e
    )
    stmt = (
        select(*KEYS, func.count(Case.id).label("corrected"))
        .where(Case.id.in_(told))
        .group_by(*KEYS)
    )
    return _measured(session.execute(_in_scope(stmt, session, scope, filters)))


def _used(session, scope: Scope, filters: Filters):
    """Working days used by the cases decided in the period: (item, days) → cases."""
    stmt = (
        select(*KEYS, Case.used_workdays, func.count(Case.id))
        .where(Case.decided_on.between(filters.start, filters.end), Case.used_workdays.is_not(None))
        .group_by(*KEYS, Case.used_workdays)
    )  # fmt: skip
    return session.execute(_in_scope(stmt, session, scope, filters)).all()


@dataclass
class Report:
    filters: Filters
    total: Counts
    by: dict[str, list[Counts]]
    cards: list[dict]
    points_by_person: list[tuple[str, float]]
    limits: list[dict]


def report(session, scope: Scope, filters: Filters, clock: CenterClock | None = None) -> Report:
    clock = clock or center_clock(session)
    if scope.empty:
        return Report(filters, Counts(), {d: [] for d in DIMENSIONS}, [], [], [])
    names = _names(session, scope)
    width = len(Counts.ADDED)
    sums: dict[tuple[str, object], list[int]] = {}  # (dimension, key) → the measures
    used: dict[tuple[str, object], dict[int, int]] = {}
    town_of, window_of = names["town_of"], names["window_of"]

    # first by item, department, channel and township (a few hundred groups), then into
    # the total and each dimension's lines
    grouped: dict[tuple, list[int]] = {}
    for measures, rows in (
        _activity(session, scope, filters, clock),
        _open_at_end(session, scope, filters, clock),
        _corrected(session, scope, filters, clock),
    ):
        positions = [Counts.ADDED.index(m) for m in measures]
        for row in rows:
            key = (row[0], row[1], row[2], town_of.get(row[3]), window_of.get(row[4]))
            line = grouped.get(key)
            if line is None:
                line = grouped[key] = [0] * width
            for i, value in zip(positions, row[len(KEYS) :], strict=True):
                if value:
                    line[i] += int(value)

    def targets(item_id, department_id, channel, town_id, window_id):
        return (
            ("total", None),
            ("item", item_id),
            ("department", department_id),
            ("township", town_id),
            ("channel", channel),
            ("window", window_id),
        )

    for key, values in grouped.items():
        for target in targets(*key):
            line = sums.get(target)
            if line is None:
                line = sums[target] = [0] * width
            for i, value in enumerate(values):
                line[i] += value
    days_used: dict[tuple, int] = {}
    for item_id, department_id, channel, place_id, receiver, days, count in _used(
        session, scope, filters
    ):
        key = (
            item_id,
            department_id,
            channel,
            town_of.get(place_id),
            window_of.get(receiver),
            days,
        )
        days_used[key] = days_used.get(key, 0) + count
    for (*key, days), count in days_used.items():
        for target in targets(*key):
            counted = used.setdefault(target, {})
            counted[days] = counted.get(days, 0) + count

    def counts(target) -> Counts:
        dimension, key = target
        label = "合计" if dimension == "total" else names[dimension].get(key) or "（未指定）"
        line = Counts(key, label, used=used.get(target, {}))
        line.add(**dict(zip(Counts.ADDED, sums.get(target, [0] * width), strict=True)))
        return line

    total = counts(("total", None))
    by = {
        d: sorted(
            (counts(t) for t in set(sums) | set(used) if t[0] == d),
            key=lambda c: (-c.received, c.label),
        )
        for d in DIMENSIONS
    }
    s, e = _bounds(filters, clock)
    return Report(
        filters=filters,
        total=total,
        by=by,
        cards=_cards(session, scope, filters, s, e, names),
        points_by_person=_points(session, scope, s, e),
        limits=_limits(session, by["item"]),
    )


def _names(session, scope: Scope) -> dict:
    """Labels of each dimension's keys, and the township of every place in the scope."""
    items = {i.id: i.name for i in session.scalars(select(Item))}
    departments = {d.id: d.name for d in session.scalars(select(Department))}
    towns = [r for r in townships(session, scope) if r.level == "township"]
    town_of = {}
    for town in towns:
        for place_id in session.scalars(select(Region.id).where(Region.path.startswith(town.path))):
            town_of[place_id] = town.id
    windows, window_of = {}, {}
    for username, department in session.execute(
        select(User.username, Department)
        .join(user_post, user_post.c.user_id == User.id)
        .join(Post, Post.id == user_post.c.post_id)
        .join(Department, Department.id == Post.department_id)
        .where(Post.role == "window_clerk")
        .order_by(User.username, Post.id)
    ):
        parent = department.parent
        windows[department.id] = f"{parent.name} {department.name}" if parent else department.name
        window_of.setdefault(username, department.id)  # the receiver's (first) window
    return {
        "item": items,
        "department": departments,
        "township": {r.id: r.name for r in towns},
        "channel": CaseChannel.labels(),
        "window": windows,
        "town_of": town_of,
        "window_of": window_of,
    }


def _cards(session, scope: Scope, filters: Filters, start, end, names) -> list[dict]:
    """Yellow and red cards issued in the period, by the lead department of the case."""
    stmt = (
        select(Case.lead_department_id, CaseWarning.level, func.count(CaseWarning.id))
        .join(Case, Case.id == CaseWarning.case_id)
        .where(CaseWarning.issued_at >= start, CaseWarning.issued_at < end)
        .group_by(Case.lead_department_id, CaseWarning.level)
    )
    found: dict[object, dict] = {}
    for key, level, count in session.execute(_in_scope(stmt, session, scope, filters)):
        line = found.setdefault(
            key, {"department": names["department"].get(key) or "（未指定）", "yellow": 0, "red": 0}
        )
        line[level] += count
    return sorted(found.values(), key=lambda c: (-c["red"], -c["yellow"], c["department"]))


def _points(session, scope: Scope, start, end) -> list[tuple[str, float]]:
    """扣分 in the period by person (reversals net out), within the scope's departments."""
    stmt = (
        select(Deduction.username, func.sum(Deduction.points))
        .where(Deduction.at >= start, Deduction.at < end, Deduction.username.is_not(None))
        .group_by(Deduction.username)
    )
    if scope.departments is not None:
        stmt = stmt.where(Deduction.department_id.in_(scope.departments or {0}))
    found = [(name, float(points)) for name, points in session.execute(stmt) if points]
    people = dict(
        session.execute(
            select(User.username, User.display_name).where(
                User.username.in_([n for n, _p in found] or [""])
            )
        ).all()
    )
    return sorted(((people.get(n, n), p) for n, p in found), key=lambda p: (-p[1], p[0]))


def _limits(session, by_item: list[Counts]) -> list[dict]:
    """Per item: statutory and committed limits (the cut) and the working days used."""
    items = {i.id: i for i in session.scalars(select(Item))}
    found = []
    for line in by_item:
        item = items.get(line.key)
        if item is None:
            continue
        cut = (
            (item.statutory_days - item.committed_days) / item.statutory_days
            if item.statutory_days
            else None
        )
        found.append(
            {
                "item": item.name,
                "statutory": item.statutory_days,
                "committed": item.committed_days,
                "cut": cut,
                "decided": line.decided,
                "median": line.median_days,
                "p90": line.p90_days,
            }
        )
    return found
