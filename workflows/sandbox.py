"""A sandbox for the Python that process designers write into diagrams.

Threat model
------------
Scripts, gateway conditions, timer and multi-instance expressions and DMN cells
come from uploaded BPMN/DMN files, so they are untrusted. The author may know
Python well and may try to

* escape: reach a frame, code object, module, function globals, the real
  builtins, type or object internals, or the file system, network or processes;
* exhaust the server: CPU bombs (``9**9**9``), memory bombs (``'x' * 10**10``),
  endless loops, runaway recursion, or values that explode when the runtime
  later turns them into text or JSON.

Everything here is a whitelist, checked on the syntax tree before anything runs
and again by guards the tree is rewritten to call:

* Statements: expression statements, ``=`` (with tuple unpacking and ``*rest``),
  augmented assignment, ``if``, ``for``, ``while``, ``break``, ``continue``,
  ``pass``, ``del`` and ``assert``. Not allowed: ``import``, ``def``, ``class``,
  ``return``, ``yield``, ``global``, ``nonlocal``, ``try``, ``raise``, ``with``,
  ``async``/``await``, ``match``, annotated assignment and slice assignment.
* Expressions: literals (str, int, float, bool, None; no bytes, complex or
  ``...``), names, arithmetic, comparisons, ``and``/``or``/``not``, ternaries,
  calls, subscripts and slices, list/dict/set displays, comprehensions,
  generator expressions, ``lambda`` (without ``*args``), ``:=`` and f-strings
  whose format spec is a constant of at most 100 characters with numbers of
  at most 1000.
* Names, attribute names, keyword and lambda parameter names starting with
  ``_`` are refused (the single ``_`` is allowed as a throwaway name); they are
  reserved for the sandbox's guards. Calling eval, exec, compile, open, input,
  breakpoint, help, globals, locals, vars, dir, getattr, setattr, delattr,
  hasattr, type, object, super, classmethod, staticmethod, property,
  memoryview, bytearray, bytes, id, iter, next, exit, quit, format, repr,
  ascii, reload, issubclass, aiter, anext, copyright, credits or license is
  refused when the code is checked (task data may still use those names as
  variables).
* Attribute access goes through a guard that allows a short list of public
  methods and fields on exactly these types: str, list, tuple, dict, set,
  float, Decimal, date, datetime, time, timedelta and the ISO calendar tuple;
  on the classes ``date`` and ``datetime`` only ``today``, ``now``,
  ``fromisoformat``, ``combine`` and ``strptime``. Writing attributes is
  refused. Deliberately missing: ``str.format``/``format_map`` (their field
  syntax ``{0.__class__}`` is an attribute walk of its own), ``encode``,
  ``expandtabs``, ``translate``, ``dict.popitem`` and every ``__dunder__``.
  ``dict.items()`` returns a list of pairs rather than a live view.
* Builtins: abs, all, any, bool, dict, enumerate, filter, float, int,
  isinstance (with the data types listed here only), len, list, map, max, min,
  print (does nothing), range (at most ``max_size`` long), reversed, round,
  set, sorted, str, sum (numbers only), tuple, zip, True/False/None and the
  aliases true/false/null. Helpers: ``date``, ``datetime``, ``timedelta``,
  ``Decimal`` (from text of at most 1000 characters or a number) and ``now()``
  (the current time as a naive UTC datetime, the runtime's storage
  convention). Callers add helpers with ``SandboxEnvironment(helpers=...)``;
  helpers act like builtins, so task data of the same name shadows them.

Text indented inside its XML element is accepted (scripts are dedented, an
expression's first line loses its indent); line numbers do not change.

Limits (``SandboxLimits``) are enforced before an operation runs where the
result size is known (``*``, ``**``, ``<<``, ``+``, ``%`` formatting,
f-strings, ``join``, ``replace``, padding, ``range``, ``int()``, ``str()``),
and cooperatively at every loop iteration, lambda call and bulk operation
(wall time, total work and resident memory growth). Tuples may nest at most
100 deep, because CPython hashes nested tuples recursively without a depth
check and a deep one crashes the process. Task data left by a script, and
values returned by expressions, must be plain data (None, bool, int, float,
str, list, tuple, dict, date, datetime, time, timedelta, Decimal, UUID) of
bounded size and depth. ``execute`` drops other top-level values (lambdas,
iterators, ranges, sets) as SpiffWorkflow drops callables.

Residual risk: a single C-level operation cannot be interrupted from Python.
Each one is bounded in size, but comparing or hashing structures that alias
big objects many times (two lists each holding a million references to
different but equal long strings) can still take long. Hard guarantees need a
process boundary with OS limits.
"""

from __future__ import annotations

import ast
import os
import re
import sys
import textwrap
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from time import monotonic
from types import CodeType
from uuid import UUID

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import (
    BasePythonScriptEngineEnvironment,
)
from SpiffWorkflow.exceptions import SpiffWorkflowException

__all__ = [
    "SandboxEnvironment",
    "SandboxError",
    "SandboxLimitExceeded",
    "SandboxLimits",
    "SandboxScriptEngine",
    "SandboxViolation",
    "check_expression",
    "check_script",
]

FILENAME = "<string>"  # SpiffWorkflow finds script line numbers by this name
MAX_SOURCE_CHARS = 100_000
MAX_NODES = 10_000
MAX_FORMAT_WIDTH = 1000
MAX_FORMAT_SPEC = 100
MAX_STRFTIME = 200
MAX_DECIMAL_DIGITS = 4300
MAX_DECIMAL_TEXT = 1000
MAX_TUPLE_DEPTH = 100  # CPython hashes nested tuples recursively with no depth check
SMALL = 1024  # sizes up to this skip the budget bookkeeping
MEMORY_SAMPLE_SECONDS = 0.005


