"""What a 准予行政许可决定书 permits: the item, the applicant and the case's own answers.

The content is read from the diagram's forms, not from code per item: the answers
of the 受理 step (``step=intake``: 设置地点, 经营场所, 设施尺寸 …), or, for a diagram
without one (a 即办件 decided in a single step), of the step that decided. A date
field whose name ends with ``_until`` is the permit's validity (有效期限).
"""

from __future__ import annotations

from sqlalchemy import select

from app.engine import platform_runtime
from app.vocabulary import WorkItemStatus
from workflows import models as wm

# Answers that say how the case was decided, not what is permitted.
NOT_CONTENT = frozenset({
    "decision", "opinion", "correction_items", "result", "result_text", "certificate_no",
    "registration_no", "received_on", "received_materials", "correction_note",
})  # fmt: skip
VALIDITY_SUFFIX = "_until"


def permit_facts(session, instance, completed=(), case_keys=frozenset()) -> dict:
    """``permit`` (label and value rows) and ``valid_until`` for the decision's facts.

    ``completed`` are the work items the deciding change completed; ``case_keys`` the
    case's facts (applicant, place …), printed elsewhere.
    """
    schema = _content_form(session, instance, completed)
    data = instance.data or {}
    rows, valid_until = [], None
    for name, prop in ((schema or {}).get("properties") or {}).items():
        if name in case_keys or not _is_content(name, prop) or data.get(name) in (None, "", []):
            continue
        if name.endswith(VALIDITY_SUFFIX) and prop.get("format") == "date":
            valid_until = str(data[name])
            continue
        rows.append({"label": prop.get("title") or name, "value": shown(prop, data[name])})
    return {"permit": rows, "valid_until": valid_until}


def _is_content(name: str, prop) -> bool:
    return (
        isinstance(prop, dict)
        and name not in NOT_CONTENT
        and not prop.get("readOnly")
        and prop.get("format") != "file"
    )


def shown(prop: dict, value) -> str:
    """A value as printed: a choice by its Chinese title, yes/no as 是/否."""
    for choice in prop.get("oneOf") or []:
        if isinstance(choice, dict) and choice.get("const") == value:
            return str(choice.get("title") or value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(shown(prop.get("items") or {}, v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _content_form(session, instance, completed) -> dict | None:
    """The 受理 step's form, or the form of the last step done where there is none."""
    runtime = platform_runtime(session)
    intake = runtime.step_with(instance.definition_id, "step", "intake")
    if intake is not None and intake[1]:
        return intake[1]
    if completed:
        return runtime.form_schema(completed[-1])
    last = session.scalars(
        select(wm.WorkItem)
        .where(wm.WorkItem.instance_id == instance.id, wm.WorkItem.status == WorkItemStatus.DONE)
        .order_by(wm.WorkItem.completed_at.desc(), wm.WorkItem.id.desc())
        .limit(1)
    ).first()
    return runtime.form_schema(last) if last is not None else None
