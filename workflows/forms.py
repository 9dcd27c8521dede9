"""Checking the data a person submits for a task, field by field."""

from __future__ import annotations

import re

import jsonschema

from .errors import InvalidTaskData

_MESSAGES = {
    "required": "此项为必填项",
    "type": "类型不正确",
    "enum": "取值不在允许的范围内",
    "oneOf": "取值不在允许的范围内",
    "const": "取值不正确",
    "format": "格式不正确",
    "minimum": "数值太小",
    "maximum": "数值太大",
    "exclusiveMinimum": "数值太小",
    "exclusiveMaximum": "数值太大",
    "minLength": "内容太短",
    "maxLength": "内容太长",
    "pattern": "格式不正确",
    "minItems": "选择的项太少",
    "maxItems": "选择的项太多",
}


# Bounds of submitted data whatever the form says: a text, a nesting depth.
MAX_TEXT_CHARS = 5000
MAX_DEPTH = 20


def check_keys(data) -> dict:
    """Submitted data must be a bounded object whose keys are plain names."""
    if not isinstance(data, dict):
        raise InvalidTaskData("提交的数据必须是一个对象（键值对）。", {})
    bad = {k: "字段名不能以下划线开头" for k in data if not isinstance(k, str) or k.startswith("_")}
    if bad:
        raise InvalidTaskData("提交的数据包含不允许的字段名。", bad)
    too_long = {
        k: f"内容太长（每段最多 {MAX_TEXT_CHARS} 个字符）或层次过深"
        for k, v in data.items()
        if not _bounded(v)
    }
    if too_long:
        raise InvalidTaskData("提交的数据过长或层次过深。", too_long)
    return data


def _bounded(value, depth: int = 1) -> bool:
    """Every text in ``value`` within MAX_TEXT_CHARS and its nesting within MAX_DEPTH."""
    if depth > MAX_DEPTH:
        return False
    if isinstance(value, str):
        return len(value) <= MAX_TEXT_CHARS
    if isinstance(value, dict):
        items = [*value.keys(), *value.values()]
    elif isinstance(value, list):
        items = value
    else:
        return True
    return all(_bounded(item, depth + 1) for item in items)


def _field_errors(schema: dict, data: dict) -> dict[str, str]:
    validator_cls = jsonschema.validators.validator_for(schema)
    validator = validator_cls(schema, format_checker=validator_cls.FORMAT_CHECKER)
    read_only = {
        name
        for name, prop in schema.get("properties", {}).items()
        if isinstance(prop, dict) and prop.get("readOnly")
    }
    fields: dict[str, str] = {}
    for error in validator.iter_errors(data):
        if error.validator == "required":
            for name in error.validator_value:
                if (
                    isinstance(error.instance, dict)
                    and name not in error.instance
                    and name not in read_only
                ):
                    fields.setdefault(name, _MESSAGES["required"])
            continue
        path = ".".join(str(p) for p in error.absolute_path) or "_"
        fields.setdefault(path, _MESSAGES.get(error.validator, error.message))
    return fields


def validate_task_data(schema: dict | None, data) -> dict:
    """Validate submitted data against the task's form; raises InvalidTaskData."""
    check_keys(data)
    if schema:
        fields = _field_errors(schema, data)
        if fields:
            raise InvalidTaskData("表单填写有误，请按提示修改后再提交。", fields)
    return data


# --- any JSON from outside (request bodies, uploaded forms) ----------------------

MAX_JSON_DEPTH = 32
_SURROGATE = re.compile("[\ud800-\udfff]")


def json_problem(value, depth: int = 1) -> str | None:
    """Why parsed JSON cannot be stored (too deep; a lone surrogate, which PostgreSQL's
    JSONB and UTF-8 refuse), or None."""
    if depth > MAX_JSON_DEPTH:
        return f"JSON 嵌套超过 {MAX_JSON_DEPTH} 层。"
    if isinstance(value, str):
        return "含有无效的 Unicode 字符（孤立的代理项）。" if _SURROGATE.search(value) else None
    if isinstance(value, dict):
        children = [*value.keys(), *value.values()]
    elif isinstance(value, list):
        children = value
    else:
        return None
    return next(filter(None, (json_problem(child, depth + 1) for child in children)), None)
