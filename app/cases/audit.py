"""What the audit chain records of a case: every case event (the window's acts,
notices, pauses, warnings, 督办, 抄送, 挂起) and every change of the case's own
rows (its facts and status, its materials and their files, its documents, its
pauses, its fees and refunds), which ``audit verify`` then checks against the tables."""

from __future__ import annotations

from app.audit.chain import Covered, data_digest
from app.models.cases import Case, CaseDocument, CaseEvent, CaseMaterial, CasePause
from app.models.feedback import CaseRating
from app.models.library import LibraryEntry, LibraryUse
from app.models.payments import Payment, PaymentRefund


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


def _case_of(row) -> int:
    return row.case_id


COVERED = (
    Covered(Case, "case", complete=True, case_of=lambda case: case.id),
    Covered(CaseEvent, "case", complete=True, case_of=_case_of),
    Covered(CaseMaterial, "files", complete=True, case_of=_case_of),
    Covered(CaseDocument, "case", complete=True, case_of=_case_of),
    Covered(CasePause, "case", complete=True, case_of=_case_of),
    Covered(Payment, "case", complete=True, case_of=_case_of),
    Covered(PaymentRefund, "case", complete=True, case_of=_case_of),
    # 资料共享库: what was kept (and consent withdrawn), and each reuse
    Covered(LibraryEntry, "case", complete=True, case_of=lambda entry: entry.source_case_id),
    Covered(LibraryUse, "case", complete=True, case_of=_case_of),
    Covered(CaseRating, "case", complete=True, case_of=_case_of),  # 好差评
)
