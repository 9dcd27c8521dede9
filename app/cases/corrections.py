"""补正 inside the process: a reviewing department asks the applicant for more material.

The convention (docs/DIAGRAMS.md 8.5): a review step's form offers 补正 with a
``decision`` whose value ``return`` sends the case back to the window (a
``clock=paused`` step or the re-opened ``step=intake``), and a list field
``correction_items`` (补正材料清单, 一次性告知). When the process arrives at that
window step, the platform issues the 补正材料通知书 with the department's list and
stops the clock; the window's task page and the case page show the list until the
window records the material received.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import object_session

from app.models.auth import User
from app.models.cases import Case, CaseDocument, CasePause

CORRECTION = "return"  # the ``decision`` value that asks for 补正
LIST_FIELD = "correction_items"
_NUMBERING = re.compile(r"^\s*(?:[(（]?\d+[)）.．、]|[一二三四五六七八九十]+[、.．]|[-*•·])\s*")
_SEPARATORS = re.compile(r"[\r\n；;]+")


@dataclass(frozen=True)
class CorrectionRequest:
    """What a department asked for, as the window and the case page show it."""

    step: str
    department: str | None
    items: list[str]
    opinion: str | None
    document: CaseDocument | None
    pause: CasePause | None
    # files the applicant sent online since (网上提交补正材料), for the window to check
    sent: tuple = ()


def asking_step(completed) -> object | None:
    """The step just completed that chose 补正 (its ``decision`` is ``return``), if any."""
    return next(
        (w for w in reversed(completed) if (w.data or {}).get("decision") == CORRECTION), None
    )


def listed_items(text) -> list[str]:
    """The materials of a 补正 list: one per line (or ；), their numbering dropped."""
    if isinstance(text, list):
        return [str(entry).strip() for entry in text if str(entry).strip()]
    parts = (_NUMBERING.sub("", part).strip() for part in _SEPARATORS.split(str(text or "")))
    return [part for part in parts if part]


def notice_facts(session, asked) -> dict:
    """The facts of the 补正材料通知书 issued for the step ``asked`` (a completed work item)."""
    data = asked.data or {}
    opinion = str(data.get("opinion") or "").strip()
    items = listed_items(data.get(LIST_FIELD)) or ([opinion] if opinion else [])
    return {
        "missing": [{"name": name, "note": ""} for name in items] or [{"name": "见审查意见"}],
        "deadline_note": opinion,
        "in_process": True,
        "requested_step": asked.name,
        "requested_by": department_of(session, asked.completed_by),
    }


def department_of(session, username: str | None) -> str | None:
    """The department a person works in (their first post's), by name."""
    if not username:
        return None
    user = session.scalars(select(User).where(User.username == username)).first()
    posts = list(user.posts) if user is not None else []
    if not posts:
        return None
    department = posts[0].department
    parent = department.parent
    return f"{parent.name}{department.name}" if parent is not None else department.name


def waiting_correction(case: Case | None) -> CorrectionRequest | None:
    """The 补正 the case waits for inside its process, with the department's list; None if
    the case is not waiting for one. Used by templates (``cases/_correction_notice.html``)."""
    session = object_session(case) if case is not None else None
    if session is None or case.id is None:
        return None
    pause = session.scalars(
        select(CasePause).where(
            CasePause.case_id == case.id,
            CasePause.kind == "correction",
            CasePause.ended_at.is_(None),
        )
    ).first()
    if pause is None:
        return None
    notice = next(
        (
            d
            for d in reversed(case.documents)
            if d.kind == "correction"
            and d.facts.get("in_process")
            and d.issued_at >= pause.started_at
        ),
        None,
    )
    if notice is None:
        return CorrectionRequest("", None, [], None, None, pause)
    facts = notice.facts
    sent = tuple(
        m
        for m in case.materials
        if m.item_material_id is None
        and m.received_round
        and m.received_at is not None
        and m.received_at >= pause.started_at
    )
    return CorrectionRequest(
        step=facts.get("requested_step") or "",
        department=facts.get("requested_by"),
        items=[m.get("name", "") for m in facts.get("missing") or []],
        opinion=facts.get("deadline_note") or None,
        document=notice,
        pause=pause,
        sent=sent,
    )
