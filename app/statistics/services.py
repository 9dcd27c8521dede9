"""统计分析: the center's numbers for a period, by item, department, township and channel.

Every figure is defined in docs/STATISTICS.md; the definitions are the code below.
Days are the center's local days; working days come from the center's calendar.
监督件 (差评整改、投诉、办不成事) are not approval cases and are left out.

The case rows of the period are read once and counted here (the counts are cheap;
reading is the cost). The 1,000,000-case figures in the issue will need daily facts
kept by the case observers; until then this reads the case table with its indexes.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select

from app.clock import CenterClock, center_clock
from app.models.auth import User
from app.models.cases import Case, CaseDocument, CasePause
from app.models.items import FEEDBACK_KIND, Item
from app.models.org import Department, Post, Region
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


@dataclass
class Row:
    """One case as the statistics count it."""

    id: int
    number: str
    item_id: int
    item_kind: str
    department_id: int | None
    place_path: str
    channel: str
    status: str
    received: date
    accepted: date | None
    decided: date | None
    delivered: date | None
    closed: date | None
    promised: date | None
    accepted_at: datetime | None = None  # the stored moment (the clock starts after it)
    used_days: int | None = None  # working days from acceptance to decision, pauses out


def _in_scope(stmt, session, scope: Scope, filters: Filters):
    regions = scope.regions
    if filters.region_id:
        chosen = [r for r in townships(session, scope) if r.id == filters.region_id]
        regions = chosen or regions
    places = select(Region.id).where(or_(*[Region.path.startswith(r.path) for r in regions]))
    stmt = stmt.where(Case.place_id.in_(places))
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


def read_cases(session, scope: Scope, filters: Filters, clock: CenterClock) -> list[Row]:
    """The cases that did anything in the period or were open during it."""
    if scope.empty:
        return []
    start, end = (
        clock.start_of_day(filters.start),
        clock.start_of_day(filters.end + timedelta(days=1)),
    )
    stmt = (
        select(
            Case.id,
            Case.number,
            Case.item_id,
            Item.kind,
            Case.lead_department_id,
            Region.path,
            Case.channel,
            Case.status,
            Case.received_at,
            Case.accepted_at,
            Case.decided_at,
            Case.delivered_at,
            Case.closed_at,
            Case.promised_date,
        )
        .join(Item, Item.id == Case.item_id)
        .join(Region, Region.id == Case.place_id)
        .where(Case.received_at < end, or_(Case.closed_at.is_(None), Case.closed_at >= start))
    )
    day = clock.day_of
    rows = [
        Row(
            id=r[0],
            number=r[1],
            item_id=r[2],
            item_kind=r[3],
            department_id=r[4],
            place_path=r[5],
            channel=r[6],
            status=r[7],
            received=day(r[8]),
            accepted=day(r[9]) if r[9] else None,
            decided=day(r[10]) if r[10] else None,
            delivered=day(r[11]) if r[11] else None,
            closed=day(r[12]) if r[12] else None,
            promised=r[13],
            accepted_at=r[9],
        )
        for r in session.execute(_in_scope(stmt, session, scope, filters))
    ]
    _working_days(session, rows, clock)
    return rows


def _working_days(session, rows: list[Row], clock: CenterClock) -> None:
    """Working days used: from the first working day after acceptance to the decision's
    day, less the working days the clock was paused (补正、特别程序、挂起)."""
    decided = [r for r in rows if r.decided and r.accepted_at]
    paused: dict[int, int] = defaultdict(int)
    for case_id, days in session.execute(
        select(CasePause.case_id, CasePause.paused_workdays).where(
            CasePause.case_id.in_([r.id for r in decided] or [0]),
            CasePause.paused_workdays.is_not(None),
        )
    ):
        paused[case_id] += days or 0
    for row in decided:
        start = clock.first_working_day(row.accepted_at)
        spent = clock.calendar.workdays_between(start, row.decided) if row.decided > start else 0
        row.used_days = max(0, spent - paused[row.id])


def _corrected(session, rows: list[Row], start: datetime, end: datetime) -> set[int]:
    """Cases told to correct in the period (a 补正材料通知书 at the window or in a step)."""
    return set(
        session.scalars(
            select(CaseDocument.case_id).where(
                CaseDocument.case_id.in_([r.id for r in rows] or [0]),
                CaseDocument.kind == "correction",
                CaseDocument.issued_at >= start,
                CaseDocument.issued_at < end,
            )
        )
    )


# --- counting ---------------------------------------------------------------------------


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
    used: list[int] = field(default_factory=list)

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
        return percentile(self.used, 50)

    @property
    def p90_days(self) -> float | None:
        return percentile(self.used, 90)


def percentile(values: list[int], share: int) -> float | None:
    """Nearest-rank percentile (the value a person finds by sorting and counting)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share / 100 * len(ordered)) - 1)]


