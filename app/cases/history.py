"""The history people read: process steps and the window's acts on a case, in time order.

One table for the task page and the case page: who (display names, B角 as
"B 代 A"), when, which step, the decision chosen, the opinion written and the
files the step attached.
Gateways, claims and other bookkeeping stay in the event log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from app.models.auth import User
from app.models.cases import Case, CaseEvent
from app.schema_forms import fields
from app.vocabulary import CaseEventKind, InstanceEventKind
from workflows import models as m
from workflows.runtime import Runtime

OPINION = "opinion"
# the process's steps people read; claims, releases and other bookkeeping stay in the log
SHOWN = frozenset(
    (
        InstanceEventKind.STARTED,
        InstanceEventKind.TASK_COMPLETED,
        InstanceEventKind.AUTO_COMPLETED,
        InstanceEventKind.TIMER_FIRED,
        InstanceEventKind.ERROR,
        InstanceEventKind.TERMINATED,
        *InstanceEventKind.operations(),
    )
)


@dataclass
class Attachment:
    """A file a step attached: its field's label, the file's name, where to fetch it."""

    label: str
    name: str
    field: str
    work_item_id: int


@dataclass
class HistoryRow:
    at: datetime
    step: str
    actor: str | None  # display names
    on_behalf_of: str | None
    decision: str | None  # the title of the chosen ``decision``
    opinion: str | None  # the step's ``opinion``, or the system's message
    attachments: list[Attachment] = field(default_factory=list)


def history_rows(
    session, runtime: Runtime, instance: m.ProcessInstance, events: list[m.InstanceEvent]
) -> list[HistoryRow]:
    """The process's steps as people read them."""
    shown = [
        e
        for e in events
        if e.kind in SHOWN and (e.kind != InstanceEventKind.TASK_COMPLETED or e.actor)
    ]
    names = display_names(session, {e.actor for e in shown} | {e.on_behalf_of for e in shown})
    forms = runtime.process_specs(instance.definition_id).forms
    rows = []
    for event in shown:
        data = event.data if isinstance(event.data, dict) else {}
        form = forms.get(event.bpmn_id) if event.kind == InstanceEventKind.TASK_COMPLETED else None
        rows.append(
            HistoryRow(
                at=event.at,
                step=_step_of(event),
                actor=names.get(event.actor, event.actor),
                on_behalf_of=names.get(event.on_behalf_of, event.on_behalf_of),
                decision=_decision_title(form["schema"] if form else None, data),
                opinion=data.get(OPINION)
                if event.kind == InstanceEventKind.TASK_COMPLETED
                else _note(event),
                attachments=_attachments(form["schema"] if form else None, data, event),
            )
        )
    return rows


def case_history(session, runtime: Runtime, case: Case) -> list[HistoryRow]:
    """The window's acts on the case and its process's steps, in time order."""
    events = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
    ).all()
    names = display_names(session, {e.actor for e in events})
    rows = [
        HistoryRow(
            at=e.at,
            step=CaseEventKind.label_of(e.kind),
            actor=names.get(e.actor, e.actor),
            on_behalf_of=None,
            decision=None,
            opinion=e.message,
        )
        for e in events
    ]
    if case.instance is not None:
        process = history_rows(session, runtime, case.instance, runtime.history(case.instance.id))
        rows += [r for r in process if r.step != InstanceEventKind.STARTED.label]
    return sorted(rows, key=lambda r: r.at)


def _step_of(event: m.InstanceEvent) -> str:
    kind = InstanceEventKind.parse(event.kind)
    if kind in (InstanceEventKind.STARTED, InstanceEventKind.TERMINATED):
        return kind.label
    return event.name or event.bpmn_id or ""


def _note(event: m.InstanceEvent) -> str | None:
    """The system's words on a step nobody filled in; an operation with its reason."""
    kind = InstanceEventKind.parse(event.kind)
    said = f"：{event.message}" if event.message else ""
    if kind in (
        InstanceEventKind.AUTO_COMPLETED,
        InstanceEventKind.TIMER_FIRED,
        InstanceEventKind.ERROR,
    ):
        return kind.label + said
    if kind in InstanceEventKind.operations():
        data = event.data if isinstance(event.data, dict) else {}
        whom = data.get("to_name") or data.get("to") or data.get("signer")
        if not whom:
            return kind.label + said
        if kind in (InstanceEventKind.SIGNER_ADDED, InstanceEventKind.SIGNER_REMOVED):
            return f"{kind.label} {whom}{said}"
        return f"{kind.label}至 {whom}{said}"
    return event.message


def _attachments(schema: dict | None, data: dict, event: m.InstanceEvent) -> list[Attachment]:
    """The files the step's own form fields hold ("<sha256>/<name>")."""
    if not schema or event.work_item_id is None:
        return []
    found = []
    for f in fields(schema, values=data):
        if f.widget == "file" and not f.read_only and f.file_name:
            found.append(Attachment(f.label, f.file_name, f.name, event.work_item_id))
    return found


def _decision_title(schema: dict | None, data: dict) -> str | None:
    if not schema or "decision" not in data:
        return None
    decision = next((f for f in fields(schema, values=data) if f.name == "decision"), None)
    return decision.display if decision is not None else None


def display_names(session, usernames: set[str | None]) -> dict[str, str]:
    wanted = [u for u in usernames if u]
    if not wanted:
        return {}
    rows = session.execute(
        select(User.username, User.display_name).where(User.username.in_(wanted))
    )
    return {username: name for username, name in rows}
