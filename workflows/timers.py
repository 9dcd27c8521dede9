"""Timer due times as the runtime stores and fires them.

SpiffWorkflow evaluates a timer against the real clock when the timer is first
reached and stores its due time; the instance row keeps the earliest one
(``next_timer_at``), so the scheduler finds due instances with one query and
fires them at its own ``now``.
"""

from __future__ import annotations

from datetime import datetime

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from . import spiff_compat
from .timeutil import to_naive_utc


def timer_due(task, definition) -> datetime | None:
    """When a waiting timer task is due (naive UTC), or None."""
    try:
        due = spiff_compat.timer_due(task, definition)
        return None if due is None else to_naive_utc(due)
    except (TypeError, ValueError):
        return None


def waiting_timers(workflow) -> list:
    """``(task, definition)`` of every timer the workflow waits for."""
    found = []
    for task in spiff_compat.waiting_event_tasks(workflow):
        definition = task.task_spec.event_definition
        # an event-based gateway waits for its branches' events, a timer among them
        for each in getattr(definition, "event_definitions", None) or [definition]:
            if isinstance(each, TimerEventDefinition):
                found.append((task, each))
    return found


def fire_due(workflow, now: datetime) -> list:
    """Mark the timers due at ``now`` as fired; returns them as ``(task, definition)``.

    The workflow still has to refresh its timers and run on.
    """
    fired = []
    for task, definition in waiting_timers(workflow):
        due = timer_due(task, definition)
        if due is not None and due <= now:
            spiff_compat.fire_timer(task, definition)
            fired.append((task, definition))
    return fired


def next_timer(workflow) -> datetime | None:
    """The earliest due time of the timers the workflow waits for."""
    dues = [timer_due(task, definition) for task, definition in waiting_timers(workflow)]
    dues = [d for d in dues if d is not None]
    return min(dues) if dues else None


def boundary_timer_due(task) -> datetime | None:
    """The due time of a timer on the boundary of a user task's step (its time limit)."""
    parent = task.parent
    if parent is None or not isinstance(parent.task_spec, BoundaryEventSplit):
        return None
    dues = []
    for sibling in parent.children:
        definition = getattr(sibling.task_spec, "event_definition", None)
        if sibling is not task and isinstance(definition, TimerEventDefinition):
            dues.append(timer_due(sibling, definition))
    dues = [d for d in dues if d is not None]
    return min(dues) if dues else None