@dataclass(frozen=True)
class SandboxLimits:
    """Per-call limits; one evaluate/execute call gets a fresh budget."""

    time_limit: float = 1.0  # wall-clock seconds
    max_size: int = 1_000_000  # chars or items one operation may build
    max_int_bits: int = 10_000
    max_work: int = 50_000_000  # items touched by bulk operations per call
    memory_limit: int = 256 * 2**20  # resident memory growth in bytes; 0 = off
    max_data_size: int = 10_000_000  # flattened size of results and task data
    max_data_depth: int = 100


# --- errors ------------------------------------------------------------------


class SandboxError(Exception):
    """Base of sandbox errors: a Chinese message plus a stable English key."""

    def __init__(self, message: str, key: str, lineno: int | None = None):
        super().__init__(f"{message} ({key})")
        self.message = message
        self.key = key
        self.lineno = lineno


class SandboxViolation(SandboxError):
    """The code uses something the sandbox does not allow."""


class SandboxLimitExceeded(SandboxError):
    """The code ran over a time, size, work or memory budget."""


def _violation(message: str, key: str, lineno: int | None = None) -> SandboxViolation:
    return SandboxViolation(message, key, lineno)


def _limit(message: str, key: str) -> SandboxLimitExceeded:
    return SandboxLimitExceeded(message, key)


# --- policy check on the syntax tree -------------------------------------------


def _words(text: str) -> list[str]:
    return text.split()


_ALLOWED_NODES = frozenset(
    getattr(ast, name)
    for name in _words(
        """
    Module Expression Expr Assign AugAssign If For While Break Continue Pass Delete
    Assert BoolOp BinOp UnaryOp Lambda IfExp Dict Set ListComp SetComp DictComp
    GeneratorExp Compare Call FormattedValue JoinedStr Constant Attribute Subscript
    Starred Name List Tuple Slice NamedExpr Load Store Del And Or Add Sub Mult Div
    FloorDiv Mod Pow LShift RShift BitOr BitXor BitAnd Invert Not UAdd USub Eq NotEq Lt
    LtE Gt GtE Is IsNot In NotIn comprehension arguments arg keyword
        """
    )
)
_CONSTANT_TYPES = (str, int, float, bool, type(None))
# Builtins that only serve introspection, code loading or I/O. Data may use
# these names (a form field called "type"), so only calling them is refused
# here; reading one that is not in the data is reported by ``_run``.
_FORBIDDEN_CALLS = frozenset(
    _words(
        "eval exec compile open input breakpoint help globals locals vars dir getattr "
        "setattr delattr hasattr type object super classmethod staticmethod property "
        "memoryview bytearray bytes id iter next exit quit format repr ascii reload "
        "issubclass aiter anext copyright credits license"
    )
)
_DIGIT_RUN = re.compile(r"\d+")


def _check_name(name: str | None, lineno: int, what: str = "名称") -> None:
    if name and name.startswith("_") and name != "_":
        raise _violation(
            f"不允许使用以下划线开头的{what}：{name}", "sandbox.forbidden_name", lineno
        )


def _check_format_spec(spec: ast.AST | None, lineno: int) -> None:
    """Only short constant specs with small widths: they size the output."""
    if spec is None:
        return
    parts = spec.values if isinstance(spec, ast.JoinedStr) else [spec]
    if not all(isinstance(p, ast.Constant) and isinstance(p.value, str) for p in parts):
        raise _violation("f-string 的格式说明必须是常量", "sandbox.dynamic_format_spec", lineno)
    text = "".join(p.value for p in parts)
    too_wide = any(int(run) > MAX_FORMAT_WIDTH for run in _DIGIT_RUN.findall(text))
    if len(text) > MAX_FORMAT_SPEC or too_wide:
        raise _violation(
            f"f-string 的格式说明过长或宽度过大：{text[:40]}", "sandbox.format_width", lineno
        )


def _has_slice(node: ast.AST) -> bool:
    if isinstance(node, ast.Slice):
        return True
    return isinstance(node, ast.Tuple) and any(isinstance(e, ast.Slice) for e in node.elts)


def _check_node(node: ast.AST, lineno: int) -> None:
    """Refuse one node that is not on the whitelist or uses a reserved name."""
    kind = type(node)
    if kind not in _ALLOWED_NODES:
        raise _violation(f"不允许使用该语法：{kind.__name__}", "sandbox.forbidden_syntax", lineno)
    if kind is ast.Name:
        _check_name(node.id, lineno)
    elif kind is ast.Attribute:
        _check_attribute(node, lineno)
    elif kind is ast.Call and isinstance(node.func, ast.Name) and node.func.id in _FORBIDDEN_CALLS:
        raise _violation(f"不允许调用 {node.func.id}()", "sandbox.forbidden_call", lineno)
    elif kind is ast.keyword or kind is ast.arg:
        _check_name(node.arg, lineno, "参数名")
    elif kind is ast.Constant and not isinstance(node.value, _CONSTANT_TYPES):
        raise _violation(
            f"不允许使用该常量类型：{type(node.value).__name__}",
            "sandbox.forbidden_constant",
            lineno,
        )
    elif kind is ast.FormattedValue:
        _check_format_spec(node.format_spec, lineno)
    elif (
        kind is ast.Subscript
        and not isinstance(node.ctx, ast.Load | ast.Del)
        and _has_slice(node.slice)
    ):
        raise _violation("不允许对切片赋值", "sandbox.slice_assignment", lineno)
    elif kind is ast.comprehension and node.is_async:
        raise _violation("不允许使用异步推导式", "sandbox.forbidden_syntax", lineno)
    elif kind is ast.arguments and node.vararg is not None:
        raise _violation("lambda 不允许使用 *args 参数", "sandbox.forbidden_syntax", lineno)


