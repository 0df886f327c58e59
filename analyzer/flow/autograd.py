"""Custom `torch.autograd.Function` classes of a module, with the counts their contract ties together.

PyTorch checks these counts only when backward first runs: `backward` returns one gradient per
input of `forward` (extra trailing `None`s are allowed), `backward` takes one gradient per output
of `forward`, and `ctx.saved_tensors` holds what `ctx.save_for_backward` was given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from analyzer import tree as T
from analyzer.flow.results import FunctionFlow, ModuleFlow, ReturnRecord
from analyzer.flow.syntax import bound_first, ctx_param, dotted_name as _dotted, repetition

__all__ = ["AutogradClass", "SavedUse", "find_autograd_classes"]

_FUNCTION_PATHS = {"torch.autograd.Function", "torch.autograd.function.Function",
                   "torch.autograd.function.InplaceFunction", "torch.autograd.InplaceFunction"}


@dataclass(frozen=True)
class SavedUse:
    node: T.AST
    count: Optional[int]  # targets of an unpacking; None for an index
    starred: bool = False
    index: Optional[int] = None


@dataclass
class AutogradClass:
    node: T.ClassDef
    forward: Optional[FunctionFlow] = None
    backward: Optional[FunctionFlow] = None
    setup_context: Optional[FunctionFlow] = None
    saved_counts: set = field(default_factory=set)  # arg counts of save_for_backward calls (None: starred)
    save_line: int = 0  # the first save_for_backward call
    saved_uses: list[SavedUse] = field(default_factory=list)
    # argument counts of the module's `Cls.apply(...)` calls (None: starred or keyword arguments)
    apply_counts: set = field(default_factory=set)

    def input_range(self) -> Optional[tuple[int, int]]:
        """(required, all) positional inputs of forward, after ctx; None when *args makes it unknown.
        When every `Cls.apply(...)` call of the module passes the same count within that range,
        that count is the number of inputs (defaults that no call leaves out do not excuse)."""
        if self.forward is None:
            return None
        args = self.forward.node.args
        if args.vararg is not None:
            return None
        params = list(args.posonlyargs) + list(args.args)
        params = params[bound_first(self.forward.node):]  # `cls` of a classmethod forward
        if self.setup_context is None:
            params = params[1:]  # ctx
        n_defaults = min(len(args.defaults), len(params))
        lo, hi = len(params) - n_defaults, len(params)
        n = self.applied_count(lo, hi)
        return (n, n) if n is not None else (lo, hi)

    def applied_count(self, lo: int, hi: int) -> Optional[int]:
        """The one argument count every `Cls.apply(...)` call passes, when it is within (lo, hi)
        and the defaults left a choice."""
        if lo == hi or len(self.apply_counts) != 1 or None in self.apply_counts:
            return None
        (n,) = self.apply_counts
        return n if lo <= n <= hi else None

    def grad_params(self) -> Optional[int]:
        """Gradient parameters of backward after ctx; None with *grad_outputs."""
        if self.backward is None or self.backward.node.args.vararg is not None:
            return None
        args = self.backward.node.args
        return max(len(list(args.posonlyargs) + list(args.args)) - 1 - bound_first(self.backward.node), 0)

    def ctx_name(self, flow: Optional[FunctionFlow]) -> Optional[str]:
        return None if flow is None else ctx_param(flow.node)


def _function_aliases(imports: list) -> tuple[set[str], set[str]]:
    """(names bound to the Function class, dotted prefixes standing for torch.autograd modules)."""
    names: set[str] = set()
    prefixes: set[str] = {"torch.autograd", "torch.autograd.function"}
    for node in imports:
        if isinstance(node, T.ImportFrom) and node.module in ("torch.autograd", "torch.autograd.function"):
            for a in node.names:
                if a.name in ("Function", "InplaceFunction"):
                    names.add(a.asname or a.name)
        elif isinstance(node, T.ImportFrom) and node.module == "torch":
            for a in node.names:
                if a.name == "autograd":
                    prefixes.add(a.asname or a.name)
        elif isinstance(node, T.Import):
            for a in node.names:
                if a.name in ("torch.autograd", "torch.autograd.function") and a.asname:
                    prefixes.add(a.asname)
                elif a.name == "torch" and a.asname:
                    prefixes.add(f"{a.asname}.autograd")
    return names, prefixes


def find_autograd_classes(flow: ModuleFlow) -> list[AutogradClass]:
    """The module's autograd Function classes (computed once per module, shared by the rules)."""
    cached = flow.cache.get("autograd")
    if cached is None:
        cached = flow.cache["autograd"] = _find(flow)
    return cached


