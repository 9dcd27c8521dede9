"""JSON Schema forms in HTML: the fields to draw, and the submitted values read back.

A task's form is a JSON Schema (draft 2020-12, or one built from Camunda
``formData``). ``fields`` describes its top-level properties for the template
``desk/_form_fields.html``; ``parse`` turns the posted form into JSON values.
The browser gets hints (required, lengths, ranges, patterns) but the server
stays the judge: ``workflows.forms.validate_task_data`` checks what ``parse``
returns, so a value that does not convert is passed on as typed and reported
there ("类型不正确") next to its field.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field, replace
from typing import Any

LONG_TEXT_LENGTH = 200  # a maxLength above this gets a textarea
LONG_TEXT_NAMES = ("opinion", "reason")
LONG_TEXT_SUFFIXES = ("_note", "_items")
RADIO_MAX_OPTIONS = 3
INPUT_TYPES = {"integer": "number", "number": "number"}
_LOCAL_MINUTES = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_FALSE_TEXTS = ("", "0", "false", "off", "no")
_MISSING = object()


@dataclass
class Option:
    value: str  # as posted by the browser
    label: str
    selected: bool = False


@dataclass
class Field:
    """One top-level property of a form schema, ready to draw."""

    name: str  # the property (data key)
    input_name: str  # the HTML name and id: prefix + name
    label: str
    # text, textarea, number, integer, date, datetime-local, select, radio, checkbox,
    # multi-checkbox, file
    widget: str
    kind: str = "string"  # the JSON type the value gets
    required: bool = False  # required now: mark with an asterisk
    required_when: str | None = None  # for a conditional field: "选择“需补正”时必填"
    read_only: bool = False  # shown as text, never submitted
    help: str | None = None
    value: Any = None
    error: str | None = None
    options: list[Option] = field(default_factory=list)
    attrs: dict[str, str] = field(default_factory=dict)  # min max step minlength maxlength pattern
    default: Any = None

    @property
    def input_type(self) -> str:
        return INPUT_TYPES.get(self.widget, self.widget)

    @property
    def browser_required(self) -> bool:
        """Let the browser insist only where the answer cannot change with other fields."""
        return (
            self.required
            and not self.read_only
            and self.required_when is None
            and self.widget not in ("checkbox", "multi-checkbox")
        )

    @property
    def checked(self) -> bool:
        if isinstance(self.value, str):
            return self.value.strip().lower() not in _FALSE_TEXTS
        return bool(self.value)

    @property
    def text(self) -> str:
        """The value as an input shows it."""
        value = self.value
        if value is None or isinstance(value, bool):
            return ""
        if isinstance(value, list):
            return "\n".join(_text(v) for v in value)
        if self.widget == "datetime-local" and isinstance(value, str):
            match = _LOCAL_MINUTES.match(value.replace(" ", "T"))
            return match.group(0) if match else value
        return _text(value)

    @property
    def file_name(self) -> str:
        """The uploaded file's name, for a file field."""
        sha, _, name = _text(self.value).partition("/")
        return name if len(sha) == 64 else ""

    @property
    def display(self) -> str:
        """The value as people read it: option titles, 是/否, lists joined."""
        if self.widget == "file":
            return self.file_name
        if self.widget == "checkbox" and self.value is not None:
            return "是" if self.checked else "否"
        if isinstance(self.value, dict):
            return json.dumps(self.value, ensure_ascii=False)
        values = self.value if isinstance(self.value, list) else [self.value]
        labels = {o.value: o.label for o in self.options}
        shown = [labels.get(_text(v), _text(v)) for v in values if v is not None and v != ""]
        return "、".join(shown)


def fields(
    schema: dict | None,
    *,
    values: dict | None = None,
    errors: dict | None = None,
    readonly=(),
    prefix: str = "",
) -> list[Field]:
    """The form's top-level properties in schema order, with values and error messages.

    ``values`` are JSON values (``parse`` output); a key present with ``None``
    means "left empty" (no default is shown). ``errors`` maps field names (or
    paths such as ``items.0``) to messages. Names in ``readonly`` are shown as text.
    """
    schema = schema or {}
    values = values or {}
    messages = field_errors(schema, errors or {})
    top_required = set(_list(schema.get("required")))
    conditions = _conditions(schema)
    properties = _properties(schema)
    result = []
    for name, prop in properties.items():
        governing = [c for c in conditions if name in c.then_required]
        hints = [c.hint(properties) for c in governing] if name not in top_required else []
        described = _describe(name, prop, name in top_required)
        value = values.get(name, described.default)
        result.append(
            replace(
                described,
                input_name=prefix + name,
                required=name in top_required or any(c.holds(values) for c in governing),
                required_when="；".join(hints) or None,
                read_only=described.read_only or name in readonly,
                value=value,
                error=messages.get(name),
                options=_selected(described.options, value),
            )
        )
    return result


