"""Where an item's cases wait: per step of its diagram, the working time it took, the
time before someone claimed it, the share done after its due time and the 退回 count.

Counted over the steps of the item's cases (in the reader's scope) that were completed
or sent back in the period; times are working hours of the center's calendar.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from app.clock import CenterClock, center_clock
from app.models.cases import Case
from app.models.items import Item
from workflows import models as wm

from .services import Filters, Scope, _in_scope, percentile

SLOWEST = 5


@dataclass
class Step:
    bpmn_id: str
    name: str
    hours: list[float] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)
    due: int = 0
    late: int = 0
    returns: int = 0
    slowest: list[tuple[float, str]] = field(default_factory=list)  # (hours, case number)

    @property
    def count(self) -> int:
        return len(self.hours)

    def figures(self) -> dict:
        return {
            "name": self.name,
            "count": self.count,
            "median": _round(percentile(self.hours, 50)),
            "p90": _round(percentile(self.hours, 90)),
            "wait_median": _round(percentile(self.waits, 50)),
            "overdue_share": round(self.late / self.due, 4) if self.due else None,
            "returns": self.returns,
            "slowest": [
                {"number": number, "hours": _round(hours)}
                for hours, number in sorted(self.slowest, reverse=True)[:SLOWEST]
            ],
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _is_return(item: wm.WorkItem) -> bool:
    return item.status == wm.RETURNED or (item.data or {}).get("decision") == "return"


def steps(
    session, scope: Scope, filters: Filters, item: Item, clock: CenterClock | None = None
) -> dict[str, dict]:
    """bpmn id → the step's figures, for the item's cases in the scope."""
    clock = clock or center_clock(session)
    start = clock.start_of_day(filters.start)
    end = clock.start_of_day(filters.end + timedelta(days=1))
    cases = _in_scope(
        select(Case.instance_id, Case.number).where(Case.instance_id.is_not(None)),
        session,
        scope,
        Filters(filters.start, filters.end, filters.region_id, item.id),
    )
    numbers = dict(session.execute(cases).all())
    found: dict[str, Step] = {}
    work = session.scalars(
        select(wm.WorkItem).where(
            wm.WorkItem.instance_id.in_(list(numbers) or [0]),
            wm.WorkItem.completed_at >= start,
            wm.WorkItem.completed_at < end,
            wm.WorkItem.status.in_((wm.DONE, wm.RETURNED)),
        )
    )
    for done in work:
        step = found.get(done.bpmn_id)
        if step is None:
            step = found[done.bpmn_id] = Step(done.bpmn_id, done.name or done.bpmn_id)
        hours = clock.working_hours_between(done.created_at, done.completed_at)
        step.hours.append(hours)
        step.slowest.append((hours, numbers[done.instance_id]))
        step.slowest = sorted(step.slowest, reverse=True)[:SLOWEST]
        if done.claimed_at is not None:
            step.waits.append(clock.working_hours_between(done.created_at, done.claimed_at))
        if done.due_at is not None:
            step.due += 1
            step.late += done.completed_at > done.due_at
        step.returns += _is_return(done)
    return {bpmn_id: step.figures() for bpmn_id, step in found.items()}


def scale(figures: dict[str, dict]) -> dict[str, str]:
    """Each step's colour on a five-band scale of its median working hours (a legend
    of the same bands is drawn beside the diagram)."""
    medians = [f["median"] for f in figures.values() if f["median"] is not None]
    if not medians:
        return {}
    top = max(medians) or 1
    bands = defaultdict(str)
    for bpmn_id, f in figures.items():
        if f["median"] is None:
            continue
        bands[bpmn_id] = f"heat-{min(4, int(f['median'] / top * 5))}"
    return dict(bands)
