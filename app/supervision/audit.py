"""What the audit chain records of the ledger: every deduction and its reversal."""

from __future__ import annotations

from sqlalchemy import select

from app.audit.chain import Covered
from app.models.supervision import CaseWarning, Deduction


def deduction_row(session, deduction: Deduction) -> dict:
    return {
        "at": deduction.at,
        "source": "ledger",
        "action": "deduction" if deduction.points > 0 else "deduction_reversed",
        "actor": deduction.created_by,
        "on_behalf_of": deduction.username,  # the person the points concern, if any
        "case_id": _case_of_warning(session, deduction.warning_id),
        "subject": f"部门 #{deduction.department_id}" if deduction.department_id else None,
        "message": f"{deduction.points} 分：{deduction.reason}",
    }


def _case_of_warning(session, warning_id: int | None) -> int | None:
    if warning_id is None:
        return None
    return session.scalar(select(CaseWarning.case_id).where(CaseWarning.id == warning_id))


COVERED = (Covered(Deduction, "ledger", complete=True),)
