"""Module summaries: what each module's functions return, how names are imported, and what its
calls and its functions tell the other modules.

Built from each file's flow results in the same pass that lints it (`summarize_module`), kept as
small picklable records, and joined once per run (`index.ProjectIndex`), so following a call into
another module costs no second parse.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Optional

from analyzer import tree as T
from analyzer.flow.call_facts import CallFacts, module_call_facts
from analyzer.flow.exports import StarFacts, star_facts
from analyzer.flow.arg_values import ArgValues
from analyzer.flow.run_sites import module_signatures, module_sites, Site
from analyzer.flow.results import FunctionFlow, ModuleFlow, UseKind
from analyzer.flow.conditions import literal_value
from analyzer.flow.signature import annotated_class, literal_aliases, literal_fields, optional_params, Signature
from analyzer.flow.syntax import dotted_name, returns_under_tests
from analyzer.flow.shapes import annotation_allows_variants

__all__ = ["flag_guarded_returns", "CalleeSummary", "UnpackRecord", "ModuleSummary", "module_name_for", "resolve_relative",
           "summarize_module"]

# decorators that keep what the function returns
_TRANSPARENT_DECORATORS = {"staticmethod", "classmethod", "lru_cache", "cache", "functools.lru_cache",
                           "functools.cache", "torch.no_grad", "torch.inference_mode", "wraps",
                           "torch.jit.unused", "torch.compiler.disable", "override", "typing.override"}


@dataclass(frozen=True)
class CalleeSummary:
    """The return shapes of one function, as call sites need them."""

    qualname: str
    path: str
    # (arity, line) for every return whose value is a known flat-or-nested tuple
    returns: tuple[tuple[int, int], ...]
    # some return is not a known tuple (a call, a name, None, falling off the end): arity unknown
    unknown: bool
    # the arity is chosen by an optional argument (`if return_dict: return a, b`)
    flag_dispatched: bool = False
    # where it gives None that no optional argument chooses, as (line, "end") for falling off the
    # end of the body after that line and (line, "return") for a bare `return` or `return None`:
    # a caller that unpacks gets a TypeError there
    none_lines: tuple[tuple[int, str], ...] = ()
    # `return other(...)` of a plain or imported function: (callee as written, line); its shape is
    # the other function's, looked up in `module` once the run's index is built
    forwards: tuple[tuple[str, int], ...] = ()
    module: str = ""
    # a generator: (arity, line) of each `yield` of a tuple literal; None when some yield is not
    # one (`yield x`, `yield from`), and () for a plain function
    yields: Optional[tuple[tuple[int, int], ...]] = ()

    def arities(self) -> frozenset[int]:
        return frozenset(a for a, _ in self.returns)

    def lines_with(self, pred) -> list[int]:
        return [line for a, line in self.returns if pred(a)]


@dataclass(frozen=True)
class UnpackRecord:
    line: int
    col: int  # 0-based character column
    end_line: int
    end_col: int
    count: int
    starred: bool
    callee: str
    cls: Optional[str]
    method: Optional[str] = None  # the method holding the call (for self.m)
    over: bool = False  # `for a, b in gen():` unpacks each item the call yields


@dataclass
class ModuleSummary:
    path: str
    module: str
    is_package: bool
    functions: dict[str, CalleeSummary] = field(default_factory=dict)
    # local name -> fully qualified target ("pkg.mod" for a module, "pkg.mod.name" for a member)
    imports: dict[str, str] = field(default_factory=dict)
    unpacks: list[UnpackRecord] = field(default_factory=list)
    # top-level class -> its bases as written (dotted; "" for anything else) and its method names
    bases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    methods: dict[str, frozenset[str]] = field(default_factory=dict)
    # top-level class -> {attribute: class it holds}, from `self.attr = Cls(...)` assigned once
    attr_classes: dict[str, dict[str, str]] = field(default_factory=dict)
    # what `from module import *` gives, and the reads only a star import can bind (see flow.exports)
    star: Optional[StarFacts] = None
    # top-level function -> what a call of it tells the caller once it returns (flow.call_facts)
    call_facts: dict[str, CallFacts] = field(default_factory=dict)
    # the literal arguments of the calls of the run's functions, and the uses that are not calls
    # (flow.run_sites): for the values a parameter receives from every call in the run
    signatures: dict[str, Signature] = field(default_factory=dict)
    # top-level class -> the attributes its body declares `Literal[...]` (flow.signature.literal_fields)
    fields: dict[str, dict[str, frozenset]] = field(default_factory=dict)
    sites: list[Site] = field(default_factory=list)
    escaped: set[str] = field(default_factory=set)
    # the class names the module's parameters are annotated with (`args: TrainArguments`)
    annotated: set[str] = field(default_factory=set)


def module_name_for(path: str) -> tuple[str, bool]:
    """(dotted module name, is a package `__init__`) from the folders holding `__init__.py`."""
    path = os.path.abspath(path)
    folder, filename = os.path.split(path)
    stem = filename.rsplit(".", 1)[0]
    is_package = stem == "__init__"
    parts = [] if is_package else [stem]
    while _package(folder) or _package(os.path.dirname(folder)):
        # a folder without `__init__.py` inside a package is a namespace portion of it
        # (`lm_eval/tasks/ruler/`): its modules are `lm_eval.tasks.ruler.x`, not a bare `x` that
        # every `utils.py` of such folders would share
        parent, name = os.path.split(folder)
        if parent == folder or not (name.isidentifier() or _package(folder)):
            break
        parts.insert(0, name)
        folder = parent
    return ".".join(parts), is_package


def _package(folder: str) -> bool:
    return os.path.exists(os.path.join(folder, "__init__.py")) or os.path.exists(os.path.join(folder, "__init__.pyi"))


def _callee_summary(flow: FunctionFlow, path: str, module: str = "") -> Optional[CalleeSummary]:
    node = flow.node
    if not isinstance(node, (T.FunctionDef, T.AsyncFunctionDef)) or flow.dynamic:
        return None
    if flow.is_generator:
        if isinstance(node, T.AsyncFunctionDef) or node.decorator_list:
            return None
        return CalleeSummary(flow.qualname, path, (), True, module=module, yields=_yield_arities(node))
    if isinstance(node, T.AsyncFunctionDef):
        return None  # a coroutine: callers unpack what they await
    if node.returns is not None and annotation_allows_variants(node.returns):
        return None  # `-> tuple[Tensor, ...]`: the author says the length varies
    for dec in node.decorator_list:
        target = dec.func if isinstance(dec, T.Call) else dec
        text = T.unparse(target)
        if text not in _TRANSPARENT_DECORATORS and text.split(".")[-1] not in {"lru_cache", "cache", "wraps"}:
            return None
    returns = []
    nones = []
    forwards = []
    unknown = False
    guarded = flag_guarded_returns(node, self_switches=False)
    for r in flow.returns:
        if r.shape is not None and r.starred_head is None:
            returns.append((len(r.shape), r.line))
        elif r.node is None or r.is_none:
            if r.node is None or id(r.node) not in guarded:
                nones.append((r.line, "end" if r.node is None else "return"))
        elif isinstance(r.value, T.Call) and (dotted_name(r.value.func) or "self.").split(".")[0] not in ("self", "cls"):
            forwards.append((dotted_name(r.value.func), r.line))
        else:
            unknown = True
    dispatched = any(id(r.node) in guarded for r in flow.returns if r.node is not None)
    return CalleeSummary(flow.qualname, path, tuple(returns), unknown, dispatched, tuple(nones), tuple(forwards),
                         module)


def _yield_arities(func: T.AST) -> Optional[tuple[tuple[int, int], ...]]:
    """(arity, line) of every `yield` in the generator's own body, or None when one of them does
    not yield a tuple literal of fixed size."""
    out = []
    todo = list(T.iter_child_nodes(func))
    while todo:
        node = todo.pop()
        if isinstance(node, (T.FunctionDef, T.AsyncFunctionDef, T.ClassDef, T.Lambda)):
            continue
        if isinstance(node, T.YieldFrom):
            return None
        if isinstance(node, T.Yield):
            value = node.value
            if not isinstance(value, T.Tuple) or any(isinstance(e, T.Starred) for e in value.elts):
                return None
            out.append((len(value.elts), node.lineno))
        todo.extend(T.iter_child_nodes(node))
    return tuple(sorted(out, key=lambda item: item[1]))


def _for_unpacks(tree: T.Module, summary: "ModuleSummary") -> None:
    """`for a, b in f(...):` in any scope: each item the call yields is unpacked. Depth first, in
    source order, over a stack (a nested function calling itself would be a reference cycle holding
    the whole tree until a garbage collection)."""
    # (node, class and method around it, whether its parent is the module)
    stack: list[tuple[T.AST, Optional[str], Optional[str], bool]] = [
        (child, None, None, True) for child in reversed(list(T.iter_child_nodes(tree)))]
    while stack:
        node, cls, method, top = stack.pop()
        if isinstance(node, T.ClassDef):
            cls, method = (node.name if cls is None and top else None), None
        elif isinstance(node, (T.FunctionDef, T.AsyncFunctionDef)):
            method = node.name if method is None else method
        elif isinstance(node, T.For) and isinstance(node.target, (T.Tuple, T.List)) and isinstance(node.iter, T.Call):
            callee = dotted_name(node.iter.func)
            stars = sum(1 for e in node.target.elts if isinstance(e, T.Starred))
            if callee is not None and stars <= 1:
                t = node.target
                summary.unpacks.append(UnpackRecord(
                    t.lineno, t.col_offset, t.end_lineno or t.lineno, t.end_col_offset or t.col_offset,
                    len(t.elts) - stars, bool(stars), callee, cls, method, over=True))
        # an expression holds no statement (a lambda's body is an expression): not entered
        stack.extend((child, cls, method, False) for child in reversed(list(T.iter_child_nodes(node)))
                     if not isinstance(child, T.expr))


def resolve_relative(module: str, is_package: bool, level: int, target: Optional[str]) -> str:
    parts = module.split(".") if module else []
    if not is_package:
        parts = parts[:-1]
    if level > 1:
        parts = parts[: len(parts) - (level - 1)] if level - 1 <= len(parts) else []
    base = ".".join(parts)
    if target:
        return f"{base}.{target}" if base else target
    return base


def summarize_module(flow: ModuleFlow, path: str) -> ModuleSummary:
    module, is_package = module_name_for(path)
    summary = ModuleSummary(path=path, module=module, is_package=is_package)
    for f in flow.functions:
        cs = _callee_summary(f, path, module)
        if cs is not None:
            summary.functions[f.qualname] = cs
    for node in flow.tree.body:
        _note_imports(node, summary)
        if isinstance(node, T.ClassDef):
            summary.bases[node.name] = tuple(dotted_name(b) or "" for b in node.bases)
            summary.methods[node.name] = frozenset(
                st.name for st in node.body if isinstance(st, (T.FunctionDef, T.AsyncFunctionDef)))
            # only classes that unpack a call of one of their attributes need to know what it holds
            wanted = {u.callee.split(".", 1)[1] for u in flow.unpacks
                      if u.cls == node.name and u.callee.startswith("self.") and u.callee.count(".") == 1}
            if wanted - summary.methods[node.name]:
                held = _attribute_classes(node)
                if held:
                    summary.attr_classes[node.name] = held
    summary.star = _star_facts(flow)
    summary.call_facts = module_call_facts(flow.tree, {n for g in flow.by_type.get(T.Global, ()) for n in g.names})
    summary.signatures = module_signatures(flow.tree)
    aliases = literal_aliases(flow.tree)
    for node in flow.tree.body:
        if isinstance(node, T.ClassDef):
            declared = literal_fields(node, aliases)
            if declared:
                summary.fields[node.name] = declared
    own = {st.name: st for st in flow.tree.body if isinstance(st, (T.FunctionDef, T.AsyncFunctionDef))}
    values = flow.arg_values or ArgValues(flow.tree, flow.by_type, {}, {})
    summary.sites, summary.escaped = module_sites(flow.by_type, module, own, summary.imports, values)
    for kind in (T.FunctionDef, T.AsyncFunctionDef):
        for func in flow.by_type.get(kind, ()):
            for a in list(func.args.posonlyargs) + list(func.args.args) + list(func.args.kwonlyargs):
                written = annotated_class(a.annotation) if a.annotation is not None else None
                if written is not None:
                    summary.annotated.add(written)
    if flow.by_type.get(T.For):
        _for_unpacks(flow.tree, summary)
    for site in flow.unpacks:
        t = site.node
        summary.unpacks.append(UnpackRecord(site.line, site.col, t.end_lineno or site.line, t.end_col_offset or site.col,
                                            site.count, site.starred, site.callee, site.cls, site.method))
    return summary


def _star_facts(flow: ModuleFlow) -> StarFacts:
    reads = [u.node for u in flow.uses if u.kind == UseKind.STAR_FREE]
    return star_facts(flow.tree, flow.module_names, reads, flow.by_type)


def _attribute_classes(cls: T.ClassDef) -> dict[str, str]:
    """`self.lora = LoraLinear(...)` in a method, and no other assignment to `self.lora` in the
    class: calling `self.lora(x)` runs that class's `__call__` (for a torch module, `forward`)."""
    made: dict[str, str] = {}
    stores: dict[str, int] = {}
    for node in T.walk(cls):
        targets = node.targets if isinstance(node, T.Assign) else (
            [node.target] if isinstance(node, (T.AnnAssign, T.AugAssign)) else [])
        for t in targets:
            for sub in T.walk(t):
                if isinstance(sub, T.Attribute) and isinstance(sub.value, T.Name) and sub.value.id == "self":
                    stores[sub.attr] = stores.get(sub.attr, 0) + 1
        if (isinstance(node, T.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], T.Attribute)
                and isinstance(node.targets[0].value, T.Name) and node.targets[0].value.id == "self"
                and isinstance(node.value, T.Call)):
            callee = dotted_name(node.value.func)
            if callee is not None and callee.split(".")[-1][:1].isupper():
                made[node.targets[0].attr] = callee
    return {attr: callee for attr, callee in made.items() if stores.get(attr) == 1}


