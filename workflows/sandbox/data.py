"""Values leaving the sandbox: task data and expression results must be plain data."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID

from .budget import SandboxLimits, measure
from .errors import SandboxError, SandboxLimitExceeded, over_limit, violation

SCALARS = frozenset(
    {type(None), bool, int, float, str, date, datetime, time, timedelta, Decimal, UUID}
)
_KEY_TYPES = frozenset({type(None), bool, int, float, str})
STORABLE = SCALARS | {list, tuple, dict}


def check_data(value, limits: SandboxLimits, name: str, budget: int) -> int:
    """Refuse values the runtime cannot store: wrong types, too big or too deep."""
    total = 0
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        kind = type(item)
        if kind is str:
            total += len(item) + 2
        elif kind is int:
            if item.bit_length() > limits.max_int_bits:
                raise over_limit(f"变量 {name} 中的整数过大", "sandbox.int_limit")
            total += item.bit_length() // 3 + 1
        elif kind in SCALARS:
            total += 8
        elif kind is list or kind is tuple or kind is dict:
            total += _push_children(item, depth, stack, limits, name)
        else:
            raise violation(
                f"变量 {name} 中包含不能保存的值（{kind.__name__}）", "sandbox.unsupported_value"
            )
        if total > budget:
            raise over_limit(f"变量 {name} 的数据过大", "sandbox.data_limit")
    return total


def _push_children(item, depth: int, stack: list, limits: SandboxLimits, name: str) -> int:
    if depth >= limits.max_data_depth:
        raise over_limit(f"变量 {name} 嵌套过深", "sandbox.data_depth")
    if type(item) is not dict:
        stack.extend((child, depth + 1) for child in item)
        return len(item) + 2
    for key in item:
        if type(key) not in _KEY_TYPES:
            raise violation(
                f"变量 {name} 中的字典键类型不能保存（{type(key).__name__}）",
                "sandbox.unsupported_value",
            )
    stack.extend((child, depth + 1) for pair in item.items() for child in pair)
    return 2 * len(item) + 2


_SAFE_ARG_CHARS = 500


def sanitize(error: BaseException) -> None:
    """Exceptions carry script objects out; keep their args short and plain."""
    seen = 0
    while error is not None and seen < 5:
        if not isinstance(error, SandboxError):
            error.args = tuple(_safe_arg(arg) for arg in error.args)
        error = error.__cause__ or error.__context__
        seen += 1


def _safe_arg(arg):
    kind = type(arg)
    if kind is str:
        return arg if len(arg) <= _SAFE_ARG_CHARS else arg[:_SAFE_ARG_CHARS] + "..."
    if kind in _KEY_TYPES and not (kind is int and arg.bit_length() > 1000):
        return arg
    try:
        measure(arg, _SAFE_ARG_CHARS)
    except SandboxLimitExceeded:
        return f"<{kind.__name__}>"
    return repr(arg)[:_SAFE_ARG_CHARS]
