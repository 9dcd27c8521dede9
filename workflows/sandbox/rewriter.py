"""Rewriting checked code so that risky operations go through the guards.

Attribute reads, the operators that can build big values, loops, lambdas,
f-strings, slices, unpacking and comparisons become calls of the guard
functions in ``guards`` (their names start with ``_``, which checked code may
not use).
"""

from __future__ import annotations

import ast

from .checker import has_slice

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


class Rewriter(ast.NodeTransformer):
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
        if isinstance(node.ctx, ast.Load) and has_slice(node.slice):
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