def _note_imports(node: T.stmt, summary: ModuleSummary) -> None:
    """Module-level imports, including those inside top-level if/try blocks."""
    if isinstance(node, T.Import):
        for alias in node.names:
            if alias.asname:
                summary.imports[alias.asname] = alias.name
            else:
                top = alias.name.split(".")[0]
                summary.imports[top] = top
    elif isinstance(node, T.ImportFrom):
        base = resolve_relative(summary.module, summary.is_package, node.level, node.module) if node.level else (node.module or "")
        for alias in node.names:
            if alias.name != "*":
                summary.imports[alias.asname or alias.name] = f"{base}.{alias.name}" if base else alias.name
    elif isinstance(node, (T.If, T.Try)):
        for child in node.body + node.orelse + getattr(node, "finalbody", []):
            _note_imports(child, summary)
        for h in getattr(node, "handlers", []):
            for child in h.body:
                _note_imports(child, summary)


_OUTPUT_FLAG_WORDS = ("return", "output", "with", "need", "include", "keep", "want", "emit", "retain",
                      "cache", "loss", "attention", "hidden", "all", "full", "extra", "debug", "verbose",
                      "get", "compute", "collect", "details", "info", "stats", "aux", "logits", "scores",
                      "attn", "attentions", "weights", "probs", "router")


