"""From source text to checked, rewritten code (cached per distinct text)."""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass
from functools import lru_cache
from types import CodeType

from .checker import check_tree
from .errors import violation
from .guards import GUARDS
from .rewriter import Rewriter
from .safe_builtins import BUILTINS

FILENAME = "<string>"  # SpiffWorkflow finds script line numbers by this name
MAX_SOURCE_CHARS = 100_000

_BUDGET_NAMES = frozenset(GUARDS) | {
    name
    for name, value in BUILTINS.items()
    if callable(value) and value not in (abs, bool, float, len)
}


@dataclass(frozen=True)
class Compiled:
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
        raise violation("代码过长", "sandbox.too_long")
    try:
        return ast.parse(source, filename=FILENAME, mode=mode)
    except (RecursionError, MemoryError):
        raise violation("代码嵌套过深", "sandbox.too_complex") from None


_FIRST_LINE_INDENT = re.compile(r"\A((?:[ \t]*\n)*)[ \t]+")


def _unindent(source: str, mode: str) -> str:
    """Diagram text is often indented inside its XML element; line numbers stay."""
    if mode == "eval":
        return _FIRST_LINE_INDENT.sub(r"\1", source).rstrip()
    return textwrap.dedent(source)


@lru_cache(maxsize=1024)
def compile_checked(source: str, mode: str) -> Compiled:
    """Check, rewrite and compile once per distinct source text."""
    tree = _parse(_unindent(source, mode), mode)
    check_tree(tree)
    try:
        tree = ast.fix_missing_locations(Rewriter().visit(tree))
        code = compile(tree, FILENAME, mode, dont_inherit=True, optimize=0)
    except (RecursionError, MemoryError):
        raise violation("代码嵌套过深", "sandbox.too_complex") from None
    return Compiled(code, bool(_all_names(code) & _BUDGET_NAMES))


@lru_cache(maxsize=1024)
def check_parsed(source: str) -> None:
    """What ``ast.parse`` accepts, checked against the policy (for DMN cells)."""
    if len(source) > MAX_SOURCE_CHARS:
        raise violation("代码过长", "sandbox.too_long")
    try:
        tree = ast.parse(source)
    except (RecursionError, MemoryError):
        raise violation("代码嵌套过深", "sandbox.too_complex") from None
    check_tree(tree)


def check_expression(source: str) -> None:
    """Check an expression without running it.

    Raises SyntaxError for invalid Python and SandboxViolation for anything the
    sandbox refuses; used when a deployment is uploaded.
    """
    compile_checked(source, "eval")


def check_script(source: str) -> None:
    """Check a script without running it (see ``check_expression``)."""
    compile_checked(source, "exec")