def _count(line: Counts, row: Row, filters: Filters, corrected: set[int]) -> None:
    within = lambda day: day is not None and filters.start <= day <= filters.end  # noqa: E731
    line.received += within(row.received)
    line.accepted += within(row.accepted)
    line.instant += within(row.accepted) and row.item_kind == "instant"
    line.corrected += row.id in corrected
    line.refused += row.status == CaseStatus.REFUSED and within(row.closed)
    line.withdrawn += row.status == CaseStatus.WITHDRAWN and within(row.closed)
    line.delivered += within(row.delivered)
    if within(row.decided):
        line.decided += 1
        if row.promised is not None:
            line.timed += 1
            line.on_time += row.decided <= row.promised
            line.early += row.decided < row.promised
        if row.used_days is not None:
            line.used.append(row.used_days)
    open_at_end = (
        row.accepted is not None
        and row.accepted <= filters.end
        and (row.decided is None or row.decided > filters.end)
        and (row.closed is None or row.closed > filters.end)
    )
    if open_at_end:
        line.in_progress += 1
        line.overdue += row.promised is not None and row.promised < filters.end


def township_of(path: str, townships_by_path: dict[str, Region]) -> Region | None:
    for prefix, region in townships_by_path.items():
        if path.startswith(prefix):
            return region
    return None


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
    rows = read_cases(session, scope, filters, clock)
    start = clock.start_of_day(filters.start)
    end = clock.start_of_day(filters.end + timedelta(days=1))
    corrected = _corrected(session, rows, start, end)
    names = _names(session, rows, scope)
    total = Counts()
    lines: dict[str, dict[object, Counts]] = {d: {} for d in DIMENSIONS}
    for row in rows:
        _count(total, row, filters, corrected)
        keys = {
            "item": row.item_id,
            "department": row.department_id,
            "township": getattr(township_of(row.place_path, names["towns"]), "id", None),
            "channel": row.channel,
        }
        for dimension, key in keys.items():
            line = lines[dimension].get(key)
            if line is None:
                label = names[dimension].get(key) or "（未指定）"
                line = lines[dimension][key] = Counts(key, label)
            _count(line, row, filters, corrected)
    by = {d: sorted(v.values(), key=lambda c: (-c.received, c.label)) for d, v in lines.items()}
    return Report(
        filters=filters,
        total=total,
        by=by,
        cards=_cards(session, rows, start, end, names),
        points_by_person=_points(session, scope, start, end),
        limits=_limits(session, by["item"]),
    )


def _names(session, rows: list[Row], scope: Scope) -> dict:
    items = {i.id: i.name for i in session.scalars(select(Item))}
    departments = {
        d.id: d.name
        for d in session.scalars(
            select(Department).where(Department.id.in_({r.department_id for r in rows} or {0}))
        )
    }
    towns = {r.path: r for r in townships(session, scope) if r.level == "township"}
    return {
        "item": items,
        "department": departments,
        "township": {r.id: r.name for r in towns.values()},
        "channel": CaseChannel.labels(),
        "towns": towns,
    }


def _cards(session, rows: list[Row], start, end, names) -> list[dict]:
    """Yellow and red cards issued in the period, by the lead department of the case."""
    department_of = {r.id: r.department_id for r in rows}
    found: dict[object, dict] = {}
    for case_id, level in session.execute(
        select(CaseWarning.case_id, CaseWarning.level).where(
            CaseWarning.case_id.in_(list(department_of) or [0]),
            CaseWarning.issued_at >= start,
            CaseWarning.issued_at < end,
        )
    ):
        key = department_of[case_id]
        line = found.setdefault(
            key, {"department": names["department"].get(key) or "（未指定）", "yellow": 0, "red": 0}
        )
        line[level] += 1
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


def trend(session, scope: Scope, filters: Filters, months: int = 12) -> list[tuple[str, Counts]]:
    """Received, decided and the on-time rate month by month up to the period's end."""
    clock = center_clock(session)
    found = []
    for first, last in months_back(filters.end, months):
        monthly = Filters(
            first, last, filters.region_id, filters.item_id, filters.department_id, filters.channel
        )
        rows = read_cases(session, scope, monthly, clock)
        line = Counts(label=f"{first.year}年{first.month}月")
        for row in rows:
            _count(line, row, monthly, set())
        found.append((line.label, line))
    return found