def _find(flow: ModuleFlow) -> list[AutogradClass]:
    if not any(node.bases for node in flow.classes):
        return []
    names, prefixes = _function_aliases(flow.imports)
    by_qualname = {f.qualname: f for f in flow.functions}
    found: dict[str, AutogradClass] = {}
    for node in flow.classes:
        is_fn = False
        for base in node.bases:
            text = _dotted(base)
            if text is None:
                continue
            if text in names or text in found or text in _FUNCTION_PATHS:
                is_fn = True
            elif "." in text and text.rsplit(".", 1)[0] in prefixes and text.rsplit(".", 1)[1] in ("Function", "InplaceFunction"):
                is_fn = True
        if not is_fn:
            continue
        qual = _qualname_of(flow, node)
        cls = AutogradClass(node)
        cls.forward = by_qualname.get(f"{qual}.forward")
        cls.backward = by_qualname.get(f"{qual}.backward")
        cls.setup_context = by_qualname.get(f"{qual}.setup_context")
        _collect_saved(cls)
        found[node.name] = cls
    if found:
        _collect_apply_calls(flow.tree, found)
    return list(found.values())


def _collect_apply_calls(tree: T.Module, classes: dict[str, AutogradClass]) -> None:
    for node in T.walk(tree):
        if (isinstance(node, T.Call) and isinstance(node.func, T.Attribute) and node.func.attr == "apply"
                and isinstance(node.func.value, T.Name) and node.func.value.id in classes):
            starred = node.keywords or any(isinstance(a, T.Starred) for a in node.args)
            classes[node.func.value.id].apply_counts.add(None if starred else len(node.args))


def _qualname_of(flow: ModuleFlow, cls: T.ClassDef) -> str:
    for f in flow.functions:
        if f.name in ("forward", "backward", "setup_context") and f.node in cls.body:
            return f.qualname.rsplit(".", 1)[0]
    return cls.name


def _collect_saved(cls: AutogradClass) -> None:
    for holder in (cls.forward, cls.setup_context):
        ctx = cls.ctx_name(holder)
        if holder is None or ctx is None:
            continue
        for node in T.walk(holder.node):
            if (isinstance(node, T.Call) and isinstance(node.func, T.Attribute)
                    and node.func.attr == "save_for_backward" and _dotted(node.func.value) == ctx):
                cls.save_line = cls.save_line or node.lineno
                if any(isinstance(a, T.Starred) for a in node.args) or node.keywords:
                    cls.saved_counts.add(None)
                else:
                    cls.saved_counts.add(len(node.args))
    ctx = cls.ctx_name(cls.backward)
    if cls.backward is None or ctx is None:
        return
    aliases = _saved_aliases(cls.backward.node, ctx)

    def saved(node: T.expr) -> bool:
        return _is_saved(node, ctx) or (isinstance(node, T.Name) and node.id in aliases)

    for node in T.walk(cls.backward.node):
        if isinstance(node, T.Assign) and saved(node.value):
            for t in node.targets:
                if isinstance(t, (T.Tuple, T.List)):
                    stars = sum(isinstance(e, T.Starred) for e in t.elts)
                    cls.saved_uses.append(SavedUse(t, len(t.elts) - stars, bool(stars)))
        elif isinstance(node, T.Subscript) and saved(node.value):
            idx = node.slice
            if isinstance(idx, T.Constant) and isinstance(idx.value, int) and not isinstance(idx.value, bool):
                cls.saved_uses.append(SavedUse(node, None, index=idx.value))


def _saved_aliases(fn: T.AST, ctx: str) -> set[str]:
    """Locals that hold `ctx.saved_tensors` itself (`saved = ctx.saved_tensors`): bound by that one
    assignment and nothing else, so their unpackings and indexes count as the saved tensors'."""
    stores: dict[str, int] = {}
    from_saved: set[str] = set()
    for node in T.walk(fn):
        if isinstance(node, T.Name) and isinstance(node.ctx, (T.Store, T.Del)):
            stores[node.id] = stores.get(node.id, 0) + 1
        elif isinstance(node, T.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], T.Name) \
                and _is_saved(node.value, ctx):
            from_saved.add(node.targets[0].id)
    return {n for n in from_saved if stores.get(n) == 1}


def _is_saved(node: T.expr, ctx: str) -> bool:
    return isinstance(node, T.Attribute) and node.attr in ("saved_tensors", "saved_variables") and _dotted(node.value) == ctx


