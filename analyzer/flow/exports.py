"""What a module exports: its `__all__` when it is written as literals, and the names that a
`from module import *` gives the importer.

Read by the checks of `__all__` against what the module binds (pyflakes' F822) and, across the
files of a run, by the resolution of star imports (`analyzer.flow.project`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from analyzer import tree as T

__all__ = ["LiteralAll", "literal_all", "module_hides_names", "public_names", "undefined_exports", "StarFacts",
           "star_facts", "star_exported_names"]

# calls on `__all__` that leave it as it is
_READ_ONLY_METHODS = frozenset({"copy", "count", "index", "__contains__", "__iter__", "__len__"})


@dataclass
class LiteralAll:
    """`__all__` as the module writes it: the string nodes naming each export, in order, and
    whether it is fully known (only literal assignments, `+=`, `.extend` and `.append`)."""

    entries: list[tuple[str, T.Constant]] = field(default_factory=list)
    known: bool = True
    defined: bool = False  # the module assigns `__all__` at all

    def names(self) -> frozenset[str]:
        return frozenset(name for name, _ in self.entries)


def _literal_strings(node: Optional[T.expr]) -> Optional[list[tuple[str, T.Constant]]]:
    if not isinstance(node, (T.List, T.Tuple)):
        return None
    out = []
    for elt in node.elts:
        if not (isinstance(elt, T.Constant) and isinstance(elt.value, str)):
            return None
        out.append((elt.value, elt))
    return out


def _is_all(node: T.AST) -> bool:
    return isinstance(node, T.Name) and node.id == "__all__"


def _top_level_statements(body: list[T.stmt]):
    """Module-level statements, also those inside `if`/`try`/`with` blocks (not defs or classes)."""
    for st in body:
        yield st
        if isinstance(st, (T.If, T.While, T.For, T.AsyncFor, T.With, T.AsyncWith)):
            yield from _top_level_statements(st.body + getattr(st, "orelse", []))
        elif isinstance(st, (T.Try, T.TryStar)):
            blocks = st.body + st.orelse + st.finalbody
            for h in st.handlers:
                blocks = blocks + h.body
            yield from _top_level_statements(blocks)


def _nodes(tree: T.Module, by_type: Optional[dict], *types: type) -> list:
    """Every node of these types (from the module's index by type when there is one)."""
    if by_type is not None:
        return [n for t in types for n in by_type.get(t, ())]
    return [n for n in T.walk(tree) if isinstance(n, types)]


def literal_all(tree: T.Module, by_type: Optional[dict] = None) -> LiteralAll:
    """Read `__all__` from the module's top-level statements. Any other write to it (a computed
    value, `__all__ += other.__all__`, a mutation in a function, a loop target) makes it unknown.
    `by_type`: the module's nodes by type (`ModuleFlow.by_type`), to spare a walk."""
    out = LiteralAll()
    handled: set[int] = set()
    for st in _top_level_statements(tree.body):
        value: Optional[T.expr] = None
        target: Optional[T.AST] = None
        if isinstance(st, T.Assign) and len(st.targets) == 1:
            target, value = st.targets[0], st.value
        elif isinstance(st, T.AnnAssign) and st.value is not None:
            target, value = st.target, st.value
        elif isinstance(st, T.AugAssign) and isinstance(st.op, T.Add):
            target, value = st.target, st.value
        if target is not None and _is_all(target):
            handled.add(id(target))
            out.defined = True
            found = _literal_strings(value)
            if found is None:
                out.known = False
            else:
                # a second `__all__ = [...]` (`if ...: __all__ = [...] else: __all__ = [...]`) may
                # or may not replace the first: both count
                out.entries.extend(found)
            continue
        if isinstance(st, T.Expr) and isinstance(st.value, T.Call):
            call = st.value
            func = call.func
            if isinstance(func, T.Attribute) and _is_all(func.value) and func.attr in ("extend", "append"):
                handled.add(id(func.value))
                arg = call.args[0] if len(call.args) == 1 and not call.keywords else None
                if func.attr == "extend":
                    found = _literal_strings(arg)
                elif isinstance(arg, T.Constant) and isinstance(arg.value, str):
                    found = [(arg.value, arg)]
                else:
                    found = None
                if found is None:
                    out.known = False
                else:
                    out.entries.extend(found)
    if not out.defined:
        return out
    # every other touch of `__all__` that may change it
    for node in _nodes(tree, by_type, T.Name):
        if _is_all(node) and id(node) not in handled and not isinstance(node.ctx, T.Load):
            out.known = False
    for node in _nodes(tree, by_type, T.Attribute):
        if _is_all(node.value) and id(node.value) not in handled and node.attr not in _READ_ONLY_METHODS:
            out.known = False
    return out


def module_hides_names(tree: T.Module) -> bool:
    """The module gets names that no statement binds: a module-level `__getattr__`, a write
    through `globals()` (`globals()[name] = ...`, `globals().update(...)`) or `exec` anywhere in
    it, a write to its own entry in `sys.modules`, or a star import."""
    for st in _top_level_statements(tree.body):
        if isinstance(st, (T.FunctionDef, T.AsyncFunctionDef)) and st.name == "__getattr__":
            return True
        if isinstance(st, T.Assign) and any(isinstance(t, T.Name) and t.id == "__getattr__" for t in st.targets):
            return True
    for node in T.walk(tree):
        if isinstance(node, T.ImportFrom) and any(a.name == "*" for a in node.names):
            return True
        if isinstance(node, T.Call) and isinstance(node.func, T.Name) and node.func.id in ("globals", "exec", "vars"):
            return True
        if (isinstance(node, T.Subscript) and isinstance(node.slice, T.Name) and node.slice.id == "__name__"
                and T.unparse(node.value).endswith("modules")):
            return True  # `sys.modules[__name__] = LazyModule(...)`, `setattr(sys.modules[__name__], ...)`
    return False


def public_names(bound: set[str] | frozenset[str]) -> frozenset[str]:
    """What `from module import *` takes from a module without `__all__`: its names that do not
    start with an underscore."""
    return frozenset(n for n in bound if not n.startswith("_"))


def undefined_exports(tree: T.Module, defined, by_type: Optional[dict] = None) -> list[tuple[str, T.Constant]]:
    """The entries of a literal `__all__` that name nothing the module binds (`defined(name)` is
    false), first mention of each; none when `__all__` is computed or the module may get names
    no statement binds (see `module_hides_names`)."""
    exported = literal_all(tree, by_type)
    if not exported.defined or not exported.known or not exported.entries:
        return []
    missing = [(name, node) for name, node in exported.entries if not defined(name)]
    if not missing or module_hides_names(tree):
        return []
    seen: set[str] = set()
    out = []
    for name, node in missing:
        if name not in seen:
            seen.add(name)
            out.append((name, node))
    return out


@dataclass(frozen=True)
class StarFacts:
    """What one module tells the run about star imports, kept in its summary (picklable).

    `exports`: the names `from this_module import *` gives, None when they cannot be known (a
    computed `__all__`, a module `__getattr__`, writes through `globals()`); without `__all__`,
    its public names plus what its own star imports give (`sources`). `sources`: the modules this
    one star-imports, as (level, module) to be resolved against its own name. `reads`: the loads
    (name, line, col, end_line, end_col; 0-based columns) that only a star import can bind.
    """

    exports: Optional[frozenset[str]]
    has_all: bool
    sources: tuple[tuple[int, str], ...]
    reads: tuple[tuple[str, int, int, int, int], ...]


def star_facts(tree: T.Module, module_names: frozenset[str], reads: list[T.Name],
               by_type: Optional[dict] = None) -> StarFacts:
    """`module_names`: what the module binds (statements and `global` declarations)."""
    sources = tuple((st.level, st.module or "") for st in tree.body
                    if isinstance(st, T.ImportFrom) and any(a.name == "*" for a in st.names))
    exported = literal_all(tree, by_type)
    if exported.defined:
        names = exported.names() if exported.known else None
    elif _hides_names_beyond_star_imports(tree, by_type):
        names = None
    else:
        names = public_names(module_names)
    if _hides_names_beyond_star_imports(tree, by_type):
        reads = []  # a star import in a block (`try:`, `if TYPE_CHECKING:`) or names from `globals()`
    positions = tuple((n.id, n.lineno, n.col_offset, n.end_lineno or n.lineno, n.end_col_offset or n.col_offset)
                      for n in reads)
    return StarFacts(names, exported.defined, sources, positions)


def _hides_names_beyond_star_imports(tree: T.Module, by_type: Optional[dict]) -> bool:
    """`module_hides_names`, leaving out the module's top-level star imports (followed through
    the run instead); one nested in a block that may not run (`if TYPE_CHECKING:`) still counts."""
    top = {id(st) for st in tree.body}
    for node in _nodes(tree, by_type, T.ImportFrom):
        if id(node) not in top and any(a.name == "*" for a in node.names):
            return True
    for st in _top_level_statements(tree.body):
        if isinstance(st, (T.FunctionDef, T.AsyncFunctionDef)) and st.name == "__getattr__":
            return True
    for node in _nodes(tree, by_type, T.Name):
        if node.id == "__getattr__" and not isinstance(node.ctx, T.Load):
            return True
    for node in _nodes(tree, by_type, T.Call):
        if isinstance(node.func, T.Name) and node.func.id in ("globals", "exec", "vars"):
            return True
    for node in _nodes(tree, by_type, T.Subscript):
        if (isinstance(node.slice, T.Name) and node.slice.id == "__name__"
                and T.unparse(node.value).endswith("modules")):
            return True
    return False


def star_exported_names(start: str, facts: StarFacts, resolve, facts_of) -> Optional[tuple[frozenset[str], list[str]]]:
    """The names that the star imports of module `start` (whose facts are `facts`) may bind,
    following the run's modules, with the modules followed; None when any module on the way is
    outside the run or its exports are unknown. `resolve(module, level, target)` gives a star
    source's module name; `facts_of(module)` its `StarFacts` (None: not in the run)."""
    out: set[str] = set()
    seen: list[str] = []
    todo = [resolve(start, level, target) for level, target in facts.sources]
    while todo:
        mod = todo.pop()
        if mod in seen:
            continue
        seen.append(mod)
        found = facts_of(mod)
        if found is None or found.exports is None:
            return None
        out |= found.exports
        if not found.has_all:
            todo.extend(resolve(mod, level, target) for level, target in found.sources)
    return frozenset(out), seen
