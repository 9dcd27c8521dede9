"""The item-specific part of the 受理台: the form of the diagram's intake step."""

from __future__ import annotations

from app.engine import platform_runtime
from app.models.items import Item
from app.schema_forms import fields, parse
from workflows.errors import InvalidTaskData, NotFound

from .services import INTAKE_STEP, PLATFORM_KEYS

PREFIX = "f_"


def intake_schema(session, item: Item) -> dict | None:
    """The intake step's form without the keys the case already provides."""
    if not item.process_id:
        return None
    runtime = platform_runtime(session)
    try:
        definition = runtime.definition(item.process_id)
    except NotFound:
        return None
    step = runtime.step_with(definition.id, *INTAKE_STEP)
    if step is None or step[1] is None:
        return None
    schema = step[1]
    properties = {k: v for k, v in schema.get("properties", {}).items() if k not in PLATFORM_KEYS}
    required = [k for k in schema.get("required", []) if k not in PLATFORM_KEYS]
    return {**schema, "properties": properties, "required": required}


def intake_fields(session, item: Item, form, errors: dict) -> list:
    """The intake step's fields, showing what was typed (``form``) and the errors."""
    schema = intake_schema(session, item)
    if not schema:
        return []
    values = parse(schema, form, prefix=PREFIX, keep_empty=True) if form else {}
    return fields(schema, values=values, errors=errors, prefix=PREFIX)


def parse_intake(session, item: Item, form) -> dict:
    schema = intake_schema(session, item)
    return parse(schema, form, prefix=PREFIX) if schema else {}


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