def _check_attribute(node: ast.Attribute, lineno: int) -> None:
    if not isinstance(node.ctx, ast.Load):
        raise _violation(
            f"不允许修改或删除属性：{node.attr}", "sandbox.attribute_assignment", lineno
        )
    _check_name(node.attr, lineno, "属性")
    if node.attr not in _ALL_ATTRIBUTE_NAMES:
        raise _violation(f"不允许访问属性：{node.attr}", "sandbox.forbidden_attribute", lineno)


def _check_tree(tree: ast.AST) -> None:
    """Walk the tree without recursion so deep trees cannot crash the check."""
    stack = [(tree, 1)]
    count = 0
    while stack:
        node, lineno = stack.pop()
        lineno = getattr(node, "lineno", lineno)
        count += 1
        if count > MAX_NODES:
            raise _violation("代码过于复杂", "sandbox.too_complex", lineno)
        _check_node(node, lineno)
        stack.extend((child, lineno) for child in ast.iter_child_nodes(node))


# --- rewriting the tree to call the guards ------------------------------------

_BINOP_GUARDS = {
    ast.Add: "_add",
    ast.Sub: "_sub",
    ast.Mult: "_mul",
    ast.Pow: "_pow",
    ast.LShift: "_lsh",
    ast.Mod: "_mod",
    ast.BitOr: "_or",
    ast.BitAnd: "_and",
    ast.BitXor: "_xor",
}
_INPLACE_GUARDS = {op: f"_i{name[1:]}" for op, name in _BINOP_GUARDS.items()}


def _call(name: str, args: list[ast.expr], where: ast.AST) -> ast.Call:
    call = ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=args, keywords=[])
    return ast.copy_location(call, where)


def _is_literal(node: ast.expr) -> bool:
    """A constant, or a display of constants such as ``('a', 'b')``."""
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return all(isinstance(e, ast.Constant) for e in node.elts)
    return isinstance(node, ast.Constant)


def _name(name: str, ctx: ast.expr_context, where: ast.AST) -> ast.Name:
    return ast.copy_location(ast.Name(id=name, ctx=ctx), where)


class _Rewriter(ast.NodeTransformer):
    """Route attribute reads, risky operators, loops and lambdas through guards."""

    def __init__(self):
        self.temps = 0

    def visit_Attribute(self, node):
        self.generic_visit(node)
        return _call("_ga", [node.value, ast.Constant(node.attr)], node)

    def visit_BinOp(self, node):
        self.generic_visit(node)
        guard = _BINOP_GUARDS.get(type(node.op))
        return _call(guard, [node.left, node.right], node) if guard else node

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        guard = _INPLACE_GUARDS.get(type(node.op))
        if guard is None:
            return node
        target = node.target
        if isinstance(target, ast.Name):
            load = _name(target.id, ast.Load(), target)
            value = _call(guard, [load, node.value], node)
            return ast.copy_location(ast.Assign(targets=[target], value=value), node)
        return self._augment_subscript(node, target, guard)

    def _augment_subscript(self, node, target, guard):
        """``a[k] += v`` evaluates ``a`` and ``k`` once, like Python does."""
        obj, key = self._temp(), self._temp()
        setup = [
            ast.Assign(targets=[_name(obj, ast.Store(), node)], value=target.value),
            ast.Assign(targets=[_name(key, ast.Store(), node)], value=target.slice),
        ]
        load = ast.Subscript(
            value=_name(obj, ast.Load(), node), slice=_name(key, ast.Load(), node), ctx=ast.Load()
        )
        store = ast.Subscript(
            value=_name(obj, ast.Load(), node), slice=_name(key, ast.Load(), node), ctx=ast.Store()
        )
        value = _call(guard, [load, node.value], node)
        statements = [*setup, ast.Assign(targets=[store], value=value)]
        return [ast.copy_location(s, node) for s in statements]

    def _temp(self) -> str:
        self.temps += 1
        return f"_v{self.temps}"

    def visit_While(self, node):
        self.generic_visit(node)
        node.test = _call("_t", [node.test], node.test)
        return node

    def visit_For(self, node):
        self.generic_visit(node)
        node.iter = _call("_it", [node.iter], node.iter)
        return node

    def visit_comprehension(self, node):
        self.generic_visit(node)
        node.iter = _call("_it", [node.iter], node.iter)
        return node

    def visit_Lambda(self, node):
        self.generic_visit(node)
        node.body = _call("_t", [node.body], node.body)
        return node

    def visit_JoinedStr(self, node):
        """``f'{a}{b:>9}'`` becomes ``_fjoin(_fmt(a, -1, ''), _fmt(b, -1, '>9'))``.

        Each part is checked, then the total length before the text is built.
        """
        parts = [self._format_part(part) for part in node.values]
        return _call("_fjoin", parts, node)

    def _format_part(self, part):
        if not isinstance(part, ast.FormattedValue):
            return part
        spec = part.format_spec
        text = "".join(p.value for p in spec.values) if isinstance(spec, ast.JoinedStr) else ""
        args = [self.visit(part.value), ast.Constant(part.conversion), ast.Constant(text)]
        return _call("_fmt", args, part)

    def visit_Subscript(self, node):
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load) and _has_slice(node.slice):
            node.value = _call("_cg", [node.value], node.value)
        return node

    def visit_Starred(self, node):
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load):
            node.value = _call("_cg", [node.value], node.value)
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        for keyword in node.keywords:
            if keyword.arg is None:
                keyword.value = _call("_cg", [keyword.value], keyword.value)
        return node

    def visit_Dict(self, node):
        self.generic_visit(node)
        node.values = [
            _call("_cg", [value], value) if key is None else value
            for key, value in zip(node.keys, node.values, strict=True)
        ]
        return node

    def visit_Tuple(self, node):
        self.generic_visit(node)
        if not isinstance(node.ctx, ast.Load) or all(
            isinstance(e, ast.Constant) for e in node.elts
        ):
            return node
        call = _call("_tup", node.elts, node)
        return call

    def visit_Compare(self, node):
        """Comparing or searching big containers costs their size."""
        self.generic_visit(node)
        node.left, *node.comparators = [
            e if _is_literal(e) else _call("_ci", [e], e) for e in (node.left, *node.comparators)
        ]
        return node

    def visit_Assign(self, node):
        self.generic_visit(node)
        if any(isinstance(n, ast.Starred) for t in node.targets for n in ast.walk(t)):
            node.value = _call("_cg", [node.value], node.value)
        return node


