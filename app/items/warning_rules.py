"""黄牌/红牌 thresholds, per center (configuration) and per item.

``share:0.8`` (80% of the limit used), ``left:2`` (two working days or fewer
left), ``overdue`` (past the due date).
"""

from __future__ import annotations

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


def parse_rule(text: str) -> Rule:
    text = (text or "").strip()
    if text == "overdue":
        return Rule("overdue")
    kind, _, value = text.partition(":")
    try:
        number = float(value)
    except ValueError:
        raise RuleError(f"无法识别的预警规则：{text}（应为 share:0.8、left:2 或 overdue）")
    if kind == "share" and 0 < number <= 1.5:
        return Rule("share", number)
    if kind == "left" and number >= 0:
        return Rule("left", number)
    raise RuleError(f"无法识别的预警规则：{text}（应为 share:0.8、left:2 或 overdue）")


def warning_rules(item: Item) -> dict[str, Rule]:
    """The item's 黄牌/红牌 rules, else the center's (configuration)."""
    config = current_app.config
    return {
        "yellow": parse_rule(item.warn_yellow or config.get("WARN_YELLOW") or DEFAULT_YELLOW),
        "red": parse_rule(item.warn_red or config.get("WARN_RED") or DEFAULT_RED),
    }
