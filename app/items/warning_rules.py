"""黄牌/红牌 thresholds, per center (configuration) and per item.

Stored as ``share:0.8`` (80% of the limit used), ``left:2`` (two working days
or fewer left), ``overdue`` (past the due date); people write and read them in
Chinese: ``已用80%``, ``剩2个工作日``, ``超期`` (``rule_text``/``canonical``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import current_app

from app.errors import DomainError
from app.models.items import Item

DEFAULT_YELLOW = "share:0.8"
DEFAULT_RED = "overdue"


class RuleError(DomainError):
    """A threshold rule that cannot be read."""


@dataclass(frozen=True)
class Rule:
    kind: str  # share | left | overdue
    value: float = 0.0

    def reached(self, limit: int, left: int) -> bool:
        if self.kind == "overdue":
            return left < 0
        if self.kind == "left":
            return left <= self.value
        return limit > 0 and (limit - left) / limit >= self.value


HINT = "应写作“已用80%”“剩2个工作日”或“超期”"
SHARE = re.compile(r"已用\s*(\d+(?:\.\d+)?)\s*[%％]\s*(?:时限)?")
LEFT = re.compile(r"剩(?:余)?\s*(\d+(?:\.\d+)?)\s*个?工作日")


def _chinese(text: str) -> str:
    """The stored form of a rule written in Chinese (unchanged if it is not one)."""
    if text == "超期":
        return "overdue"
    if match := SHARE.fullmatch(text):
        return f"share:{float(match.group(1)) / 100:g}"
    if match := LEFT.fullmatch(text):
        return f"left:{float(match.group(1)):g}"
    return text


def parse_rule(text: str) -> Rule:
    text = _chinese((text or "").strip())
    if text == "overdue":
        return Rule("overdue")
    kind, _, value = text.partition(":")
    try:
        number = float(value)
    except ValueError:
        raise RuleError(f"无法识别的预警规则：{text}（{HINT}）")
    if kind == "share" and 0 < number <= 1.5:
        return Rule("share", number)
    if kind == "left" and number >= 0:
        return Rule("left", number)
    raise RuleError(f"无法识别的预警规则：{text}（{HINT}）")


def canonical(text: str | None) -> str | None:
    """The stored form of a rule as typed (either language); None when empty."""
    text = (text or "").strip()
    if not text:
        return None
    rule = parse_rule(text)
    if rule.kind == "overdue":
        return "overdue"
    return f"{rule.kind}:{rule.value:g}"


def rule_text(text: str | None) -> str:
    """A stored rule as people read it: 已用80% / 剩2个工作日 / 超期."""
    if not text:
        return ""
    try:
        rule = parse_rule(text)
    except RuleError:
        return text
    if rule.kind == "overdue":
        return "超期"
    if rule.kind == "left":
        return f"剩{rule.value:g}个工作日"
    return f"已用{rule.value * 100:g}%"


def warning_rules(item: Item) -> dict[str, Rule]:
    """The item's 黄牌/红牌 rules, else the center's (configuration)."""
    config = current_app.config
    return {
        "yellow": parse_rule(item.warn_yellow or config.get("WARN_YELLOW") or DEFAULT_YELLOW),
        "red": parse_rule(item.warn_red or config.get("WARN_RED") or DEFAULT_RED),
    }