def parse(
    schema: dict | None, form, *, prefix: str = "", readonly=(), keep_empty: bool = False
) -> dict:
    """The posted values as JSON, typed by the schema; read-only fields are ignored.

    Numbers that do not convert stay strings (the server reports them); empty
    fields are left out (so "required" is reported), or kept as ``None`` with
    ``keep_empty`` (to show a form again exactly as it was typed).
    """
    schema = schema or {}
    top_required = set(_list(schema.get("required")))
    data = {}
    for name, prop in _properties(schema).items():
        described = _describe(name, prop, name in top_required)
        if described.read_only or name in readonly:
            continue
        value = _posted(prop, described, _getlist(form, prefix + name))
        if value is not _MISSING:
            data[name] = value
        elif keep_empty:
            data[name] = None
    return data


def field_errors(schema: dict | None, errors: dict) -> dict[str, str]:
    """Messages by top-level field (``items.0`` counts for ``items``)."""
    names = _properties(schema or {})
    found: dict[str, str] = {}
    for path, message in errors.items():
        top = str(path).split(".", 1)[0]
        if top in names:
            found.setdefault(top, message)
    return found


def other_errors(schema: dict | None, errors: dict) -> list[str]:
    """Messages that belong to no field of the form (shown above it)."""
    names = _properties(schema or {})
    return [m for path, m in errors.items() if str(path).split(".", 1)[0] not in names]


# --- the schema, read ------------------------------------------------------------


def _properties(schema: dict) -> dict[str, dict]:
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return {}
    return {name: prop for name, prop in properties.items() if isinstance(prop, dict)}


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _describe(name: str, prop: dict, required: bool) -> Field:
    """What the schema alone says about a field (no value, no error)."""
    kind, options = _type(prop), _options(prop)
    widget = _widget(name, prop, kind, options, required)
    return Field(
        name=name,
        input_name=name,
        label=str(prop.get("title") or name),
        widget=widget,
        kind=kind,
        read_only=bool(prop.get("readOnly")) or kind == "object",
        help=prop.get("description"),
        options=[Option(_text(v), label) for v, label in options],
        attrs=_attrs(prop, widget),
        default=prop.get("default"),
    )


def _type(prop: dict) -> str:
    kind = prop.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if isinstance(kind, str):
        return kind
    if "items" in prop:
        return "array"
    consts = [value for value, _label in _options(prop)]
    if consts and all(isinstance(c, bool) for c in consts):
        return "boolean"
    if consts and all(isinstance(c, int) and not isinstance(c, bool) for c in consts):
        return "integer"
    return "string"


def _options(prop: dict) -> list[tuple[Any, str]]:
    """(value, title) pairs of an enum, a oneOf/anyOf of consts, or an array's items."""
    source = prop.get("items") if isinstance(prop.get("items"), dict) else prop
    if isinstance(source.get("enum"), list):
        return [(v, _text(v)) for v in source["enum"]]
    for key in ("oneOf", "anyOf"):
        entries = _list(source.get(key))
        if entries and all(isinstance(e, dict) and "const" in e for e in entries):
            return [(e["const"], str(e.get("title") or _text(e["const"]))) for e in entries]
    return []


def _is_long_text(name: str, prop: dict) -> bool:
    length = prop.get("maxLength")
    return (
        (_is_number(length) and length > LONG_TEXT_LENGTH)
        or name in LONG_TEXT_NAMES
        or name.endswith(LONG_TEXT_SUFFIXES)
    )


def _widget(name: str, prop: dict, kind: str, options: list, required: bool) -> str:
    if kind == "boolean" and not options:
        return "checkbox"
    if kind == "array":
        return "multi-checkbox" if options else "textarea"
    if options:
        # An optional choice must be clearable: radios cannot be unselected.
        return "radio" if required and len(options) <= RADIO_MAX_OPTIONS else "select"
    if kind in ("integer", "number"):
        return kind
    if prop.get("format") == "file":
        return "file"  # the value is "<sha256>/<file name>" of a stored upload
    if prop.get("format") == "date":
        return "date"
    if prop.get("format") == "date-time":
        return "datetime-local"
    return "textarea" if _is_long_text(name, prop) else "text"


