"""The item-specific part of the 受理台: the form of the diagram's intake step."""

from __future__ import annotations

from app.engine import platform_runtime
from app.models.items import Item
from app.schema_forms import fields, parse
from workflows.errors import NotFound

from .services import INTAKE_STEP

# Filled in from the case itself (see docs/DIAGRAMS.md); never asked twice.
CASE_KEYS = {
    "case_number", "item_code", "item_name", "applicant_type", "applicant_name", "applicant_id_number",
    "contact_phone", "place", "place_name", "lead_department", "accept_date", "green_channel",
}  # fmt: skip
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
    properties = {k: v for k, v in schema.get("properties", {}).items() if k not in CASE_KEYS}
    required = [k for k in schema.get("required", []) if k not in CASE_KEYS]
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
