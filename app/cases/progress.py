"""Where a case stands on its diagram: done, active and overdue steps, time spent on each."""

from __future__ import annotations

from collections import defaultdict

from flask import Response
from sqlalchemy import select

from app.clock import center_clock
from app.engine import platform_runtime
from app.models.supervision import CaseWarning
from app.vocabulary import InstanceEventKind, WorkItemStatus
from workflows import models as wm
from workflows.xmlsafe import parse_xml

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def bpmn_file(definition: wm.ProcessDefinition) -> bytes | None:
    """The deployment file that holds the definition's process."""
    for f in definition.deployment.files:
        if f.kind != "bpmn":
            continue
        tree = parse_xml(f.content)
        if tree.find(f".//{{{BPMN_NS}}}process[@id='{definition.process_id}']") is not None:
            return f.content
    return None


def step_marks(session, case, events=None) -> dict:
    """bpmn ids of done / active / overdue steps and the time each took.

    ``events``: the instance's history when the caller has read it already.
    """
    instance = case.instance
    items = session.scalars(select(wm.WorkItem).where(wm.WorkItem.instance_id == instance.id)).all()
    clock = center_clock(session)
    now = clock.now()
    red_items = set(
        session.scalars(
            select(CaseWarning.work_item_id).where(
                CaseWarning.case_id == case.id, CaseWarning.level == "red"
            )
        )
    )
    if events is None:
        events = platform_runtime().history(instance.id)
    done = {
        e.bpmn_id
        for e in events
        if e.kind in (InstanceEventKind.TASK_COMPLETED, InstanceEventKind.AUTO_COMPLETED)
        and e.bpmn_id
    }
    active, overdue = set(), set()
    days: dict[str, int] = defaultdict(int)
    seconds: dict[str, float] = defaultdict(float)
    for item in items:
        if item.status == WorkItemStatus.OPEN:
            active.add(item.bpmn_id)
            if item.id in red_items or (item.due_at is not None and item.due_at < now):
                overdue.add(item.bpmn_id)
        end = item.completed_at or (now if item.status == WorkItemStatus.OPEN else None)
        if end is not None:
            days[item.bpmn_id] += max(0, clock.workdays_spanned(item.created_at, end))
            seconds[item.bpmn_id] += max(0.0, (end - item.created_at).total_seconds())
    return {
        "done": sorted(done - active),
        "active": sorted(active - overdue),
        "overdue": sorted(overdue),
        "spent": {k: _spent(days[k], seconds[k]) for k in seconds},
    }


def _spent(workdays: int, seconds: float) -> str:
    """Working days once a step spans days; hours (or minutes) within its first day."""
    if workdays:
        return f"{workdays} 个工作日"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} 小时"
    return f"{max(1, round(seconds / 60))} 分钟"


def diagram_download(content: bytes | str, filename: str) -> Response:
    """A designer's BPMN or DMN file, never rendered by the browser that fetches it.

    The viewer reads it with ``fetch``; opened directly it is a download, and even a
    browser that ignored that would find no type to render and no right to run scripts.
    """
    response = Response(content, mimetype="application/octet-stream")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response
