"""The policy check on the syntax tree: the whitelist of the threat model.

Runs before anything is compiled; refuses syntax, names, calls, attributes,
constants and format specs the sandbox does not allow.
"""

from __future__ import annotations

import ast
import re

from .budget import MAX_FORMAT_WIDTH
from .errors import violation
from .guards import ALL_ATTRIBUTE_NAMES

MAX_NODES = 10_000
MAX_FORMAT_SPEC = 100

_ALLOWED_NODES = frozenset(
    getattr(ast, name)
    for name in [
        "Module",
        "Expression",
        "Expr",
        "Assign",
        "AugAssign",
        "If",
        "For",
        "While",
        "Break",
        "Continue",
        "Pass",
        "Delete",
        "Assert",
        "BoolOp",
        "BinOp",
        "UnaryOp",
        "Lambda",
        "IfExp",
        "Dict",
        "Set",
        "ListComp",
        "SetComp",
        "DictComp",
        "GeneratorExp",
        "Compare",
        "Call",
        "FormattedValue",
        "JoinedStr",
        "Constant",
        "Attribute",
        "Subscript",
        "Starred",
        "Name",
        "List",
        "Tuple",
        "Slice",
        "NamedExpr",
        "Load",
        "Store",
        "Del",
        "And",
        "Or",
        "Add",
        "Sub",
        "Mult",
        "Div",
        "FloorDiv",
        "Mod",
        "Pow",
        "LShift",
        "RShift",
        "BitOr",
        "BitXor",
        "BitAnd",
        "Invert",
        "Not",
        "UAdd",
        "USub",
        "Eq",
        "NotEq",
        "Lt",
        "LtE",
        "Gt",
        "GtE",
        "Is",
        "IsNot",
        "In",
        "NotIn",
        "comprehension",
        "arguments",
        "arg",
        "keyword",
    ]
)
_CONSTANT_TYPES = (str, int, float, bool, type(None))
# Builtins that only serve introspection, code loading or I/O. Data may use
# these names (a form field called "type"), so only calling them is refused
# here; reading one that is not in the data is reported by the environment's ``_run``.
FORBIDDEN_CALLS = frozenset(
    [
        "eval",
        "exec",
        "compile",
        "open",
        "input",
        "breakpoint",
        "help",
        "globals",
        "locals",
        "vars",
        "dir",
        "getattr",
        "setattr",
        "delattr",
        "hasattr",
        "type",
        "object",
        "super",
        "classmethod",
        "staticmethod",
        "property",
        "memoryview",
        "bytearray",
        "bytes",
        "id",
        "iter",
        "next",
        "exit",
        "quit",
        "format",
        "repr",
        "ascii",
        "reload",
        "issubclass",
        "aiter",
        "anext",
        "copyright",
        "credits",
        "license",
    ]
)
_DIGIT_RUN = re.compile(r"\d+")


def _check_name(name: str | None, lineno: int, what: str = "名称") -> None:
    if name and name.startswith("_") and name != "_":
        raise violation(f"不允许使用以下划线开头的{what}：{name}", "sandbox.forbidden_name", lineno)


def _check_format_spec(spec: ast.AST | None, lineno: int) -> None:
    """Only short constant specs with small widths: they size the output."""
    if spec is None:
        return
    parts = spec.values if isinstance(spec, ast.JoinedStr) else [spec]
    if not all(isinstance(p, ast.Constant) and isinstance(p.value, str) for p in parts):
        raise violation("f-string 的格式说明必须是常量", "sandbox.dynamic_format_spec", lineno)
    text = "".join(p.value for p in parts)
    too_wide = any(int(run) > MAX_FORMAT_WIDTH for run in _DIGIT_RUN.findall(text))
    if len(text) > MAX_FORMAT_SPEC or too_wide:
        raise violation(
            f"f-string 的格式说明过长或宽度过大：{text[:40]}", "sandbox.format_width", lineno
        )


def has_slice(node: ast.AST) -> bool:
    if isinstance(node, ast.Slice):
        return True
    return isinstance(node, ast.Tuple) and any(isinstance(e, ast.Slice) for e in node.elts)


def _check_node(node: ast.AST, lineno: int) -> None:
    """Refuse one node that is not on the whitelist or uses a reserved name."""
    kind = type(node)
    if kind not in _ALLOWED_NODES:
        raise violation(f"不允许使用该语法：{kind.__name__}", "sandbox.forbidden_syntax", lineno)
    if kind is ast.Name:
        _check_name(node.id, lineno)
    elif kind is ast.Attribute:
        _check_attribute(node, lineno)
    elif kind is ast.Call and isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_CALLS:
        raise violation(f"不允许调用 {node.func.id}()", "sandbox.forbidden_call", lineno)
    elif kind is ast.keyword or kind is ast.arg:
        _check_name(node.arg, lineno, "参数名")
    elif kind is ast.Constant and not isinstance(node.value, _CONSTANT_TYPES):
        raise violation(
            f"不允许使用该常量类型：{type(node.value).__name__}",
            "sandbox.forbidden_constant",
            lineno,
        )
    elif kind is ast.FormattedValue:
        _check_format_spec(node.format_spec, lineno)
    elif (
        kind is ast.Subscript
        and not isinstance(node.ctx, ast.Load | ast.Del)
        and has_slice(node.slice)
    ):
        raise violation("不允许对切片赋值", "sandbox.slice_assignment", lineno)
    elif kind is ast.comprehension and node.is_async:
        raise violation("不允许使用异步推导式", "sandbox.forbidden_syntax", lineno)
    elif kind is ast.arguments and node.vararg is not None:
        raise violation("lambda 不允许使用 *args 参数", "sandbox.forbidden_syntax", lineno)


def _check_attribute(node: ast.Attribute, lineno: int) -> None:
    if not isinstance(node.ctx, ast.Load):
        raise violation(
            f"不允许修改或删除属性：{node.attr}", "sandbox.attribute_assignment", lineno
        )
    _check_name(node.attr, lineno, "属性")
    if node.attr not in ALL_ATTRIBUTE_NAMES:
        raise violation(f"不允许访问属性：{node.attr}", "sandbox.forbidden_attribute", lineno)


def check_tree(tree: ast.AST) -> None:
    """Walk the tree without recursion so deep trees cannot crash the check."""
    stack = [(tree, 1)]
    count = 0
    while stack:
        node, lineno = stack.pop()
        lineno = getattr(node, "lineno", lineno)
        count += 1
        if count > MAX_NODES:
            raise violation("代码过于复杂", "sandbox.too_complex", lineno)
        _check_node(node, lineno)
        stack.extend((child, lineno) for child in ast.iter_child_nodes(node))
