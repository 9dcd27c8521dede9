"""Guards the rewritten code calls: bounded operators, loops and attribute access.

Each guard checks the size of what an operation would build (or charges the
budget for what it touches) before running it; ``_ga`` allows only a short
list of public attributes on exactly the data types of the threat model.
"""

from __future__ import annotations

import re
import sys
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from .budget import (
    CONTAINERS,
    MAX_FORMAT_WIDTH,
    SMALL,
    charge,
    check_bits,
    check_decimal,
    current_budget,
    element_weight,
    grow,
    measure,
)
from .errors import over_limit, violation

MAX_STRFTIME = 200
MAX_TUPLE_DEPTH = 100  # CPython hashes nested tuples recursively with no depth check

# --- guards called by rewritten code ---------------------------------------------

SIZED = frozenset({str, list, tuple, dict, set, frozenset})
_SEQUENCES = frozenset({str, list, tuple})
_SET_LIKE = frozenset({set, frozenset, dict, type({}.keys()), type({}.items())})
COUNTABLE = SIZED | _SET_LIKE | {range, type({}.values())}


def _t(value):
    """Loop tests and lambda bodies: keep the deadline."""
    current_budget().tick()
    return value


def _it(iterable):
    """Every loop and comprehension iteration keeps the deadline."""
    tick = current_budget().tick
    for item in iterable:
        tick()
        yield item


def _cg(value):
    """Copies by slicing or unpacking cost their size."""
    if type(value) in COUNTABLE:
        charge(len(value))
    return value


_ci = _cg


def _tuple_depth(value: tuple) -> int:
    """Nesting depth of tuples inside ``value``, counted up to the limit."""
    deepest, visited = 1, 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        visited += 1
        deepest = max(deepest, depth)
        if deepest >= MAX_TUPLE_DEPTH:
            break
        stack.extend((child, depth + 1) for child in item if type(child) is tuple)
    charge(visited)
    return deepest


def check_nesting(items) -> None:
    """Hashing a deeply nested tuple overflows the C stack and kills the process."""
    for item in items:
        if type(item) is tuple and _tuple_depth(item) >= MAX_TUPLE_DEPTH - 1:
            raise over_limit("元组嵌套过深", "sandbox.tuple_depth")


def _tup(*items):
    """A tuple display ``(a, b)``."""
    check_nesting(items)
    return items


def check_text_size(value):
    """A value about to become text: the text must stay bounded."""
    kind = type(value)
    if kind is Decimal:
        check_decimal(value)
    elif kind in CONTAINERS:
        charge(measure(value, current_budget().limits.max_size))
    return value


_CONVERSIONS = {-1: None, ord("s"): str, ord("r"): repr, ord("a"): ascii}


def _fmt(value, conversion: int, spec: str) -> str:
    """One f-string placeholder; the spec was checked when compiling."""
    check_text_size(value)
    convert = _CONVERSIONS[conversion]
    return format(value if convert is None else convert(value), spec)


def _fjoin(*parts) -> str:
    grow(sum(map(len, parts)))
    return "".join(parts)