# calls that give one tensor: `torch.matmul(g, A)`, `g.mm(A)`, `grad.t()`
_ONE_TENSOR_CALLS = frozenset({
    "matmul", "mm", "bmm", "einsum", "linear", "mul", "add", "sub", "div", "t", "transpose", "reshape",
    "view", "contiguous", "to", "clone", "zeros_like", "ones_like", "empty_like", "sum", "mean", "masked_fill",
    "where", "addmm", "baddbmm", "permute", "squeeze", "unsqueeze", "expand", "float", "half", "bfloat16",
})


def return_arity(r: ReturnRecord, func: Optional[T.AST] = None) -> Optional[int]:
    """Items a return gives: a known tuple's length, 1 for a plain value that is surely not a tuple
    (arithmetic, a one-tensor call, or a local of `func` that only such values are assigned to)."""
    if r.node is None:
        return None
    if r.shape is not None and r.starred_head is None:
        return len(r.shape)
    v = r.value
    if _one_value(v):
        return 1
    if isinstance(v, T.Name) and func is not None and _local_holds_one_value(func, v.id):
        return 1
    return None


def gradient_count(r: ReturnRecord, func: Optional[T.AST], inputs: int) -> Optional[int]:
    """The gradients a return of backward gives PyTorch: its arity, except that surplus items past
    `inputs` that are all literal `None` are dropped, as PyTorch drops them (`(dq, dk) + (None,) *
    15`, `dq, dk, *((None,) * 30)`)."""
    n = return_arity(r, func)
    if n is None or n <= inputs:
        return n
    items = _items(r.value)
    if items is not None and all(isinstance(e, T.Constant) and e.value is None for e in items[inputs:]):
        return inputs
    return n


def _items(value) -> "list | None":
    """The item expressions of a tuple built from literals (`(a, b)`, `(a,) + (None,) * 3`,
    `(a, *((None,) * 3))`), or None."""
    if isinstance(value, T.Tuple):
        out: list = []
        for e in value.elts:
            inner = _items(e.value) if isinstance(e, T.Starred) else [e]
            if inner is None:
                return None
            out += inner
        return out
    if isinstance(value, T.BinOp) and isinstance(value.op, T.Add):
        left, right = _items(value.left), _items(value.right)
        return None if left is None or right is None else left + right
    repeated = repetition(value)  # `(None,) * 15`, as the return shapes count it
    if repeated is not None:
        items = _items(repeated[0])
        return None if items is None else items * repeated[1]
    return None


def _one_value(v: Optional[T.expr]) -> bool:
    if v is None or isinstance(v, (T.Constant, T.UnaryOp)):
        return True
    if isinstance(v, T.BinOp) and not _may_build_tuple(v):
        return True  # `g * 2`, `g @ B @ A`: arithmetic on tensors
    if isinstance(v, T.Call):
        name = v.func.attr if isinstance(v.func, T.Attribute) else getattr(v.func, "id", "")
        return name in _ONE_TENSOR_CALLS
    return False


def _local_holds_one_value(func: T.AST, name: str) -> bool:
    """Is every binding of `name` in `func` (outside nested scopes) `name = <one value>` or an
    augmented assignment (`dx += g`)? A tuple target, a loop, a `with`, a walrus or an import
    binding it leaves its size unknown."""
    found = False
    todo = list(getattr(func, "body", []))
    while todo:
        node = todo.pop()
        if isinstance(node, (T.FunctionDef, T.AsyncFunctionDef, T.ClassDef, T.Lambda)):
            continue
        if isinstance(node, T.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], T.Name):
            if node.targets[0].id == name:
                if not _one_value(node.value):
                    return False
                found = True
            todo.append(node.value)
            continue
        if isinstance(node, T.AugAssign) and isinstance(node.target, T.Name):
            todo.append(node.value)
            continue
        if isinstance(node, T.Name) and node.id == name and not isinstance(node.ctx, T.Load):
            return False
        if isinstance(node, T.alias) and (node.asname or node.name.split(".")[0]) == name:
            return False
        todo.extend(T.iter_child_nodes(node))
    return found


def _may_build_tuple(node: T.expr) -> bool:
    """`grads + (None,)`, `(g,) * n`: `+` and `*` build tuples when any operand may be one."""
    if not isinstance(node, T.BinOp) or not isinstance(node.op, (T.Add, T.Mult)):
        return False
    return any(isinstance(side, (T.Tuple, T.List)) or _may_build_tuple(side)
               or (isinstance(side, T.Call) and isinstance(side.func, T.Name) and side.func.id in ("tuple", "list"))
               for side in (node.left, node.right))
