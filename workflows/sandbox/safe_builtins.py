"""The builtins and helpers sandboxed code sees, each bounded like the guards."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from .budget import (
    MAX_DECIMAL_DIGITS,
    MAX_FORMAT_WIDTH,
    charge,
    check_bits,
    check_decimal,
    current_budget,
    grow,
)
from .errors import over_limit, violation
from .guards import COUNTABLE, check_nesting, check_text_size

MAX_DECIMAL_TEXT = 1000


def _str(*args):
    if len(args) > 1:
        raise TypeError("str() 只接受一个参数")
    value = args[0] if args else ""
    check_text_size(value)
    return str(value)


def _int(*args, **kwargs):
    if args and type(args[0]) is Decimal:
        check_decimal(args[0])
    if args and type(args[0]) is str and len(args[0]) > MAX_DECIMAL_DIGITS:
        raise over_limit("整数文本过长", "sandbox.int_limit")
    result = int(*args, **kwargs)
    check_bits(result.bit_length())
    return result


def _round(number, ndigits=None):
    if ndigits is None:
        if type(number) is Decimal:
            check_decimal(number)
        return round(number)
    if isinstance(ndigits, int) and abs(ndigits) > MAX_FORMAT_WIDTH:
        raise over_limit("round() 的位数过大", "sandbox.int_limit")
    return round(number, ndigits)


def _range(*args):
    result = range(*args)
    try:
        size = len(result)
    except OverflowError:
        size = sys.maxsize
    grow(size)
    return result


def _sized_copy(factory):
    def build(*args, **kwargs):
        if args and type(args[0]) in COUNTABLE:
            charge(len(args[0]))
        return factory(*args, **kwargs)

    build.__name__ = factory.__name__
    return build


def _sum(iterable, /, start=0):
    if not isinstance(start, int | float | Decimal):
        raise violation("sum() 只能对数字求和", "sandbox.sum_non_numeric")
    if type(iterable) in COUNTABLE:
        charge(len(iterable))
    return sum(iterable, start)


def _map(function, iterable, *iterables):
    tick = current_budget().tick
    for item in map(function, iterable, *iterables):
        tick()
        yield item


def _filter(function, iterable):
    tick = current_budget().tick
    for item in iterable:
        tick()
        if function(item) if function is not None else item:
            yield item


def _zip(*iterables, strict=False):
    tick = current_budget().tick
    for item in zip(*iterables, strict=strict):
        tick()
        check_nesting(item)
        yield item


def _enumerate(iterable, start=0):
    tick = current_budget().tick
    for item in enumerate(iterable, start):
        tick()
        check_nesting(item)
        yield item


def _tuple(*args):
    if args and type(args[0]) in COUNTABLE:
        charge(len(args[0]))
    result = tuple(*args)
    check_nesting(result)
    return result


def _scanning(function):
    """min/max/any/all read their whole argument."""

    def scan(*args, **kwargs):
        if len(args) == 1 and type(args[0]) in COUNTABLE:
            charge(len(args[0]))
        return function(*args, **kwargs)

    scan.__name__ = function.__name__
    return scan


def _decimal(value="0"):
    """Decimal from text or a number: long digit strings slow every later operation."""
    if type(value) not in (str, int, float, bool, Decimal):
        raise violation("Decimal() 只接受文本或数字", "sandbox.forbidden_type")
    if type(value) is str and len(value) > MAX_DECIMAL_TEXT:
        raise over_limit("Decimal 数值的位数过多", "sandbox.decimal_limit")
    return Decimal(value)


def _print(*args, **kwargs) -> None:
    """Scripts have no console; print is accepted and ignored."""


_list = _sized_copy(list)
_set = _sized_copy(set)
_dict = _sized_copy(dict)
_sorted = _sized_copy(sorted)
_reversed = _sized_copy(reversed)

_TYPE_ALIASES = {
    _str: str,
    _int: int,
    _list: list,
    _tuple: tuple,
    _set: set,
    _dict: dict,
    _decimal: Decimal,
}
_ISINSTANCE_TYPES = frozenset(
    {
        str,
        int,
        float,
        bool,
        list,
        tuple,
        dict,
        set,
        date,
        datetime,
        time,
        timedelta,
        Decimal,
        type(None),
    }
)


def _resolve_type(kind):
    for alias, real in _TYPE_ALIASES.items():
        if kind is alias:
            return real
    if type(kind) is type and kind in _ISINSTANCE_TYPES:
        return kind
    raise violation("isinstance() 只接受基本数据类型", "sandbox.forbidden_type")


def _isinstance(value, classinfo) -> bool:
    if type(classinfo) is tuple:
        return isinstance(value, tuple(_resolve_type(k) for k in classinfo))
    return isinstance(value, _resolve_type(classinfo))


def _now() -> datetime:
    """The current time as a naive UTC datetime, like the rest of the runtime."""
    return datetime.now(UTC).replace(tzinfo=None)


BUILTINS = {
    "abs": abs,
    "all": _scanning(all),
    "any": _scanning(any),
    "bool": bool,
    "dict": _dict,
    "enumerate": _enumerate,
    "filter": _filter,
    "float": float,
    "int": _int,
    "isinstance": _isinstance,
    "len": len,
    "list": _list,
    "map": _map,
    "max": _scanning(max),
    "min": _scanning(min),
    "print": _print,
    "range": _range,
    "reversed": _reversed,
    "round": _round,
    "set": _set,
    "sorted": _sorted,
    "str": _str,
    "sum": _sum,
    "tuple": _tuple,
    "zip": _zip,
    "True": True,
    "False": False,
    "None": None,
    "true": True,
    "false": False,
    "null": None,
}
HELPERS = {
    "date": date,
    "datetime": datetime,
    "timedelta": timedelta,
    "Decimal": _decimal,
    "now": _now,
}
