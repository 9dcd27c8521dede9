"""What the audit chain records of a case: every case event (the window's acts,
notices, pauses, warnings, 督办, 抄送, 挂起)."""

from __future__ import annotations

from app.audit.chain import data_digest
from app.models.cases import CaseEvent


def case_event_row(_session, event: CaseEvent) -> dict:
    return {
        "at": event.at,
        "source": "case",
        "action": event.kind,
        "actor": event.actor,
        "case_id": event.case_id,
        "message": event.message,
        "data_sha256": data_digest(event.data),
    }
