"""Locals that only ever hold one side-effect-free value, read as that value in tests.

`args_type = type(args)` makes `if args_type is tuple:` the test `type(args) is tuple`, and
`B, T, H, BT = A.shape` makes `BT` the subscript the function reads at its position
(`A.shape[-1]`), so a check of `A.shape[-1]` decides a chain over `BT`. Used by
`scope_facts.ScopeFacts.atom_of`.
"""

from __future__ import annotations

from typing import Optional

from analyzer import tree as T
from analyzer.flow.conditions import subject_text
from analyzer.flow.syntax import inner_blocks

__all__ = ["alias_candidates", "shape_source", "SHAPE_ATTRIBUTES", "SHAPE_READS", "value_aliases"]


def value_aliases(func: T.AST, binding_lines) -> dict[str, tuple[str, frozenset, bool]]:
    """Local -> (text, names read, shape only) of the one value it ever holds (see
    `ScopeFacts.aliases`); `binding_lines`: the scope's `names.NodeLines`. With "shape only" the
    local is a new tensor shaped like the named one (`y = torch.empty_like(x)`): it equals it in
    `SHAPE_READS` only."""
    assigns, stored = [], set()
    # (text of the container, constant index) -> text of a subscript the function reads
    # (`A.shape[-1]`): what a name unpacked from that container (`B, T, H, BT = A.shape`) equals
    items: dict[tuple[str, int], str] = {}
    stack: list[T.AST] = list(func.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (T.FunctionDef, T.AsyncFunctionDef, T.ClassDef, T.Lambda)):
            continue
        if isinstance(node, T.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], (T.Name, T.Tuple, T.List)):
            assigns.append(node)
        elif isinstance(node, (T.Attribute, T.Subscript)) and not isinstance(node.ctx, T.Load):
            text = subject_text(node.value)
            if text is not None:
                stored.add(text.split(".", 1)[0])  # `self.x = ...` may change any `self.` value
        elif isinstance(node, (T.Global, T.Nonlocal)):
            return {}
        if isinstance(node, T.Subscript) and isinstance(node.ctx, T.Load):
            index, container = _constant_index(node.slice), subject_text(node.value)
            if index is not None and container is not None:
                items.setdefault((container, index), subject_text(node))
        stack.extend(T.iter_child_nodes(node))
    out = {}
    for st in assigns:
        shaped = shape_source(st.value)
        if shaped is not None:
            target = st.targets[0]
            if isinstance(target, T.Name) and target.id != shaped and len(binding_lines.get(target.id, ())) == 1:
                line = binding_lines.get(target.id)[0]
                # the source keeps the shape it had there: not bound again at or after the copy
                if shaped not in stored and all(ln < line for ln in binding_lines.get(shaped, ())):
                    out[target.id] = (shaped, frozenset({shaped}), True)
            continue
        names = _alias_reads(st.value)
        if names is None or any(n in binding_lines or n in stored for n in names):
            continue
        target = st.targets[0]
        text = subject_text(st.value)
        if text is None:
            continue
        if isinstance(target, T.Name):
            pairs = [(target.id, text)]
        else:
            elts = target.elts
            if any(not isinstance(e, T.Name) for e in elts):
                continue  # a starred or nested target: positions are not fixed
            pairs = [(e.id, items.get((text, i)) or items.get((text, i - len(elts)))) for i, e in enumerate(elts)]
        for name, value in pairs:
            if value is not None and len(binding_lines.get(name, ())) == 1 and name not in names:
                out[name] = (value, frozenset(names), False)
    return out


# tests that read only a tensor's shape, which a copy shaped like it shares: as dotted text after
# the name, and as the attributes they read (the structural dump of a call or subscript)
SHAPE_READS = (".dim()", ".ndim", ".shape", ".size(")
SHAPE_ATTRIBUTES = ("dim", "ndim", "shape", "size")
# `torch.empty_like(x)`, `x.new_empty(...)` is not one: its shape is its argument
_LIKE = frozenset({"empty_like", "zeros_like", "ones_like", "full_like", "rand_like", "randn_like"})
_COPIES = frozenset({"clone", "contiguous", "detach"})


def shape_source(value: T.expr) -> Optional[str]:
    """`x` when `value` is a new tensor of `x`'s shape: `torch.empty_like(x, ...)` (any module
    prefix, any keywords but `size`), `x.clone()`, `x.contiguous()`, `x.detach()`."""
    if not isinstance(value, T.Call):
        return None
    f = value.func
    name = f.attr if isinstance(f, T.Attribute) else f.id if isinstance(f, T.Name) else None
    if name in _LIKE and value.args and isinstance(value.args[0], T.Name) \
            and not any(k.arg in (None, "size") for k in value.keywords):
        return value.args[0].id
    if name in _COPIES and isinstance(f, T.Attribute) and isinstance(f.value, T.Name) and not value.keywords \
            and (not value.args or name == "contiguous"):
        return f.value.id
    return None


def alias_candidates(func: T.AST) -> frozenset[str]:
    """The names `value_aliases` may give a value for: targets of a one-target assignment of an
    alias-able value. Found from the statements alone, so that the walk over every expression
    of `value_aliases` runs only in the functions where some test reads such a name."""
    out: set[str] = set()
    stack = [func.body]
    while stack:
        for st in stack.pop():
            kind = type(st)
            if kind is T.FunctionDef or kind is T.AsyncFunctionDef or kind is T.ClassDef:
                continue
            if kind is T.Assign:
                if len(st.targets) == 1 and (_alias_reads(st.value) is not None or shape_source(st.value) is not None):
                    out.update(n.id for n in T.walk(st.targets[0]) if type(n) is T.Name)
                continue
            stack.extend(inner_blocks(st))
    return frozenset(out)


def _constant_index(node: T.expr) -> Optional[int]:
    if isinstance(node, T.Constant) and type(node.value) is int:
        return node.value
    if (isinstance(node, T.UnaryOp) and isinstance(node.op, T.USub) and isinstance(node.operand, T.Constant)
            and type(node.operand.value) is int):
        return -node.operand.value
    return None


def _alias_reads(expr: T.expr) -> Optional[set[str]]:
    """The names an alias-able value reads (a name, an attribute chain, a constant subscript of
    one, or `type(...)` / `len(...)` of one), or None for any other expression."""
    if isinstance(expr, T.Call) and isinstance(expr.func, T.Name) and expr.func.id in ("type", "len") \
            and len(expr.args) == 1 and not expr.keywords:
        inner = _alias_reads(expr.args[0])
        return None if inner is None else inner | {expr.func.id}
    if isinstance(expr, T.Subscript) and _constant_index(expr.slice) is not None:
        return _alias_reads(expr.value)
    while isinstance(expr, T.Attribute):
        expr = expr.value
    return {expr.id} if isinstance(expr, T.Name) else None