# --- compiling -----------------------------------------------------------------


@dataclass(frozen=True)
class _Compiled:
    code: CodeType
    needs_budget: bool


def _all_names(code: CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, CodeType):
            names |= _all_names(const)
    return names


def _parse(source: str, mode: str) -> ast.AST:
    if len(source) > MAX_SOURCE_CHARS:
        raise _violation("代码过长", "sandbox.too_long")
    try:
        return ast.parse(source, filename=FILENAME, mode=mode)
    except (RecursionError, MemoryError):
        raise _violation("代码嵌套过深", "sandbox.too_complex") from None


_FIRST_LINE_INDENT = re.compile(r"\A((?:[ \t]*\n)*)[ \t]+")


def _unindent(source: str, mode: str) -> str:
    """Diagram text is often indented inside its XML element; line numbers stay."""
    if mode == "eval":
        return _FIRST_LINE_INDENT.sub(r"\1", source).rstrip()
    return textwrap.dedent(source)


@lru_cache(maxsize=1024)
def _compile(source: str, mode: str) -> _Compiled:
    """Check, rewrite and compile once per distinct source text."""
    tree = _parse(_unindent(source, mode), mode)
    _check_tree(tree)
    try:
        tree = ast.fix_missing_locations(_Rewriter().visit(tree))
        code = compile(tree, FILENAME, mode, dont_inherit=True, optimize=0)
    except (RecursionError, MemoryError):
        raise _violation("代码嵌套过深", "sandbox.too_complex") from None
    return _Compiled(code, bool(_all_names(code) & _BUDGET_NAMES))


@lru_cache(maxsize=1024)
def _validated(source: str) -> None:
    """What ``ast.parse`` accepts, checked against the policy (for DMN cells)."""
    if len(source) > MAX_SOURCE_CHARS:
        raise _violation("代码过长", "sandbox.too_long")
    try:
        tree = ast.parse(source)
    except (RecursionError, MemoryError):
        raise _violation("代码嵌套过深", "sandbox.too_complex") from None
    _check_tree(tree)


def check_expression(source: str) -> None:
    """Check an expression without running it.

    Raises SyntaxError for invalid Python and SandboxViolation for anything the
    sandbox refuses; used when a deployment is uploaded.
    """
    _compile(source, "eval")


def check_script(source: str) -> None:
    """Check a script without running it (see ``check_expression``)."""
    _compile(source, "exec")


# --- the per-call budget -----------------------------------------------------------