def _selects_output(flag: str) -> bool:
    """A flag named for what the caller wants back (`return_dict`, `output_attentions`,
    `need_weights`, `use_cache`), as opposed to one that changes how the work is done
    (`fan_in_fan_out`, `inplace`): only the former makes a different arity a deliberate API."""
    words = flag.lower().split("_")
    return any(w in _OUTPUT_FLAG_WORDS for w in words)


def flag_guarded_returns(func: T.AST, self_switches: bool = True) -> set[int]:
    """Returns in either arm of an `if` that tests an optional parameter (`if output_attentions:`,
    `if sparse_routes:`, `if value is not None:`, `if moe_type == "standard":`, `if world_size > 0:`)
    or the object's own output switch (`if self.aux_loss_enabled:`): the caller chose the arity,
    as in `return_dict`-style APIs. On real code a flag about how the work is done chooses the
    returned count as often as one named for the output (DeepSpeed's `top1gating(...,
    use_rts=...)`), so any optional parameter counts. The object's switch is not the caller's
    choice at a call site, so call-site checks (`self_switches=False`) still hold every
    `a, b = obj.f()` to each arity."""
    params = optional_params(func)
    return returns_under_tests(func.body, lambda test: _chooses(test, params, self_switches))


def _chooses(test: T.expr, params, self_switches: bool) -> bool:
    """Does the caller choose which arm of `test` runs (see `flag_guarded_returns`)?"""
    if isinstance(test, T.UnaryOp) and isinstance(test.op, T.Not):
        return _chooses(test.operand, params, self_switches)
    if isinstance(test, T.Name):
        return test.id in params
    if self_switches and isinstance(test, T.Attribute) and (dotted_name(test) or "").startswith("self.") \
            and _selects_output(test.attr):
        return True
    if isinstance(test, T.Compare) and len(test.ops) == 1 and isinstance(test.left, T.Name) \
            and test.left.id in params:
        # `value is None`, or the argument compared with a literal: the call picks the branch
        return isinstance(test.ops[0], (T.Is, T.IsNot)) or literal_value(test.comparators[0]) is not None
    if isinstance(test, T.BoolOp):
        return any(_chooses(v, params, self_switches) for v in test.values)
    return False
