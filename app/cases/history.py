"""The history people read: process steps and the window's acts on a case, in time order.

One table for the task page and the case page: who (display names, B角 as
"B 代 A"), when, which step, the decision chosen and the opinion written.
Gateways, claims and other bookkeeping stay in the event log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.models.auth import User
from app.models.cases import Case, CaseEvent
from app.schema_forms import fields
from workflows import models as m
from workflows.runtime import Runtime

OPINION = "opinion"
EVENT_ZH = {
    "started": "发起办件",
    "task_completed": "办理",
    "auto_completed": "按规则自动跳过",
    "timer_fired": "时限到期",
    "error": "流程出错",
    "terminated": "终止办件",
    "returned": "退回",
    "taken_back": "撤回",
    "transferred": "转办",
    "delegated": "委派",
    "delegation_resolved": "答复委派",
    "signer_added": "加签",
    "signer_removed": "减签",
}
OPERATIONS = ("returned", "taken_back", "transferred", "delegated", "delegation_resolved",
              "signer_added", "signer_removed")  # fmt: skip
CASE_EVENT_ZH = {
    "received": "收件",
    "document_issued": "出具文书",
    "accepted": "受理",
    "correction_requested": "一次性告知补正",
    "correction_received": "接收补正材料",
    "refused": "不予受理",
    "withdrawn": "撤件",
    "decided": "办结",
    "delivered": "送达",
    "paused": "暂停计时",
    "resumed": "恢复计时",
    "warning": "预警",
    "urged": "督办",
    "copied": "抄送",
    "suspended": "挂起",
}


@dataclass
class HistoryRow:
    at: datetime
    step: str
    actor: str | None  # display names
    on_behalf_of: str | None
    decision: str | None  # the title of the chosen ``decision``
    opinion: str | None  # the step's ``opinion``, or the system's message


def history_rows(
    session, runtime: Runtime, instance: m.ProcessInstance, events: list[m.InstanceEvent]
) -> list[HistoryRow]:
    """The process's steps as people read them."""
    shown = [e for e in events if e.kind in EVENT_ZH and (e.kind != "task_completed" or e.actor)]
    names = display_names(session, {e.actor for e in shown} | {e.on_behalf_of for e in shown})
    forms = runtime.process_specs(instance.definition_id).forms
    rows = []
    for event in shown:
        data = event.data if isinstance(event.data, dict) else {}
        form = forms.get(event.bpmn_id) if event.kind == "task_completed" else None
        rows.append(
            HistoryRow(
                at=event.at,
                step=_step_of(event),
                actor=names.get(event.actor, event.actor),
                on_behalf_of=names.get(event.on_behalf_of, event.on_behalf_of),
                decision=_decision_title(form["schema"] if form else None, data),
                opinion=data.get(OPINION) if event.kind == "task_completed" else _note(event),
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
            step=CASE_EVENT_ZH.get(e.kind, e.kind),
            actor=names.get(e.actor, e.actor),
            on_behalf_of=None,
            decision=None,
            opinion=e.message,
        )
        for e in events
    ]
    if case.instance is not None:
        process = history_rows(session, runtime, case.instance, runtime.history(case.instance.id))
        rows += [r for r in process if r.step != EVENT_ZH["started"]]
    return sorted(rows, key=lambda r: r.at)


def _step_of(event: m.InstanceEvent) -> str:
    if event.kind in ("started", "terminated"):
        return EVENT_ZH[event.kind]
    return event.name or event.bpmn_id or ""


def _note(event: m.InstanceEvent) -> str | None:
    """The system's words on a step nobody filled in; an operation with its reason."""
    if event.kind in ("auto_completed", "timer_fired", "error"):
        return EVENT_ZH[event.kind] + (f"：{event.message}" if event.message else "")
    if event.kind in OPERATIONS:
        data = event.data if isinstance(event.data, dict) else {}
        whom = data.get("to_name") or data.get("to") or data.get("signer")
        head = EVENT_ZH[event.kind] + (
            f"至 {whom}" if whom and event.kind != "signer_removed" else ""
        )
        if event.kind in ("signer_added", "signer_removed") and whom:
            head = f"{EVENT_ZH[event.kind]} {whom}"
        return head + (f"：{event.message}" if event.message else "")
    return event.message


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