def _read_rss() -> int | None:
    """Resident memory of this process, or None where /proc is missing."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return None


_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class _Budget:
    """Time, work and memory spent by one evaluate/execute call."""

    __slots__ = ("deadline", "limits", "next_check", "rss_start", "work")

    def __init__(self, limits: SandboxLimits, start: float):
        now = monotonic()
        self.limits = limits
        self.deadline = start + limits.time_limit
        # Short calls never pay for reading /proc; the memory baseline is taken
        # at the first check, before much can have been allocated.
        self.next_check = min(self.deadline, now + MEMORY_SAMPLE_SECONDS)
        self.work = 0
        self.rss_start = None

    def tick(self) -> None:
        if monotonic() >= self.next_check:
            self._check()

    def spend(self, amount: int) -> None:
        self.work += amount
        if self.work > self.limits.max_work:
            raise _limit("运算量超出限制", "sandbox.work_limit")
        self.tick()

    def _check(self) -> None:
        now = monotonic()
        if now > self.deadline:
            raise _limit(f"运行时间超过 {self.limits.time_limit:g} 秒", "sandbox.time_limit")
        self.next_check = min(self.deadline, now + MEMORY_SAMPLE_SECONDS)
        if self.limits.memory_limit:
            self._check_memory()

    def _check_memory(self) -> None:
        rss = _read_rss()
        if rss is None:
            return
        if self.rss_start is None:
            self.rss_start = rss
        elif rss - self.rss_start > self.limits.memory_limit:
            raise _limit("内存占用超出限制", "sandbox.memory_limit")


# Holds (limits, start time) while a call runs, and the _Budget once a guard
# needs one: most conditions never reach a slow path and skip building it.
_CURRENT: ContextVar[_Budget | tuple | None] = ContextVar("sandbox_budget", default=None)


def _budget() -> _Budget:
    current = _CURRENT.get()
    if type(current) is _Budget:
        return current
    if current is None:
        raise _limit("沙箱代码只能在求值期间运行", "sandbox.no_budget")
    budget = _Budget(*current)
    _CURRENT.set(budget)
    return budget


def _grow(size: int) -> None:
    """Refuse to build something larger than max_size; charge big builds."""
    if size > SMALL:
        budget = _budget()
        if size > budget.limits.max_size:
            raise _limit(f"结果过大（{size} 个元素/字符）", "sandbox.size_limit")
        budget.spend(size)


def _charge(size: int) -> None:
    if size > SMALL:
        _budget().spend(size)


def _check_bits(bits: int) -> None:
    if bits > SMALL and bits > _budget().limits.max_int_bits:
        raise _limit("整数过大", "sandbox.int_limit")


def _check_decimal(value: Decimal) -> None:
    """Decimals with huge exponents turn into huge ints or digit strings."""
    if value.is_finite() and abs(value.adjusted()) > MAX_DECIMAL_DIGITS:
        raise _limit("Decimal 数值的位数过多", "sandbox.decimal_limit")


# --- measuring nested values -----------------------------------------------------

_CONTAINERS = (list, tuple, dict, set, frozenset)
_SIZED = frozenset({str, list, tuple, dict, set, frozenset})


def _measure(value, limit: int) -> int:
    """Rough flattened size (items plus chars), refusing past ``limit``.

    Aliasing makes a small object expensive to print or copy
    (``[s] * 10**6``), so anything that flattens a value measures it first.
    """
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str:
            total += len(item) or 1
        elif kind is int:
            total += item.bit_length() // 3 + 1
        elif kind in _CONTAINERS:
            total += 1
            size = 2 * len(item) if kind is dict else len(item)
            if total + size > limit:
                raise _limit("数据过大", "sandbox.size_limit")
            stack.extend(item.items() if kind is dict else item)
        else:
            total += 1
        if total > limit:
            raise _limit("数据过大", "sandbox.size_limit")
    return total


def _element_weight(seq, limit: int) -> int:
    """Flattened size of the elements of ``seq`` (not counting ``seq`` itself)."""
    if type(seq) is str:
        return len(seq)
    return max(_measure(seq, limit + 1) - 1, len(seq))


# --- guards called by rewritten code ---------------------------------------------

_SEQUENCES = frozenset({str, list, tuple})
_SET_LIKE = frozenset({set, frozenset, dict, type({}.keys()), type({}.items())})
_COUNTABLE = _SIZED | _SET_LIKE | {range, type({}.values())}


def _t(value):
    """Loop tests and lambda bodies: keep the deadline."""
    _budget().tick()
    return value


def _it(iterable):
    """Every loop and comprehension iteration keeps the deadline."""
    tick = _budget().tick
    for item in iterable:
        tick()
        yield item


def _cg(value):
    """Copies by slicing or unpacking cost their size."""
    if type(value) in _COUNTABLE:
        _charge(len(value))
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
    _charge(visited)
    return deepest


def _check_nesting(items) -> None:
    """Hashing a deeply nested tuple overflows the C stack and kills the process."""
    for item in items:
        if type(item) is tuple and _tuple_depth(item) >= MAX_TUPLE_DEPTH - 1:
            raise _limit("元组嵌套过深", "sandbox.tuple_depth")


def _tup(*items):
    """A tuple display ``(a, b)``."""
    _check_nesting(items)
    return items


def _fv(value):
    """A value about to become text: the text must stay bounded."""
    kind = type(value)
    if kind is Decimal:
        _check_decimal(value)
    elif kind in _CONTAINERS:
        _charge(_measure(value, _budget().limits.max_size))
    return value


_CONVERSIONS = {-1: None, ord("s"): str, ord("r"): repr, ord("a"): ascii}


def _fmt(value, conversion: int, spec: str) -> str:
    """One f-string placeholder; the spec was checked when compiling."""
    _fv(value)
    convert = _CONVERSIONS[conversion]
    return format(value if convert is None else convert(value), spec)


def _fjoin(*parts) -> str:
    _grow(sum(map(len, parts)))
    return "".join(parts)


def _check_repeat(seq, count: int) -> None:
    """``seq * count`` builds count copies of every element's flattened size."""
    if count > 0 and len(seq) * count > SMALL:
        limit = _budget().limits.max_size
        _grow(_element_weight(seq, limit // count + 1) * count)


def _repeat(seq, count: int):
    _check_repeat(seq, count)
    return seq * count


def _add(a, b):
    if type(a) in _SEQUENCES and type(b) is type(a):
        _grow(len(a) + len(b))
    return _bounded(a + b)


def _sub(a, b):
    if type(a) in _SET_LIKE:
        _charge(len(a))
    return _bounded(a - b)


def _bounded(result):
    """Ints grow a bit per addition; a loop of them must not reach megabits."""
    if type(result) is int:
        _check_bits(result.bit_length())
    return result


def _set_op(a, b) -> None:
    if type(a) in _SET_LIKE or type(b) in _SET_LIKE:
        _grow(_len_or_zero(a) + _len_or_zero(b))


def _len_or_zero(value) -> int:
    return len(value) if type(value) in _COUNTABLE else 0


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
        _check_bits(a.bit_length() + b.bit_length())
    return a * b


def _pow(a, b):
    if isinstance(a, int) and isinstance(b, int) and b > 1 and abs(a) > 1:
        _check_bits(a.bit_length() * b)
    return a**b


def _lsh(a, b):
    if isinstance(a, int) and isinstance(b, int) and a and b > 0:
        _check_bits(a.bit_length() + b)
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
                raise _violation("% 格式化不允许使用 * 宽度", "sandbox.format_width")
            if len(number) > 4 or (number and int(number) > MAX_FORMAT_WIDTH):
                raise _limit("% 格式化的宽度过大", "sandbox.format_width")
            extra += int(number or 0)
    values = args.values() if type(args) is dict else args if type(args) is tuple else (args,)
    for value in values:
        if type(value) is Decimal:
            _check_decimal(value)
    _grow(len(template) + extra + _measure(args, _budget().limits.max_size))


def _iadd(a, b):
    if type(a) is list:
        if type(b) not in _SIZED:
            b = list(b)
        _grow(len(a) + len(b))
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
        _charge(len(a))
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
        _grow(total)
        return method(items)

    return join


def _wrap_replace(text: str, method):
    def replace(old, new, count=-1):
        if type(old) is str and type(new) is str and len(new) > len(old):
            hits = text.count(old) if old else len(text) + 1
            if isinstance(count, int) and count >= 0:
                hits = min(hits, count)
            _grow(len(text) + hits * (len(new) - len(old)))
        _charge(len(text))
        return method(old, new, count)

    return replace


def _wrap_pad(text: str, method):
    def pad(width, *rest):
        if isinstance(width, int):
            _grow(max(width, len(text)))
        return method(width, *rest)

    return pad


def _wrap_strftime(value, method):
    def strftime(fmt):
        if type(fmt) is str and len(fmt) > MAX_STRFTIME:
            raise _limit("日期格式字符串过长", "sandbox.format_width")
        return method(fmt)

    return strftime


def _wrap_strptime(cls, method):
    def strptime(text, fmt):
        if any(type(s) is str and len(s) > MAX_STRFTIME for s in (text, fmt)):
            raise _limit("日期字符串过长", "sandbox.format_width")
        return method(text, fmt)

    return strptime


def _wrap_extend(items: list, method):
    def extend(iterable):
        more = iterable if type(iterable) in (list, tuple) else list(iterable)
        _grow(len(items) + len(more))
        method(more)

    return extend


def _wrap_dict_update(mapping: dict, method):
    def update(*args, **kwargs):
        other = dict(*args, **kwargs)
        _grow(len(mapping) + len(other))
        method(other)

    return update


def _wrap_set_update(items: set, method):
    def update(*others):
        merged = set().union(*others)
        _grow(len(items) + len(merged))
        method(merged)

    return update


def _wrap_sized_args(obj, method):
    """Set algebra costs the sizes of all operands."""

    def call(*args):
        _charge(len(obj) + sum(_len_or_zero(a) for a in args))
        return method(*args)

    return call


def _rules(names: str, rule=_PLAIN, **special) -> dict:
    table = dict.fromkeys(_words(names), rule)
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
            _charge(len(items) - index)
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
        _charge(len(pairs))
        _check_nesting(mapping.values())
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
        _words("union intersection difference symmetric_difference issubset issuperset isdisjoint"),
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
    Decimal: _rules("quantize to_integral_value normalize"),
    date: _rules(_DATE_NAMES, strftime=_wrap_strftime),
    datetime: _rules(f"{_DATE_NAMES} {_TIME_NAMES} date time timestamp", strftime=_wrap_strftime),
    time: _rules(f"{_TIME_NAMES} isoformat replace", strftime=_wrap_strftime),
    timedelta: _rules("days seconds microseconds total_seconds"),
    type(date(2000, 1, 1).isocalendar()): _rules("year week weekday"),
}
_CLASS_ATTRS: dict[type, dict] = {
    date: _rules("today fromisoformat"),
    datetime: _rules("now today fromisoformat combine", strptime=_wrap_strptime),
}
_ALL_ATTRIBUTE_NAMES = frozenset(
    name for table in (*_ATTRS.values(), *_CLASS_ATTRS.values()) for name in table
)


def _ga(obj, name: str):
    """Read ``obj.name`` only if the exact type allows that public name."""
    kind = type(obj)
    rules = _CLASS_ATTRS.get(obj) if kind is type else _ATTRS.get(kind)
    rule = rules.get(name) if rules is not None else None
    if rule is None:
        raise _violation(
            f"不允许访问 {kind.__name__} 的属性：{name}",
            "sandbox.forbidden_attribute",
            sys._getframe(1).f_lineno,
        )
    value = getattr(obj, name)
    if rule is _PLAIN:
        return value
    if rule is _LINEAR:
        _charge(len(obj))
        return value
    return rule(obj, value)


# --- builtins -------------------------------------------------------------------------


def _str(*args):
    if len(args) > 1:
        raise TypeError("str() 只接受一个参数")
    value = args[0] if args else ""
    _fv(value)
    return str(value)


def _int(*args, **kwargs):
    if args and type(args[0]) is Decimal:
        _check_decimal(args[0])
    if args and type(args[0]) is str and len(args[0]) > MAX_DECIMAL_DIGITS:
        raise _limit("整数文本过长", "sandbox.int_limit")
    result = int(*args, **kwargs)
    _check_bits(result.bit_length())
    return result


def _round(number, ndigits=None):
    if ndigits is None:
        if type(number) is Decimal:
            _check_decimal(number)
        return round(number)
    if isinstance(ndigits, int) and abs(ndigits) > MAX_FORMAT_WIDTH:
        raise _limit("round() 的位数过大", "sandbox.int_limit")
    return round(number, ndigits)


def _range(*args):
    result = range(*args)
    try:
        size = len(result)
    except OverflowError:
        size = sys.maxsize
    _grow(size)
    return result


def _sized_copy(factory):
    def build(*args, **kwargs):
        if args and type(args[0]) in _COUNTABLE:
            _charge(len(args[0]))
        return factory(*args, **kwargs)

    build.__name__ = factory.__name__
    return build


def _sum(iterable, /, start=0):
    if not isinstance(start, int | float | Decimal):
        raise _violation("sum() 只能对数字求和", "sandbox.sum_non_numeric")
    if type(iterable) in _COUNTABLE:
        _charge(len(iterable))
    return sum(iterable, start)


def _map(function, iterable, *iterables):
    tick = _budget().tick
    for item in map(function, iterable, *iterables):
        tick()
        yield item


def _filter(function, iterable):
    tick = _budget().tick
    for item in iterable:
        tick()
        if function(item) if function is not None else item:
            yield item


def _zip(*iterables, strict=False):
    tick = _budget().tick
    for item in zip(*iterables, strict=strict):
        tick()
        _check_nesting(item)
        yield item


def _enumerate(iterable, start=0):
    tick = _budget().tick
    for item in enumerate(iterable, start):
        tick()
        _check_nesting(item)
        yield item


def _tuple(*args):
    if args and type(args[0]) in _COUNTABLE:
        _charge(len(args[0]))
    result = tuple(*args)
    _check_nesting(result)
    return result


def _scanning(function):
    """min/max/any/all read their whole argument."""

    def scan(*args, **kwargs):
        if len(args) == 1 and type(args[0]) in _COUNTABLE:
            _charge(len(args[0]))
        return function(*args, **kwargs)

    scan.__name__ = function.__name__
    return scan


def _decimal(value="0"):
    """Decimal from text or a number: long digit strings slow every later operation."""
    if type(value) not in (str, int, float, bool, Decimal):
        raise _violation("Decimal() 只接受文本或数字", "sandbox.forbidden_type")
    if type(value) is str and len(value) > MAX_DECIMAL_TEXT:
        raise _limit("Decimal 数值的位数过多", "sandbox.decimal_limit")
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
    raise _violation("isinstance() 只接受基本数据类型", "sandbox.forbidden_type")


def _isinstance(value, classinfo) -> bool:
    if type(classinfo) is tuple:
        return isinstance(value, tuple(_resolve_type(k) for k in classinfo))
    return isinstance(value, _resolve_type(classinfo))


def _now() -> datetime:
    """The current time as a naive UTC datetime, like the rest of the runtime."""
    return datetime.now(UTC).replace(tzinfo=None)


_BUILTINS = {
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
_HELPERS = {
    "date": date,
    "datetime": datetime,
    "timedelta": timedelta,
    "Decimal": _decimal,
    "now": _now,
}
_GUARDS = {
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
_BUDGET_NAMES = frozenset(_GUARDS) | {
    name
    for name, value in _BUILTINS.items()
    if callable(value) and value not in (abs, bool, float, len)
}


# --- data leaving the sandbox ---------------------------------------------------------

_SCALARS = frozenset(
    {type(None), bool, int, float, str, date, datetime, time, timedelta, Decimal, UUID}
)
_KEY_TYPES = frozenset({type(None), bool, int, float, str})
_STORABLE = _SCALARS | {list, tuple, dict}


def _check_data(value, limits: SandboxLimits, name: str, budget: int) -> int:
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
                raise _limit(f"变量 {name} 中的整数过大", "sandbox.int_limit")
            total += item.bit_length() // 3 + 1
        elif kind in _SCALARS:
            total += 8
        elif kind is list or kind is tuple or kind is dict:
            total += _push_children(item, depth, stack, limits, name)
        else:
            raise _violation(
                f"变量 {name} 中包含不能保存的值（{kind.__name__}）", "sandbox.unsupported_value"
            )
        if total > budget:
            raise _limit(f"变量 {name} 的数据过大", "sandbox.data_limit")
    return total


def _push_children(item, depth: int, stack: list, limits: SandboxLimits, name: str) -> int:
    if depth >= limits.max_data_depth:
        raise _limit(f"变量 {name} 嵌套过深", "sandbox.data_depth")
    if type(item) is not dict:
        stack.extend((child, depth + 1) for child in item)
        return len(item) + 2
    for key in item:
        if type(key) not in _KEY_TYPES:
            raise _violation(
                f"变量 {name} 中的字典键类型不能保存（{type(key).__name__}）",
                "sandbox.unsupported_value",
            )
    stack.extend((child, depth + 1) for pair in item.items() for child in pair)
    return 2 * len(item) + 2


_SAFE_ARG_CHARS = 500


def _sanitize(error: BaseException) -> None:
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
        _measure(arg, _SAFE_ARG_CHARS)
    except SandboxLimitExceeded:
        return f"<{kind.__name__}>"
    return repr(arg)[:_SAFE_ARG_CHARS]


# --- the SpiffWorkflow environment and engine ----------------------------------------


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """Runs expressions and scripts with TaskDataEnvironment's data semantics.

    ``execute`` updates the task data in place with what the script assigns,
    removes keys the script deletes and drops non-data values; ``evaluate``
    returns the value. Helpers behave like builtins: task data of the same
    name shadows them instead of being refused.
    """

    def __init__(self, helpers: dict | None = None, limits: SandboxLimits | None = None):
        super().__init__({})
        self.limits = limits or SandboxLimits()
        builtins = {**_BUILTINS, **_HELPERS, **_validate_helpers(helpers or {})}
        self._injected = {**_GUARDS, "__builtins__": builtins}

    def evaluate(self, expression, context, external_context=None):
        compiled = _compile(expression, "eval")
        scope = self._scope(context, external_context)
        value = self._run(compiled, scope, eval)
        return self._check_result(value)

    def execute(self, script, context, external_context=None):
        external = external_context or {}
        _check_for_overwrite(context, external)
        compiled = _compile(script, "exec")
        scope = self._scope(context, external)
        self._run(compiled, scope, exec)
        self._store(context, scope, external)
        return True

    def call_service(self, context, **kwargs):
        raise _violation("暂不支持服务任务", "sandbox.service_task_unsupported")

    def _scope(self, context, external) -> dict:
        """Task data over external names, with the guards always winning."""
        scope = self._injected.copy()
        if external:
            scope.update(external)
        scope.update(context)
        if len(scope) < len(self._injected) + len(context) + len(external or ()):
            scope.update(self._injected)  # a key collided; it may have been a guard
        return scope

    def _run(self, compiled: _Compiled, scope: dict, runner):
        token = _CURRENT.set((self.limits, monotonic())) if compiled.needs_budget else None
        try:
            return runner(compiled.code, scope)
        except SandboxError:
            raise
        except RecursionError as error:
            raise _limit("递归层数过深", "sandbox.recursion_limit").with_traceback(
                error.__traceback__
            ) from None
        except MemoryError as error:
            raise _limit("内存不足", "sandbox.memory_limit").with_traceback(
                error.__traceback__
            ) from None
        except NameError as error:
            if error.name in _FORBIDDEN_CALLS:
                violation = _violation(f"不允许使用 {error.name}", "sandbox.forbidden_name")
                raise violation.with_traceback(error.__traceback__) from None
            _sanitize(error)
            raise
        except Exception as error:
            _sanitize(error)
            raise
        finally:
            if token is not None:
                _CURRENT.reset(token)

    def _check_result(self, value):
        if type(value) in _SCALARS and type(value) is not int:
            return value
        _check_data(value, self.limits, "表达式结果", self.limits.max_data_size)
        return value

    def _store(self, context: dict, scope: dict, external: dict) -> None:
        """Copy the script's variables back into task data, all or nothing.

        A list or dict the script changed in place is shared with the task
        data already; if it became unstorable, its key is removed so the
        runtime never tries to serialize it.
        """
        updates, drops = {}, []
        for key, value in scope.items():
            if key.startswith("_") or key in external:
                continue
            if type(value) in _STORABLE:
                updates[key] = value
            else:
                drops.append(key)
        remaining = self.limits.max_data_size
        for key, value in updates.items():
            try:
                remaining -= _check_data(value, self.limits, key, remaining)
            except SandboxError:
                context.pop(key, None)
                raise
        deleted = [key for key in context if key not in scope]
        context.update(updates)
        for key in deleted + drops:
            context.pop(key, None)


def _validate_helpers(helpers: dict) -> dict:
    """Helpers must be reachable names holding functions or plain data."""
    for name, value in helpers.items():
        if not name.isidentifier() or name.startswith("_"):
            raise ValueError(f"invalid helper name: {name!r}")
        if not callable(value) and type(value) not in _SCALARS:
            raise ValueError(f"helper {name!r} must be a function or a plain value")
    return dict(helpers)


def _check_for_overwrite(context: dict, external: dict) -> None:
    """As in TaskDataEnvironment: task data must not hide external names."""
    clashes = set(external).intersection(context)
    if clashes:
        raise ValueError(
            "You have task data that overwrites a predefined function(s). Please change "
            f"the following variable or field name(s) to something else: {clashes}"
        )


class SandboxScriptEngine(PythonScriptEngine):
    """A PythonScriptEngine whose every script and expression runs in the sandbox."""

    def __init__(
        self,
        environment: SandboxEnvironment | None = None,
        *,
        helpers: dict | None = None,
        limits: SandboxLimits | None = None,
    ):
        super().__init__(environment or SandboxEnvironment(helpers=helpers, limits=limits))

    def validate(self, expression):
        """SyntaxError exactly as ``ast.parse`` raises it, then the policy check.

        DMNEngine.needs_eq tells a full expression from a ``< 5`` style cell by
        catching SyntaxError, so policy problems must not look like syntax.
        """
        _validated(expression)

    def evaluate(self, task, expression, external_context=None):
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except SpiffWorkflowException as error:
            error.add_note(f"Error evaluating expression '{expression}'")
            raise
        except Exception as error:
            message = f"Error evaluating expression '{expression}': {type(error).__name__}: {error}"
            raise WorkflowTaskException(message, task=task, exception=error) from error

    def call_service(self, task, **kwargs):
        raise WorkflowTaskException(
            "暂不支持服务任务 (sandbox.service_task_unsupported)", task=task
        )

    def create_task_exec_exception(self, task, script, err):
        """Like the base class, but messages need not be strings in ``args[0]``."""
        if isinstance(err, SpiffWorkflowException):
            return super().create_task_exec_exception(task, script, err)
        line_number, error_line = self.get_error_line_number_and_content(script, err)
        return WorkflowTaskException(
            f"{type(err).__name__}: {err}",
            task=task,
            exception=err,
            line_number=line_number,
            error_line=error_line,
        )

    def get_error_line_number_and_content(self, script, err):
        """Policy errors are found before running, so they carry the line."""
        lineno = getattr(err, "lineno", None) if isinstance(err, SandboxError) else None
        if not lineno:
            return super().get_error_line_number_and_content(script, err)
        lines = script.splitlines()
        return lineno, lines[lineno - 1] if 0 < lineno <= len(lines) else ""