def _attrs(prop: dict, widget: str) -> dict[str, str]:
    """Constraints the browser can check before the server does."""
    attrs: dict[str, str] = {}
    if widget in ("integer", "number"):
        attrs["step"] = "1" if widget == "integer" else "any"
        for key, attr in (("minimum", "min"), ("maximum", "max")):
            if _is_number(prop.get(key)):
                attrs[attr] = _number_text(prop[key])
    if widget in ("text", "textarea"):
        for key, attr in (("minLength", "minlength"), ("maxLength", "maxlength")):
            if _is_number(prop.get(key)):
                attrs[attr] = _number_text(prop[key])
    if widget == "text" and isinstance(prop.get("pattern"), str):
        # JSON Schema patterns search; the browser anchors its pattern to the whole value.
        attrs["pattern"] = f"[\\s\\S]*(?:{prop['pattern']})[\\s\\S]*"
    return attrs


def _selected(options: list[Option], value) -> list[Option]:
    chosen = {_text(v) for v in (value if isinstance(value, list) else [value]) if v is not None}
    return [replace(o, selected=o.value in chosen) for o in options]


# --- conditional requirements -------------------------------------------------------


@dataclass
class _Condition:
    """``if {properties: {x: {const: v}}} then {required: [...]}``."""

    when: dict[str, list]  # property -> the values that trigger
    present: set[str]  # the ``if``'s own ``required``
    then_required: list[str]

    def holds(self, values: dict) -> bool:
        for name, allowed in self.when.items():
            value = values.get(name)
            if value is None or value == "":
                if name in self.present:
                    return False
            elif value not in allowed:
                return False
        return True

    def hint(self, properties: dict[str, dict]) -> str:
        phrases = [_phrase(properties.get(n, {}), n, a) for n, a in self.when.items()]
        return "且".join(phrases) + "时必填"


def _phrase(prop: dict, name: str, allowed: list) -> str:
    label = str(prop.get("title") or name)
    if _type(prop) == "boolean" and not _options(prop):
        return f"勾选“{label}”" if allowed == [True] else f"不勾选“{label}”"
    titles = dict((_text(v), t) for v, t in _options(prop))
    shown = "”或“".join(titles.get(_text(v), _text(v)) for v in allowed)
    return f"选择“{shown}”" if titles else f"“{label}”为“{shown}”"


def _conditions(schema: dict) -> list[_Condition]:
    blocks = [schema, *(b for b in _list(schema.get("allOf")) if isinstance(b, dict))]
    found = [_condition(b.get("if"), b.get("then")) for b in blocks]
    return [c for c in found if c is not None]


def _condition(test, then) -> _Condition | None:
    """A simple ``if``/``then``, or None: anything more is left to the server alone."""
    if not isinstance(test, dict) or not isinstance(then, dict):
        return None
    if set(test) - {"properties", "required"}:
        return None
    when = {}
    for name, rule in _properties(test).items():
        if "const" in rule:
            when[name] = [rule["const"]]
        elif isinstance(rule.get("enum"), list):
            when[name] = list(rule["enum"])
        else:
            return None
    required = [n for n in _list(then.get("required")) if isinstance(n, str)]
    if not when or not required:
        return None
    return _Condition(when, set(_list(test.get("required"))), required)


# --- posted values -------------------------------------------------------------------


def _getlist(form, key: str) -> list[str]:
    if hasattr(form, "getlist"):
        return [str(v) for v in form.getlist(key)]
    value = form.get(key)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _posted(prop: dict, described: Field, posted: list[str]):
    options = _options(prop)
    if described.widget == "checkbox":
        return bool(posted) and posted[-1].strip().lower() not in _FALSE_TEXTS
    if described.widget == "multi-checkbox":
        chosen = [_choice(options, v) for v in posted if v.strip()]
        return chosen or _MISSING
    raw = posted[-1].strip() if posted else ""
    if not raw:
        return _MISSING
    if described.kind == "array":
        items = prop["items"] if isinstance(prop.get("items"), dict) else {}
        lines = [line.strip() for line in raw.splitlines() if line.strip()]
        return [_scalar(_type(items), "text", line) for line in lines]
    if options:
        return _choice(options, raw)
    return _scalar(described.kind, described.widget, raw)


def _choice(options: list[tuple[Any, str]], raw: str):
    return next((v for v, _label in options if _text(v) == raw), raw)


def _scalar(kind: str, widget: str, raw: str):
    if kind == "integer":
        return _to_integer(raw)
    if kind == "number":
        return _to_number(raw)
    if widget == "datetime-local" and _LOCAL_MINUTES.fullmatch(raw):
        return raw + ":00"
    return raw


def _to_integer(raw: str):
    try:
        return int(raw)
    except ValueError:
        number = _to_number(raw)
        return int(number) if isinstance(number, float) and number.is_integer() else raw


def _to_number(raw: str):
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        number = float(raw)
    except ValueError:
        return raw
    return number if math.isfinite(number) else raw


# --- small helpers ------------------------------------------------------------------------


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number_text(value) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
