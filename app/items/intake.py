"""An item's intake form: the form of its diagram's intake step, and checking answers.

The catalog (一件事 packages), the window and the portal read it here; the case's
own view of it (answers as stored, the form a case answered) is app/cases/intake_form.py.
"""

from __future__ import annotations

from app.engine import platform_runtime
from app.models.items import Item
from workflows.errors import InvalidTaskData, NotFound
from workflows.forms import validate_task_data

INTAKE_STEP = ("step", "intake")
# What the platform puts into a case's process (``process_data``, docs/DIAGRAMS.md 8.1):
# facts of the case, never a person's to set or override.
PLATFORM_KEYS = frozenset({
    "case_number", "item_code", "item_name", "applicant_type", "applicant_name", "applicant_id_number",
    "contact_phone", "place", "place_name", "lead_department", "accept_date", "green_channel",
})  # fmt: skip
# a step's own words, shown in the history, not an answer of the applicant
NOT_ANSWERS = frozenset({"opinion"})
REQUIRED = "此项为必填项"


def step_schema(session, definition_id: int) -> dict | None:
    """The intake step's form of a deployed diagram, without the keys the case provides."""
    step = platform_runtime(session).step_with(definition_id, *INTAKE_STEP)
    if step is None or step[1] is None:
        return None
    schema = step[1]
    properties = {k: v for k, v in schema.get("properties", {}).items() if k not in PLATFORM_KEYS}
    required = [k for k in schema.get("required", []) if k not in PLATFORM_KEYS]
    return {**schema, "properties": properties, "required": required}


def intake_schema(session, item: Item) -> dict | None:
    """The intake form of the item's diagram (its newest version), if it has one."""
    if not item.process_id:
        return None
    try:
        definition = platform_runtime(session).definition(item.process_id)
    except NotFound:
        return None
    return step_schema(session, definition.id)


def editable(schema: dict) -> set[str]:
    """The answers a person gives (not read-only, not a step's opinion)."""
    return {
        name
        for name, prop in (schema.get("properties") or {}).items()
        if isinstance(prop, dict) and not prop.get("readOnly") and name not in NOT_ANSWERS
    }


def problems(schema: dict | None, data: dict, *, complete: bool) -> dict[str, str]:
    """Every field at fault, by name; without ``complete`` a missing answer is no fault."""
    if not schema:
        return {}
    try:
        validate_task_data(schema, data)
    except InvalidTaskData as exc:
        found = dict(exc.fields)
    else:
        return {}
    if complete:
        return found
    return {k: v for k, v in found.items() if not (v == REQUIRED and is_empty(data.get(k)))}


def problems_message(schema: dict | None, found: dict[str, str]) -> str:
    """ "申请信息填写有误：小作坊名称（此项为必填项）；…", in the form's order."""
    properties = (schema or {}).get("properties") or {}
    order = {name: i for i, name in enumerate(properties)}
    parts = []
    for path in sorted(found, key=lambda p: order.get(top_name(p), len(order))):
        prop = properties.get(top_name(path))
        label = str(prop.get("title") or top_name(path)) if isinstance(prop, dict) else None
        parts.append(f"{label}（{found[path]}）" if label else found[path])
    return "申请信息填写有误：" + "；".join(parts) + "。"


def top_name(path) -> str:
    return str(path).split(".", 1)[0]


def is_empty(value) -> bool:
    return value is None or value == "" or value == []