def _check_repeat(seq, count: int) -> None:
    """``seq * count`` builds count copies of every element's flattened size."""
    if count > 0 and len(seq) * count > SMALL:
        limit = current_budget().limits.max_size
        grow(element_weight(seq, limit // count + 1) * count)


def _repeat(seq, count: int):
    _check_repeat(seq, count)
    return seq * count


def _add(a, b):
    if type(a) in _SEQUENCES and type(b) is type(a):
        grow(len(a) + len(b))
    return _bounded(a + b)


def _sub(a, b):
    if type(a) in _SET_LIKE:
        charge(len(a))
    return _bounded(a - b)


def _bounded(result):
    """Ints grow a bit per addition; a loop of them must not reach megabits."""
    if type(result) is int:
        check_bits(result.bit_length())
    return result


def _set_op(a, b) -> None:
    if type(a) in _SET_LIKE or type(b) in _SET_LIKE:
        grow(_len_or_zero(a) + _len_or_zero(b))


def _len_or_zero(value) -> int:
    return len(value) if type(value) in COUNTABLE else 0


def _or(a, b):
    _set_op(a, b)
    return a | b


def _and(a, b):
    _set_op(a, b)
    return a & b


def _xor(a, b):
    _set_op(a, b)
    return a ^ b


def _mul(a, b):
    if type(a) in _SEQUENCES and isinstance(b, int):
        return _repeat(a, b)
    if type(b) in _SEQUENCES and isinstance(a, int):
        return _repeat(b, a)
    if isinstance(a, int) and isinstance(b, int):
        check_bits(a.bit_length() + b.bit_length())
    return a * b


def _pow(a, b):
    if isinstance(a, int) and isinstance(b, int) and b > 1 and abs(a) > 1:
        check_bits(a.bit_length() * b)
    return a**b


def _lsh(a, b):
    if isinstance(a, int) and isinstance(b, int) and a and b > 0:
        check_bits(a.bit_length() + b)
    return a << b


_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-+ #0]*(\*|\d+)?(?:\.(\*|\d*))?")


def _mod(a, b):
    if type(a) is str:
        _check_percent_format(a, b)
    return a % b


def _check_percent_format(template: str, args) -> None:
    """``'%10000000000s' % x``: refuse big or dynamic widths and big arguments."""
    extra = 0
    for width, precision in _PERCENT_SPEC.findall(template):
        for number in (width, precision):
            if number == "*":
                raise violation("% 格式化不允许使用 * 宽度", "sandbox.format_width")
            if len(number) > 4 or (number and int(number) > MAX_FORMAT_WIDTH):
                raise over_limit("% 格式化的宽度过大", "sandbox.format_width")
            extra += int(number or 0)
    values = args.values() if type(args) is dict else args if type(args) is tuple else (args,)
    for value in values:
        if type(value) is Decimal:
            check_decimal(value)
    grow(len(template) + extra + measure(args, current_budget().limits.max_size))


def _iadd(a, b):
    if type(a) is list:
        if type(b) not in SIZED:
            b = list(b)
        grow(len(a) + len(b))
        a += b
        return a
    return _add(a, b)


def _imul(a, b):
    if type(a) is list and isinstance(b, int):
        _check_repeat(a, b)
        a *= b
        return a
    return _mul(a, b)


def _ior(a, b):
    _set_op(a, b)
    a |= b
    return a


def _iand(a, b):
    _set_op(a, b)
    a &= b
    return a


def _ixor(a, b):
    _set_op(a, b)
    a ^= b
    return a


def _isub(a, b):
    if type(a) in _SET_LIKE:
        charge(len(a))
    a -= b
    return _bounded(a)


_ipow = _pow
_ilsh = _lsh
_imod = _mod

# --- attribute allowlist ------------------------------------------------------------

_PLAIN = "plain"  # return the attribute as it is
_LINEAR = "linear"  # a method whose cost grows with the object's size


def _wrap_join(sep: str, method):
    def join(iterable):
        items = iterable if type(iterable) in (list, tuple) else list(iterable)
        try:
            total = sum(map(len, items)) + len(sep) * max(len(items) - 1, 0)
        except TypeError:
            return method(items)  # str.join reports the bad item without building
        grow(total)
        return method(items)

    return join


def _wrap_replace(text: str, method):
    def replace(old, new, count=-1):
        if type(old) is str and type(new) is str and len(new) > len(old):
            hits = text.count(old) if old else len(text) + 1
            if isinstance(count, int) and count >= 0:
                hits = min(hits, count)
            grow(len(text) + hits * (len(new) - len(old)))
        charge(len(text))
        return method(old, new, count)

    return replace


def _wrap_pad(text: str, method):
    def pad(width, *rest):
        if isinstance(width, int):
            grow(max(width, len(text)))
        return method(width, *rest)

    return pad


def _wrap_strftime(value, method):
    def strftime(fmt):
        if type(fmt) is str and len(fmt) > MAX_STRFTIME:
            raise over_limit("日期格式字符串过长", "sandbox.format_width")
        return method(fmt)

    return strftime


def _wrap_strptime(cls, method):
    def strptime(text, fmt):
        if any(type(s) is str and len(s) > MAX_STRFTIME for s in (text, fmt)):
            raise over_limit("日期字符串过长", "sandbox.format_width")
        return method(text, fmt)

    return strptime


def _wrap_extend(items: list, method):
    def extend(iterable):
        more = iterable if type(iterable) in (list, tuple) else list(iterable)
        grow(len(items) + len(more))
        method(more)

    return extend


def _wrap_dict_update(mapping: dict, method):
    def update(*args, **kwargs):
        other = dict(*args, **kwargs)
        grow(len(mapping) + len(other))
        method(other)

    return update


def _wrap_set_update(items: set, method):
    def update(*others):
        merged = set().union(*others)
        grow(len(items) + len(merged))
        method(merged)

    return update


def _wrap_sized_args(obj, method):
    """Set algebra costs the sizes of all operands."""

    def call(*args):
        charge(len(obj) + sum(_len_or_zero(a) for a in args))
        return method(*args)

    return call


def _rules(names: str, rule=_PLAIN, **special) -> dict:
    table = dict.fromkeys(names.split(), rule)
    table.update(special)
    return table


_STR_ATTRS = _rules(
    "capitalize casefold count endswith find index isalnum isalpha isascii isdecimal "
    "isdigit isidentifier islower isnumeric isspace istitle isupper lower lstrip "
    "partition removeprefix removesuffix rfind rindex rpartition rsplit rstrip split "
    "splitlines startswith strip swapcase title upper",
    _LINEAR,
    join=_wrap_join,
    replace=_wrap_replace,
    center=_wrap_pad,
    ljust=_wrap_pad,
    rjust=_wrap_pad,
    zfill=_wrap_pad,
)


def _wrap_list_pop(items: list, method):
    """Popping from the front shifts everything after it."""

    def pop(*args):
        if args and isinstance(args[0], int):
            index = args[0] if args[0] >= 0 else len(items) + args[0]
            charge(len(items) - index)
        return method(*args)

    return pop


_LIST_ATTRS = _rules(
    "copy count index insert remove reverse sort",
    _LINEAR,
    append=_PLAIN,
    clear=_PLAIN,
    pop=_wrap_list_pop,
    extend=_wrap_extend,
)


def _wrap_items(mapping: dict, method):
    """A checked list of pairs: a live view would let a loop nest tuples unseen."""

    def items():
        pairs = list(method())
        charge(len(pairs))
        check_nesting(mapping.values())
        return pairs

    return items


_DICT_ATTRS = _rules(
    "get keys values pop setdefault clear",
    copy=_LINEAR,
    items=_wrap_items,
    update=_wrap_dict_update,
)
_SET_ATTRS = _rules(
    "add discard remove pop clear",
    copy=_LINEAR,
    update=_wrap_set_update,
    **dict.fromkeys(
        [
            "union",
            "intersection",
            "difference",
            "symmetric_difference",
            "issubset",
            "issuperset",
            "isdisjoint",
        ],
        _wrap_sized_args,
    ),
)
_DATE_NAMES = "year month day weekday isoweekday isoformat isocalendar replace toordinal"
_TIME_NAMES = "hour minute second microsecond"
_ATTRS: dict[type, dict] = {
    str: _STR_ATTRS,
    list: _LIST_ATTRS,
    tuple: _rules("count index", _LINEAR),
    dict: _DICT_ATTRS,
    set: _SET_ATTRS,
    float: _rules("is_integer"),
    Decimal: _rules(
        "quantize to_integral_value normalize as_tuple adjusted is_zero is_signed is_finite"
        " is_infinite is_nan copy_abs copy_negate"
    ),
    type(Decimal(0).as_tuple()): _rules("sign digits exponent"),
    date: _rules(_DATE_NAMES, strftime=_wrap_strftime),
    datetime: _rules(
        f"{_DATE_NAMES} {_TIME_NAMES} date time timestamp utcoffset tzname",
        strftime=_wrap_strftime,
    ),
    time: _rules(f"{_TIME_NAMES} isoformat replace", strftime=_wrap_strftime),
    timedelta: _rules("days seconds microseconds total_seconds"),
    type(date(2000, 1, 1).isocalendar()): _rules("year week weekday"),
}
_CLASS_ATTRS: dict[type, dict] = {
    date: _rules("today fromisoformat fromordinal fromisocalendar fromtimestamp"),
    datetime: _rules(
        "now today utcnow fromisoformat fromordinal fromisocalendar fromtimestamp"
        " utcfromtimestamp combine",
        strptime=_wrap_strptime,
    ),
}
ALL_ATTRIBUTE_NAMES = frozenset(
    name for table in (*_ATTRS.values(), *_CLASS_ATTRS.values()) for name in table
)


def _ga(obj, name: str):
    """Read ``obj.name`` only if the exact type allows that public name."""
    kind = type(obj)
    rules = _CLASS_ATTRS.get(obj) if kind is type else _ATTRS.get(kind)
    rule = rules.get(name) if rules is not None else None
    if rule is None:
        raise violation(
            f"不允许访问 {kind.__name__} 的属性：{name}",
            "sandbox.forbidden_attribute",
            sys._getframe(1).f_lineno,
        )
    value = getattr(obj, name)
    if rule is _PLAIN:
        return value
    if rule is _LINEAR:
        charge(len(obj))
        return value
    return rule(obj, value)


GUARDS = {
    "_t": _t,
    "_it": _it,
    "_cg": _cg,
    "_fmt": _fmt,
    "_fjoin": _fjoin,
    "_ga": _ga,
    "_ci": _ci,
    "_tup": _tup,
    "_add": _add,
    "_sub": _sub,
    "_mul": _mul,
    "_pow": _pow,
    "_lsh": _lsh,
    "_mod": _mod,
    "_or": _or,
    "_and": _and,
    "_xor": _xor,
    "_iadd": _iadd,
    "_isub": _isub,
    "_imul": _imul,
    "_ipow": _ipow,
    "_ilsh": _ilsh,
    "_imod": _imod,
    "_ior": _ior,
    "_iand": _iand,
    "_ixor": _ixor,
}
