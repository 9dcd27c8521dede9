"""The item-specific part of an application: the form of the diagram's intake step.

The 受理台 asks it, the case page shows it (and lets the window complete it
before 受理), every task page shows its answers. Its answers are checked here,
all at once, with the form's own labels.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from app.items.intake import (  # noqa: F401  (the cases' own names for them)
    INTAKE_STEP,
    NOT_ANSWERS,
    PLATFORM_KEYS,
    REQUIRED,
    editable,
    intake_schema,
    is_empty,
    problems,
    problems_message,
    step_schema,
    top_name,
)
from app.models.cases import Case
from app.models.items import Item
from app.schema_forms import fields, parse
from workflows.errors import InvalidTaskData

from .errors import CaseError

PREFIX = "f_"


# --- the form --------------------------------------------------------------------------


def case_schema(session, case: Case) -> dict | None:
    """The intake form a case answered: its process's version once accepted."""
    if case.instance is not None:
        return step_schema(session, case.instance.definition_id)
    return intake_schema(session, case.item)


def application_data(case: Case) -> dict:
    """The answers as they stand: the process's data once accepted (a reopened intake
    step may have corrected them), the case's own before."""
    if case.instance is not None:
        return case.instance.data or {}
    return case.data or {}


def intake_fields(session, item: Item, form, errors: dict) -> list:
    """The intake step's fields, showing what was typed (``form``) and the errors."""
    schema = intake_schema(session, item)
    if not schema:
        return []
    values = parse(schema, form, prefix=PREFIX, keep_empty=True) if form else {}
    return fields(schema, values=values, errors=errors, prefix=PREFIX)


def edit_fields(schema: dict, data: dict, form=None, errors: dict | None = None) -> list:
    """The case page's form to complete the answers: what is stored, or what was typed."""
    values = parse(schema, form, prefix=PREFIX, keep_empty=True) if form is not None else data
    shown = {**schema, "properties": _only(schema, editable(schema))}
    return fields(shown, values=values, errors=errors or {}, prefix=PREFIX)


def parse_intake(session, item: Item, form) -> dict:
    schema = intake_schema(session, item)
    return parse(schema, form, prefix=PREFIX) if schema else {}


def revision(data: dict | None) -> str:
    """A short digest of stored answers: an edit made on an older page is refused."""
    text = json.dumps(data or {}, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# --- checking the answers ----------------------------------------------------------------


def validate_intake(session, item: Item, data: dict, *, complete: bool) -> dict:
    """The answers to the item's intake form, or a CaseError naming every field at fault.

    At 收件 (``complete=False``) an answer may still be missing, but one given must
    be right; at 受理 and 接收补正 (``complete=True``) every required answer is due.
    """
    schema = intake_schema(session, item)
    found = problems(schema, data, complete=complete)
    if found:
        raise CaseError(problems_message(schema, found), fields=found)
    return data


def missing_answers(schema: dict | None, data: dict) -> list[str]:
    """The labels of the required answers not yet given, in the form's order."""
    found = problems(schema, data, complete=True)
    properties = (schema or {}).get("properties") or {}
    return [
        str(prop.get("title") or name)
        for name, prop in properties.items()
        if found.get(name) == REQUIRED and is_empty(data.get(name))
    ]


def check_intake_data(session, item: Item, data) -> dict:
    """The intake form's answers sent by another system (``POST /cases``'s ``data``).

    Only the fields of the item's intake form are taken: a key it does not ask
    for (a case fact such as ``place`` or ``case_number`` above all) is refused,
    named in ``fields``, rather than slipped into the process.
    """
    if not isinstance(data, dict):
        raise InvalidTaskData("data 必须是 JSON 对象。", {"data": "必须是 JSON 对象。"})
    asked = set((intake_schema(session, item) or {}).get("properties") or {})
    unknown = {key: "不是本事项受理表单的字段，不能提交。" for key in data if key not in asked}
    if unknown:
        raise InvalidTaskData("data 含有受理表单以外的字段。", unknown)
    return data


# --- the answers, read -------------------------------------------------------------------


@dataclass
class Answer:
    """One answer as reviewers read it."""

    name: str
    label: str
    text: str  # option titles, 是/否, dates; "" when not given
    file_name: str = ""  # for a file field: the uploaded file's name


def answers(schema: dict | None, data: dict) -> list[Answer]:
    """The applicant's answers under the form's labels (no ids, no raw JSON)."""
    if not schema:
        return []
    shown = {**schema, "properties": _only(schema, editable(schema))}
    found = []
    for f in fields(shown, values={k: data.get(k) for k in shown["properties"]}):
        found.append(Answer(f.name, f.label, _text(f, shown["properties"][f.name]), f.file_name))
    return found


def _text(f, prop: dict) -> str:
    if f.value is None or f.value == "":
        return ""
    if isinstance(f.value, dict):
        inner = prop.get("properties") or {}
        return "；".join(
            f"{(inner.get(k) or {}).get('title') or k}：{v}"
            for k, v in f.value.items()
            if v not in (None, "")
        )
    if f.widget == "datetime-local":
        return f.text.replace("T", " ")
    return f.display


def _only(schema: dict, names: set[str]) -> dict:
    return {k: v for k, v in (schema.get("properties") or {}).items() if k in names}
