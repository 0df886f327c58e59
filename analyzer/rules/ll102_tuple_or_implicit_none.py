"""LL102: a tuple on some paths, an implicit None on others."""

from __future__ import annotations

from typing import Iterable, Optional

from analyzer import tree as T
from analyzer.flow.results import ReturnRecord
from analyzer.flow.shapes import describe_shape
from analyzer.flow.syntax import inner_blocks
from analyzer.rules.base import Invalid, Report, Rule, RuleContext, report_at, report_at_def_name


class TupleOrImplicitNone(Rule):
    """
    ## What it does
    Flags an unannotated function that returns a tuple on some paths and, on others, falls off the
    end of its body, so it returns `None` there without saying so. A function annotated with a
    fixed tuple type (`-> tuple[Tensor, Tensor]`, no `Optional`) is flagged for every path that
    gives `None`: falling off the end, a bare `return` or `return None`, unless that `return`
    comes right after a log or warning call (`logger.error(...); return`): the author reports
    the failure and returns None on purpose.

    A bare `return` or `return None` in an unannotated function is taken as meant (a caller that
    unpacks it anyway gets LL301, which names the `None` path); so are PyTorch hooks and the
    functions a hook returns the result of, for which `None` means "unchanged".

    ## Why is this bad?
    The caller unpacks the tuple; on the forgotten path it gets `TypeError: cannot unpack
    non-iterable NoneType object`. An explicit `return None` (or an `Optional` annotation) shows
    the `None` is meant.

    ## Example
    ```python
    def split_lora(module):
        if hasattr(module, "lora_A"):
            return module.lora_A, module.lora_B
    ```

    ## Use instead
    ```python
    def split_lora(module):
        if hasattr(module, "lora_A"):
            return module.lora_A, module.lora_B
        return None
    ```
    """

    code = "LL102"
    name = "tuple-or-implicit-none"
    summary = "returns a tuple on some paths and an implicit None on others"

    VALID = [
        "def f(a):\n    if a:\n        return 1, 2\n    return None\n",
        "def f(a) -> tuple[int, int] | None:\n    if a:\n        return 1, 2\n",
        "def f(a):\n    if a:\n        return 1, 2\n    raise ValueError(a)\n",
        # a bare return is written on purpose; a caller that unpacks it gets LL301
        "def fetch(pool):\n    if not pool:\n        return\n    return pool.popitem()[0], pool\n",
        "class E:\n    def _prologue(self, args, kwargs):\n        if self.cast:\n            return args, kwargs\n"
        "    def install(self, m):\n        def pre_hook(module, args, kwargs):\n"
        "            return self._prologue(args, kwargs)\n        m.register_forward_pre_hook(pre_hook)\n",
        # PyTorch hooks: None means "inputs/outputs unchanged"
        "def scale_pre_hook(module, args, kwargs):\n    if not args:\n        return\n    return (args[0] * 2,), kwargs\n",
        # the failure is reported, then None on purpose (a caller in view that unpacks gets LL301)
        "def save_vocabulary(self, folder) -> tuple[str]:\n    if not os.path.isdir(folder):\n"
        "        logger.error(f'{folder} is not a directory')\n        return\n    return (self.write(folder),)\n",
        "class M:\n    def setup(self, m):\n        m.register_forward_pre_hook(self._seed, with_kwargs=True)\n"
        "    def _seed(self, module, args, kwargs):\n        if args:\n            return args, kwargs\n",
    ]
    INVALID = [
        Invalid(
            "def split_lora(module):\n    if hasattr(module, 'lora_A'):\n        return module.lora_A, module.lora_B\n",
            1, 5, "`split_lora` returns 2 values at line 3 but may fall off the end of the function (implicit None)",
        ),
        Invalid(
            "def lora_pair(module):\n    if module.merged:\n        return module.lora_A, module.lora_B\n"
            "    module.log('not merged')\n",
            1, 5, "`lora_pair` returns 2 values at line 3 but may end without a return (implicit None) at line 4",
        ),
        Invalid(
            "def f(a) -> tuple[int, int]:\n    if a:\n        return None\n    return a, a\n",
            3, 9, "`f` is annotated `-> tuple[int, int]` but returns None here",
        ),
        Invalid(
            "from typing import Tuple\n\ndef f(a) -> Tuple[int, int]:\n    if a:\n        return a, a\n",
            3, 5, "`f` is annotated `-> Tuple[int, int]` but may fall off the end of the function (implicit None)",
        ),
    ]

    def check(self, ctx: RuleContext) -> Iterable[Report]:
        hooks: Optional[set[str]] = None
        for func in ctx.flow.functions:
            node = func.node
            if func.is_generator or func.dynamic or not isinstance(node, (T.FunctionDef, T.AsyncFunctionDef)):
                continue
            annotated = node.returns is not None
            if annotated and not _fixed_tuple_annotation(node.returns):
                continue
            tuples = [r for r in func.returns if r.shape is not None and isinstance(r.value, T.Tuple)]
            if not tuples:
                continue
            if hooks is None:
                hooks = _registered_hooks(ctx.tree)
            if "hook" in node.name.lower() or node.name in hooks:
                # a PyTorch hook returns None to leave the inputs or outputs as they are
                continue
            witness = tuples[0]
            what = describe_shape(witness.shape)
            if annotated:
                # `-> tuple[Tensor, Tensor]` says None is not a result: every None is a slip
                ann = T.unparse(node.returns)
                announced = _announced_returns(node)
                for r in func.returns:
                    if r.node is None:
                        yield report_at_def_name(node, f"`{func.name}` is annotated `-> {ann}` but may "
                                                       f"{_falls_off(witness, r)}")
                    elif r.is_none and id(r.node) not in announced:
                        yield report_at(r.node, f"`{func.name}` is annotated `-> {ann}` but returns None here")
                continue
            # unannotated: only falling off the end is unspoken; a bare `return` or `return None`
            # is written on purpose (callers that unpack it anyway get LL301)
            for r in func.returns:
                if r.node is None:
                    yield report_at_def_name(node, f"`{func.name}` returns {what} at line {witness.line} but may "
                                                   f"{_falls_off(witness, r)}")


_LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical"})


def _announced_returns(func: T.AST) -> set[int]:
    """The `return` / `return None` statements right after a log or warning call in the same block
    (`logger.error("no such directory"); return`): the author reports the failure and gives None
    on purpose, whatever the annotation says (transformers' 18 `save_vocabulary` methods, nanotron's
    skipped evaluations). A caller in view that unpacks the result still gets LL301."""
    out: set[int] = set()
    stack: list[list[T.stmt]] = [func.body]
    while stack:
        block = stack.pop()
        for prev, st in zip(block, block[1:]):
            if isinstance(st, T.Return) and _is_log_call(prev):
                out.add(id(st))
        for st in block:
            if not isinstance(st, (T.FunctionDef, T.AsyncFunctionDef, T.ClassDef)):
                stack.extend(inner_blocks(st))
    return out


def _is_log_call(st: T.AST) -> bool:
    if not (isinstance(st, T.Expr) and isinstance(st.value, T.Call)):
        return False
    f = st.value.func
    if isinstance(f, T.Name):  # print, warn, and helpers such as log_rank, log_dist, print_rank_0
        return f.id.lower().startswith(("print", "warn", "log"))
    if not isinstance(f, T.Attribute):
        return False
    root = f.value
    while isinstance(root, T.Attribute):
        root = root.value
    root_name = root.id.lower() if isinstance(root, T.Name) else ""
    return (f.attr == "warn" and root_name == "warnings") or (f.attr in _LOG_METHODS and "log" in root_name)


def _fixed_tuple_annotation(ann: T.expr) -> bool:
    """`tuple[A, B]` / `Tuple[A, B]` (not variadic, not Optional, not a union)."""
    if not isinstance(ann, T.Subscript):
        return False
    base = ann.value
    name = base.attr if isinstance(base, T.Attribute) else getattr(base, "id", "")
    if name not in ("tuple", "Tuple"):
        return False
    items = ann.slice.elts if isinstance(ann.slice, T.Tuple) else [ann.slice]
    return not any(isinstance(i, T.Constant) and i.value is Ellipsis for i in items)


def _falls_off(witness: ReturnRecord, end: ReturnRecord) -> str:
    """Where the body ends without a return: its last line, unless that line is the tuple
    return's own (`if c: return a, b` last in the body, or a one-line function)."""
    assert witness.node is not None
    if witness.line <= end.line <= witness.node.end_lineno:
        return "fall off the end of the function (implicit None)"
    return f"end without a return (implicit None) at line {end.line}"


def _registered_hooks(tree: T.Module) -> set[str]:
    """Names of functions passed to a `register_*hook*(...)` call in this module, and of the
    functions whose result such a hook returns (`def pre_hook(m, args): return self._prologue(args)`)."""
    names: set[str] = set()
    for node in T.walk(tree):
        if isinstance(node, T.Call) and node.args:
            f = node.func
            called = f.attr if isinstance(f, T.Attribute) else f.id if isinstance(f, T.Name) else ""
            if called.startswith("register") and "hook" in called:
                fn = node.args[0]
                if isinstance(fn, T.Attribute):
                    names.add(fn.attr)
                elif isinstance(fn, T.Name):
                    names.add(fn.id)
    for node in T.walk(tree):
        if isinstance(node, (T.FunctionDef, T.AsyncFunctionDef)) and ("hook" in node.name.lower() or node.name in names):
            for st in T.walk(node):
                if isinstance(st, T.Return) and isinstance(st.value, T.Call):
                    f = st.value.func
                    delegate = f.attr if isinstance(f, T.Attribute) else f.id if isinstance(f, T.Name) else ""
                    if delegate:
                        names.add(delegate)
    return names
