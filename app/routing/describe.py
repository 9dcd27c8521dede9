"""What a user task says about who should do it (see docs/DIAGRAMS.md).

A lane name ``[层级] [部门[/股室]] [岗位]`` and the task's extension properties
(level, department, section, role, user; Chinese aliases accepted) describe a
post relative to the case's place. Properties override the lane; a value
written ``${name}`` is read from the case data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from app.models.org import ROLE_BY_ZH, ROLES

LEVEL_WORDS = {
    "村": "village",
    "社区": "village",
    "乡镇": "township",
    "乡": "township",
    "镇": "township",
    "街道": "township",
    "县": "county",
    "区": "county",
    "市": "city",
    "省": "province",
    "village": "village",
    "township": "township",
    "county": "county",
    "city": "city",
    "province": "province",
}
ROLE_WORDS = {
    **ROLE_BY_ZH,
    **{key: key for key in ROLES},
    "受理员": "window_clerk",
    "窗口": "window_clerk",
    "承办": "handler",
    "经办人": "handler",
    "审核": "reviewer",
    "审批人": "reviewer",
    "分管": "deputy_leader",
    "主管领导": "chief_leader",
    "负责人": "chief_leader",
}
PROPERTY_ALIASES = {
    "level": "level",
    "层级": "level",
    "department": "department",
    "dept": "department",
    "部门": "department",
    "section": "section",
    "股室": "section",
    "科室": "section",
    "role": "role",
    "post": "role",
    "岗位": "role",
    "user": "user",
    "用户": "user",
    "办理人": "user",
}
_VARIABLE = re.compile(r"^\$\{\s*([A-Za-z_\u4e00-\u9fff][\w\u4e00-\u9fff.]*)\s*\}$")
_SEPARATORS = re.compile(r"[\s·•|，,]+")


@dataclass(frozen=True)
class Assignment:
    """A post relative to the case: which level, department, section, role; or a user."""

    level: str | None = None
    department: str | None = None
    section: str | None = None
    role: str | None = None
    user: str | None = None
    unresolved: tuple[str, ...] = ()  # variables named but missing from the case data

    @property
    def is_empty(self) -> bool:
        return not (self.level or self.department or self.section or self.role or self.user)


def parse_lane(lane: str | None) -> Assignment:
    """Read ``[层级] [部门[/股室]] [岗位]``; a lane in another form says nothing."""
    tokens = [t for t in _SEPARATORS.split(lane or "") if t]
    if len(tokens) < 2:
        return Assignment()
    level = LEVEL_WORDS.get(tokens[0])
    role = ROLE_WORDS.get(tokens[-1])
    if role is None:
        return Assignment()
    middle = tokens[1 if level else 0 : -1]
    department = section = None
    if middle:
        department, _, section = " ".join(middle).partition("/")
    if level is None and department is None:
        return Assignment()
    return Assignment(
        level=level, department=department or None, section=section or None, role=role
    )


def _lookup(data: dict, path: str):
    value = data
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _value(raw, data: dict, missing: list[str]) -> str | None:
    if raw is None:
        return None
    text = str(raw).strip()
    match = _VARIABLE.match(text)
    if match:
        value = _lookup(data, match.group(1))
        if value in (None, ""):
            missing.append(match.group(1))
            return None
        return str(value).strip()
    return text or None


def describe(lane: str | None, properties: dict | None, data: dict | None) -> Assignment:
    """The assignment a task describes, with ``${...}`` values taken from ``data``."""
    assignment = parse_lane(lane)
    missing: list[str] = []
    overrides = {}
    for key, raw in (properties or {}).items():
        field = PROPERTY_ALIASES.get(str(key).strip().lower()) or PROPERTY_ALIASES.get(
            str(key).strip()
        )
        if field is None:
            continue
        value = _value(raw, data or {}, missing)
        if field == "level" and value is not None:
            value = LEVEL_WORDS.get(value, value)
        elif field == "role" and value is not None:
            value = ROLE_WORDS.get(value, value)
        overrides[field] = value
    return replace(assignment, **overrides, unresolved=tuple(missing))
