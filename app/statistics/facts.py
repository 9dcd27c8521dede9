"""Monthly facts: a finished month's counts kept once (by the scheduler), so the 12-month
trend adds up a few thousand fact rows instead of reading a year of cases.

A month is filled once it has ended in the center's time: its received and decided cases
do not change after that. Filling is one grouped query per month and safe in several
processes at once (the month's ``MonthFilled`` row is taken first; a second filler finds
it and stops). A month not filled yet is counted live from the cases.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import and_, func, insert, select, union
from sqlalchemy.exc import IntegrityError

from app.clock import CenterClock, center_clock
from app.models.cases import Case
from app.models.items import FEEDBACK_KIND, Item
from app.models.statistics import MonthFact, MonthFilled

from .services import Counts, Filters, Scope, _in_scope, _month_end, _n, months_back, places_of

KEPT_MONTHS = 36


def fill_month(session, first: date, clock: CenterClock) -> bool:
    """Keep the facts of the month starting ``first``; False if they were kept already."""
    try:
        with session.begin_nested():
            session.add(MonthFilled(month=first))
            session.flush()
    except IntegrityError:
        return False
    last = _month_end(first)
    s, e = clock.start_of_day(first), clock.start_of_day(last + timedelta(days=1))
    received = and_(Case.received_at >= s, Case.received_at < e)
    decided = Case.decided_on.between(first, last)
    keys = (Case.item_id, Case.lead_department_id, Case.channel, Case.place_id)
    rows = session.execute(
        select(
            *keys,
            _n(received),
            _n(decided),
            _n(and_(decided, Case.promised_date.is_not(None))),
            _n(and_(decided, Case.decided_on <= Case.promised_date)),
        )
        .where(
            Case.item_id.in_(select(Item.id).where(Item.kind != FEEDBACK_KIND)),
            (received | decided),
        )
        .group_by(*keys)
    ).all()
    if rows:
        session.execute(
            insert(MonthFact),
            [
                {"month": first, "item_id": item, "department_id": department, "channel": channel,
                 "place_id": place, "received": r, "decided": d, "timed": t, "on_time": o}
                for item, department, channel, place, r, d, t, o in rows
            ],
        )  # fmt: skip
    return True


def fill(session, clock: CenterClock | None = None) -> list[date]:
    """Keep every finished month of the last three years not kept yet."""
    clock = clock or center_clock(session)
    this_month = clock.today().replace(day=1)
    done = set(session.scalars(select(MonthFilled.month)))
    filled = []
    for first, _last in months_back(this_month - timedelta(days=1), KEPT_MONTHS):
        if first not in done and fill_month(session, first, clock):
            filled.append(first)
    return filled


def _kept(session, months: list[date], scope: Scope, filters: Filters) -> dict[date, tuple]:
    """(received, decided, timed, on_time) of kept months, within the scope and filters."""
    stmt = (
        select(
            MonthFact.month,
            func.sum(MonthFact.received),
            func.sum(MonthFact.decided),
            func.sum(MonthFact.timed),
            func.sum(MonthFact.on_time),
        )
        .where(
            MonthFact.month.in_(months), MonthFact.place_id.in_(places_of(session, scope, filters))
        )
        .group_by(MonthFact.month)
    )
    if scope.departments is not None:
        stmt = stmt.where(MonthFact.department_id.in_(scope.departments or {0}))
    if filters.item_id:
        stmt = stmt.where(MonthFact.item_id == filters.item_id)
    if filters.department_id:
        stmt = stmt.where(MonthFact.department_id == filters.department_id)
    if filters.channel:
        stmt = stmt.where(MonthFact.channel == filters.channel)
    return {month: tuple(int(v or 0) for v in values) for month, *values in session.execute(stmt)}


def trend(session, scope: Scope, filters: Filters, months: int = 12) -> list[tuple[str, Counts]]:
    """Received, decided and the on-time rate month by month up to the period's end: kept
    months from their facts, the others (this month, or not kept yet) from the cases."""
    clock = center_clock(session)
    spans = months_back(filters.end, months)
    lines = {first: Counts(label=f"{first.year}年{first.month}月") for first, _last in spans}
    if scope.empty:
        return [(line.label, line) for line in lines.values()]
    firsts = [first for first, _last in spans]
    kept = set(session.scalars(select(MonthFilled.month).where(MonthFilled.month.in_(firsts))))
    found = _kept(session, sorted(kept), scope, filters) if kept else {}
    live = [(first, last) for first, last in spans if first not in kept]
    if live:
        found.update(_live(session, scope, filters, live, clock))
    for first, values in found.items():
        received, decided, timed, on_time = values
        lines[first].add(received=received, decided=decided, timed=timed, on_time=on_time)
    return [(line.label, line) for line in lines.values()]


def _live(session, scope: Scope, filters: Filters, spans, clock: CenterClock) -> dict:
    """The months of ``spans`` counted from the cases (one query: four columns a month)."""
    columns = []
    for first, last in spans:
        s, e = clock.start_of_day(first), clock.start_of_day(last + timedelta(days=1))
        decided = Case.decided_on.between(first, last)
        columns += [
            _n(and_(Case.received_at >= s, Case.received_at < e)),
            _n(decided),
            _n(and_(decided, Case.promised_date.is_not(None))),
            _n(and_(decided, Case.decided_on <= Case.promised_date)),
        ]
    start = clock.start_of_day(spans[0][0])
    end = clock.start_of_day(spans[-1][1] + timedelta(days=1))
    touched = union(
        select(Case.id).where(Case.received_at >= start, Case.received_at < end),
        select(Case.id).where(Case.decided_on.between(spans[0][0], spans[-1][1])),
    )
    stmt = _in_scope(select(*columns).where(Case.id.in_(touched)), session, scope, filters)
    values = session.execute(stmt).one()
    return {
        first: tuple(int(v or 0) for v in values[4 * n : 4 * n + 4])
        for n, (first, _last) in enumerate(spans)
    }
