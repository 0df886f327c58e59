"""Name-binding facts about Python syntax: what a statement binds, which names are builtins."""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterator, Optional

from analyzer import tree as T
from analyzer.tree.versions import ADDED_BUILTINS, version_tuple

__all__ = ["NodeLines", "ScopeBindings", "collect_bindings", "target_names", "co_bound_groups", "BUILTIN_NAMES",
           "SCOPE_NODES", "builtins_for"]

SCOPE_NODES = (T.FunctionDef, T.AsyncFunctionDef, T.ClassDef, T.Lambda)
COMPREHENSIONS = (T.ListComp, T.SetComp, T.DictComp, T.GeneratorExp)

# Builtins of the running interpreter plus those of other supported versions, so that the result
# does not depend on which Python runs the linter (the newer ones, with their versions, are listed
# once, in analyzer.tree.versions).
_EXTRA_BUILTINS = {
    "__file__", "__name__", "__doc__", "__spec__", "__loader__", "__package__", "__builtins__",
    "__path__", "__annotations__", "__debug__", "__cached__", "__dict__", "WindowsError",
}


def _builtin_names() -> frozenset[str]:
    return frozenset(dir(builtins)) | _EXTRA_BUILTINS | frozenset(ADDED_BUILTINS)


BUILTIN_NAMES = _builtin_names()


@lru_cache(maxsize=None)
def builtins_for(target: str | None) -> frozenset[str]:
    """The builtins code sees on `target` ("3.10"; None: every supported version's)."""
    if target is None:
        return BUILTIN_NAMES
    want = version_tuple(target)
    return BUILTIN_NAMES - {name for name, since in ADDED_BUILTINS.items() if want < since}


def target_names(target: T.expr) -> Iterator[T.Name]:
    """The Name nodes that an assignment target binds (tuples, lists and starred unpacked)."""
    if isinstance(target, T.Name):
        yield target
    elif isinstance(target, (T.Tuple, T.List)):
        for elt in target.elts:
            yield from target_names(elt)
    elif isinstance(target, T.Starred):
        yield from target_names(target.value)


def pattern_names(pattern: T.pattern) -> Iterator[str]:
    """Names captured by a match pattern."""
    for node in T.walk(pattern):
        if isinstance(node, (T.MatchAs, T.MatchStar)) and node.name:
            yield node.name
        elif isinstance(node, T.MatchMapping) and node.rest:
            yield node.rest


@dataclass
class ScopeBindings:
    """Names bound in one scope's own body (nested scopes excluded, walrus in comprehensions included)."""

    bound: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    globals: set[str] = field(default_factory=set)
    nonlocals: set[str] = field(default_factory=set)
    star_import: bool = False
    # exec(), or a write through locals()/vars()/globals(): the scope's names cannot be known.
    dynamic: bool = False
    # when every such call is `exec` of a string literal: the identifiers those strings mention
    # (the only names the executed code can bind); None when any of them is not a literal
    dynamic_words: Optional[frozenset[str]] = frozenset()
    yields: bool = False
    # names bound only inside `if TYPE_CHECKING:` blocks (and nowhere else)
    type_checking_only: set[str] = field(default_factory=set)
    # names bound by something other than a def/class statement
    nondef_bound: set[str] = field(default_factory=set)
    # names bound by something other than an import
    nonimport_bound: set[str] = field(default_factory=set)
    # name -> its first bare annotation (`x: int`, no value), for names nothing else binds: the
    # annotation binds nothing (in a function it still makes the name local)
    annotated: dict[str, T.AnnAssign] = field(default_factory=dict)
    # names bound to `locals()` / `vars()` / `globals()` (`ns = locals()`), and names written
    # through as a namespace (`ns[k] = v`, `ns.update(...)`): a name in both makes the scope dynamic
    namespaces: set[str] = field(default_factory=set, repr=False)
    written: set[str] = field(default_factory=set, repr=False)


_DYNAMIC_WRITERS = {"locals", "vars", "globals"}


def _is_type_checking(test: T.expr) -> bool:
    if isinstance(test, T.Name):
        return test.id == "TYPE_CHECKING"
    if isinstance(test, T.Attribute):
        return test.attr == "TYPE_CHECKING"
    return False


def is_type_checking_test(test: T.expr) -> bool:
    """`TYPE_CHECKING` / `typing.TYPE_CHECKING`: false at run time, true for type checkers."""
    return _is_type_checking(test)


def collect_bindings(body: list[T.stmt] | list[T.AST]) -> ScopeBindings:
    """Walk one scope's body and record what it binds.

    Nested functions, lambdas and classes are not entered (only their names, decorators and
    defaults belong here); comprehensions are entered only for walrus targets, which bind in the
    enclosing function.
    """
    out = ScopeBindings()
    tc_bound: set[str] = set()
    _walk_block(body, out, in_type_checking=False, tc_bound=tc_bound)
    if out.namespaces & out.written:
        out.dynamic = True
        out.dynamic_words = None
    out.type_checking_only = tc_bound - out.bound
    for name in out.bound & out.annotated.keys():
        del out.annotated[name]
    return out


def _bind(out: ScopeBindings, name: str, in_tc: bool, tc_bound: set[str], via_def: bool = False,
          via_import: bool = False) -> None:
    if in_tc:
        tc_bound.add(name)
    else:
        out.bound.add(name)
    if not via_def:
        out.nondef_bound.add(name)
    if not via_import:
        out.nonimport_bound.add(name)


def _walk_block(nodes, out: ScopeBindings, in_type_checking: bool, tc_bound: set[str]) -> None:
    for node in nodes:
        _walk_stmt(node, out, in_type_checking, tc_bound)


def _walk_stmt(node: T.AST, out: ScopeBindings, in_tc: bool, tc_bound: set[str]) -> None:
    if isinstance(node, (T.FunctionDef, T.AsyncFunctionDef, T.ClassDef)):
        _bind(out, node.name, in_tc, tc_bound, via_def=True)
        for dec in node.decorator_list:
            _walk_expr(dec, out, in_tc, tc_bound)
        if isinstance(node, T.ClassDef):
            for b in node.bases:
                _walk_expr(b, out, in_tc, tc_bound)
            for kw in node.keywords:
                _walk_expr(kw.value, out, in_tc, tc_bound)
        else:
            for d in node.args.defaults + [d for d in node.args.kw_defaults if d is not None]:
                _walk_expr(d, out, in_tc, tc_bound)
        return
    if isinstance(node, T.Global):
        out.globals.update(node.names)
        return
    if isinstance(node, T.Nonlocal):
        out.nonlocals.update(node.names)
        return
    if isinstance(node, (T.Import, T.ImportFrom)):
        for alias in node.names:
            if alias.name == "*":
                out.star_import = True
                continue
            name = alias.asname or alias.name.split(".")[0]
            _bind(out, name, in_tc, tc_bound, via_import=True)
        return
    if isinstance(node, T.If) and _is_type_checking(node.test):
        _walk_block(node.body, out, True, tc_bound)
        _walk_block(node.orelse, out, in_tc, tc_bound)
        return
    if isinstance(node, T.ExceptHandler):
        if node.name:
            _bind(out, node.name, in_tc, tc_bound)
    elif isinstance(node, T.match_case):
        for name in pattern_names(node.pattern):
            _bind(out, name, in_tc, tc_bound)
    elif isinstance(node, T.AnnAssign) and node.value is None:
        if isinstance(node.target, T.Name) and not in_tc:
            out.annotated.setdefault(node.target.id, node)
    elif isinstance(node, (T.Assign, T.AugAssign, T.AnnAssign, T.For, T.AsyncFor)):
        targets = node.targets if isinstance(node, T.Assign) else [node.target]
        for t in targets:
            for n in target_names(t):
                _bind(out, n.id, in_tc, tc_bound)
        if isinstance(node, T.Assign) and _is_dynamic_namespace(node.value):
            out.namespaces.update(t.id for t in targets if isinstance(t, T.Name))
    elif isinstance(node, (T.With, T.AsyncWith)):
        for item in node.items:
            if item.optional_vars is not None:
                for n in target_names(item.optional_vars):
                    _bind(out, n.id, in_tc, tc_bound)
    elif isinstance(node, T.Delete):
        for t in node.targets:
            for n in target_names(t):
                out.deleted.add(n.id)
                _bind(out, n.id, in_tc, tc_bound)
    elif isinstance(node, T.TypeAlias):
        _bind(out, node.name.id, in_tc, tc_bound)
    for child in T.iter_child_nodes(node):
        if isinstance(child, T.stmt) or isinstance(child, (T.excepthandler, T.match_case)):
            _walk_stmt(child, out, in_tc, tc_bound)
        elif isinstance(child, T.expr):
            _walk_expr(child, out, in_tc, tc_bound)
        elif isinstance(child, T.withitem):
            # `with timed(name := "step"):` binds `name` in this scope
            _walk_expr(child.context_expr, out, in_tc, tc_bound)


# the expressions `_walk_expr` looks at; it only walks through the others. Node classes are never
# subclassed, so their exact type says what a node is, with one set lookup instead of a chain of
# isinstance calls (this walk sees every expression of every block the interpreter asks about)
_EXPR_NOTED = frozenset({T.Lambda, T.NamedExpr, T.Yield, T.YieldFrom, T.Call, T.Subscript})


def _walk_expr(node: T.expr, out: ScopeBindings, in_tc: bool, tc_bound: set[str]) -> None:
    stack: list[T.AST] = [node]
    while stack:
        cur = stack.pop()
        kind = type(cur)
        if kind in _EXPR_NOTED:
            if kind is T.Lambda:
                stack.extend(cur.args.defaults)
                stack.extend(d for d in cur.args.kw_defaults if d is not None)
                continue
            if kind is T.NamedExpr:
                _bind(out, cur.target.id, in_tc, tc_bound)
            elif kind is T.Call:
                _note_dynamic_call(cur, out)
            elif kind is T.Subscript:
                # locals()["x"] = ... / vars()["x"] = ...
                if isinstance(cur.ctx, (T.Store, T.Del)):
                    if _is_dynamic_namespace(cur.value):
                        out.dynamic = True
                        out.dynamic_words = None
                    elif type(cur.value) is T.Name:
                        out.written.add(cur.value.id)
            else:
                out.yields = True
        stack.extend(T.iter_child_nodes(cur))


def _is_dynamic_namespace(node: T.expr) -> bool:
    return (
        isinstance(node, T.Call)
        and isinstance(node.func, T.Name)
        and node.func.id in _DYNAMIC_WRITERS
        and not node.args
    )


def _note_dynamic_call(call: T.Call, out: ScopeBindings) -> None:
    func = call.func
    if isinstance(func, T.Name) and func.id == "exec":
        out.dynamic = True
        words = _literal_code_words(call.args[0]) if call.args else None
        if words is None or out.dynamic_words is None:
            out.dynamic_words = None
        else:
            out.dynamic_words = out.dynamic_words | words
    elif isinstance(func, T.Attribute) and func.attr in {"update", "setdefault", "__setitem__"}:
        if _is_dynamic_namespace(func.value):
            out.dynamic = True
            out.dynamic_words = None
        elif type(func.value) is T.Name:
            out.written.add(func.value.id)


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# executed code that mentions these may bind names it does not spell out
_OPAQUE_WORDS = frozenset({"globals", "locals", "vars", "setattr", "__dict__", "exec", "eval"})


def _literal_code_words(code: T.expr) -> Optional[frozenset[str]]:
    """The identifiers of `exec`'s code when it is a string literal (None otherwise, or when
    the code may bind names it does not spell: a star import, a write through `globals()`)."""
    if not (isinstance(code, T.Constant) and isinstance(code.value, str)):
        return None
    words = frozenset(_IDENTIFIER.findall(code.value))
    if words & _OPAQUE_WORDS or re.search(r"import\s*\*|import\s*\(\s*\*", code.value):
        return None
    return words


def binding_lines(scope: T.AST, name: str) -> list[int]:
    """Lines where `name` is bound in `scope`'s own body (nested scopes excluded), in order."""
    return all_binding_lines(scope).get(name, [])


class NodeLines:
    """Key -> the sorted lines of its nodes: the lines where each name is bound in one scope
    (`all_binding_lines`), or where each subject is tested (`conditions.test_lines`). A key's
    lines are computed when first asked: a position may cost the code generation of its
    statement (`analyzer.tree.positions`), and most callers ask about a few keys of a scope."""

    __slots__ = ("_nodes", "_lines")

    def __init__(self, nodes: dict[str, list[T.AST]]) -> None:
        self._nodes = nodes  # name -> the nodes whose line is a line binding it
        self._lines: dict[str, list[int]] = {}

    def get(self, name: str, default=None):
        lines = self._lines.get(name)
        if lines is None:
            nodes = self._nodes.get(name)
            if nodes is None:
                return default
            lines = self._lines[name] = sorted({node.lineno for node in nodes})
        return lines

    def __contains__(self, name: str) -> bool:
        return name in self._nodes

    def nodes(self, name: str) -> list:
        return self._nodes.get(name, [])

    def once(self, name: str) -> bool:
        """Is `name` bound by exactly one binding of the scope (asked without reading a line)?"""
        return len(self._nodes.get(name, ())) == 1


def all_binding_lines(scope: T.AST) -> NodeLines:
    """`binding_lines` for every name bound in `scope`'s own body, in one walk."""
    body = getattr(scope, "body", None)
    if not isinstance(body, list):
        return NodeLines({})
    nodes: dict[str, list[T.AST]] = {}

    def add(name: str, node: T.AST) -> None:
        nodes.setdefault(name, []).append(node)

    stack: list[T.AST] = list(body)
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind in _BINDING_NOTED:  # (one set lookup for the many nodes that bind nothing)
            if kind is T.FunctionDef or kind is T.AsyncFunctionDef or kind is T.ClassDef:
                add(node.name, node)
                stack.extend(node.decorator_list)
                continue
            if kind is T.Lambda:
                continue
            if kind is T.AnnAssign and node.value is None:
                continue  # `x: int` binds nothing
            if kind is T.Name:
                if isinstance(node.ctx, T.Store):
                    add(node.id, node)
            elif kind is T.Import or kind is T.ImportFrom:
                for alias in node.names:
                    add(alias.asname or alias.name.split(".")[0], node)
            elif kind is not T.AnnAssign and node.name:  # a handler or a capture pattern
                add(node.name, node)
        stack.extend(T.iter_child_nodes(node))
    return NodeLines(nodes)


# the nodes `all_binding_lines` looks at (exact types, as in `_EXPR_NOTED`)
_BINDING_NOTED = frozenset({T.FunctionDef, T.AsyncFunctionDef, T.ClassDef, T.Lambda, T.AnnAssign, T.Name, T.Import,
                            T.ImportFrom, T.ExceptHandler, T.MatchAs, T.MatchStar})


def co_bound_groups(scope: T.AST) -> dict[str, frozenset[str]]:
    """Names that are only ever bound together, by the same plain assignment statements.

    `h, w = size` and `a = b = 0`: when one of the names is bound, so is the other. A name bound
    any other way as well (walrus, `for`, `with`, `except`, import, `match`, `del`, nested def)
    is left out: there the statements may bind one without the other. Returns, for each such
    name, the other names of its group (absent when it has none)."""
    body = getattr(scope, "body", None)
    if not isinstance(body, list):
        return {}
    stmts_of: dict[str, set[int]] = {}
    other: set[str] = set()
    stack: list[T.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, (T.FunctionDef, T.AsyncFunctionDef, T.ClassDef)):
            other.add(node.name)
            continue
        if isinstance(node, T.Lambda):
            continue
        if isinstance(node, T.Assign) or (isinstance(node, T.AnnAssign) and node.value is not None):
            targets = node.targets if isinstance(node, T.Assign) else [node.target]
            for t in targets:
                for n in target_names(t):
                    stmts_of.setdefault(n.id, set()).add(id(node))
            stack.append(node.value)
            continue
        if isinstance(node, T.Name) and not isinstance(node.ctx, T.Load):
            other.add(node.id)  # for/with targets, augmented assignment, del
        elif isinstance(node, (T.Import, T.ImportFrom)):
            other.update((a.asname or a.name.split(".")[0]) for a in node.names)
        elif isinstance(node, T.ExceptHandler) and node.name:
            other.add(node.name)
        elif isinstance(node, (T.MatchAs, T.MatchStar)) and node.name:
            other.add(node.name)
        elif isinstance(node, T.MatchMapping) and node.rest:
            other.add(node.rest)
        elif isinstance(node, (T.Global, T.Nonlocal)):
            other.update(node.names)
        stack.extend(T.iter_child_nodes(node))
    groups: dict[frozenset[int], set[str]] = {}
    for name, stmts in stmts_of.items():
        if name not in other:
            groups.setdefault(frozenset(stmts), set()).add(name)
    out: dict[str, frozenset[str]] = {}
    for names in groups.values():
        if len(names) > 1:
            for n in names:
                out[n] = frozenset(names - {n})
    return out


def prefix_bound(scope: T.AST) -> dict[str, frozenset[str]]:
    """Name -> the names surely bound whenever it is: those the statements before each of its
    bindings bind, in the same block or the blocks around it.

    `try: import deepspeed; import os; from copy import deepcopy` / `except ImportError: pass`: a
    read of `deepcopy` that succeeded proves the import of `deepcopy` ran, hence the two before
    it. Only plain binding statements count in a prefix (imports, assignments, `def`, `class`);
    names a statement may take away again (`del`, `except ... as name`, a nested `nonlocal`,
    `global`) are left out. A name with no such names is absent."""
    body = getattr(scope, "body", None)
    if not isinstance(body, list):
        return {}
    b = collect_bindings(body)
    unstable = set(b.deleted) | b.globals | b.nonlocals
    for node in T.walk(scope):
        if isinstance(node, T.ExceptHandler) and node.name:
            unstable.add(node.name)
        elif isinstance(node, T.Nonlocal):
            unstable.update(node.names)
    implied: dict[str, frozenset[str]] = {}
    # (block, names surely bound on entering it); blocks in any order: the result is intersections
    todo: list[tuple[list, frozenset[str]]] = [(body, frozenset())]
    while todo:
        stmts, inherited = todo.pop()
        done = set(inherited)
        for st in stmts:
            here = frozenset(done)
            for name in _own_bindings(st):
                implied[name] = here & implied[name] if name in implied else here
            if not isinstance(st, (T.FunctionDef, T.AsyncFunctionDef, T.ClassDef)):
                for child in T.iter_child_nodes(st):
                    if isinstance(child, (T.excepthandler, T.match_case)):
                        todo.append((child.body, here))
                for attr in ("body", "orelse", "finalbody"):
                    inner = getattr(st, attr, None)
                    if isinstance(inner, list):
                        todo.append((inner, here))
            done |= _sure_bindings(st) - unstable
    return {name: names - {name} for name, names in implied.items() if name not in unstable and names - {name}}


def _sure_bindings(st: T.stmt) -> set[str]:
    """What a simple statement binds once it completes (a compound statement: nothing surely)."""
    if isinstance(st, (T.FunctionDef, T.AsyncFunctionDef, T.ClassDef)):
        return {st.name}
    if isinstance(st, (T.Import, T.ImportFrom)):
        return {a.asname or a.name.split(".")[0] for a in st.names if a.name != "*"}
    if isinstance(st, T.Assign) or (isinstance(st, (T.AnnAssign, T.AugAssign)) and getattr(st, "value", None) is not None):
        targets = st.targets if isinstance(st, T.Assign) else [st.target]
        return {n.id for t in targets for n in target_names(t)}
    return set()


def _own_bindings(st: T.stmt) -> set[str]:
    """The names a statement binds itself, not in the blocks it holds (`for x in xs:` binds `x`;
    a walrus in an `if` test binds its target)."""
    blocks = (T.stmt, T.excepthandler, T.match_case)
    if isinstance(st, (T.FunctionDef, T.AsyncFunctionDef, T.ClassDef)) or not any(
            isinstance(c, blocks) for c in T.iter_child_nodes(st)):
        found = collect_bindings([st])
        return found.bound | found.type_checking_only
    out = ScopeBindings()
    tc: set[str] = set()
    parts: list = [st]
    while parts:
        part = parts.pop()
        if isinstance(part, (T.excepthandler, T.match_case)) or part is st:
            if isinstance(part, T.ExceptHandler) and part.name:
                out.bound.add(part.name)
            if isinstance(part, T.match_case):
                out.bound.update(pattern_names(part.pattern))
            parts.extend(c for c in T.iter_child_nodes(part) if not isinstance(c, T.stmt))
        elif isinstance(part, T.withitem):
            parts.extend([part.context_expr] + ([part.optional_vars] if part.optional_vars is not None else []))
        elif isinstance(part, T.expr):
            out.bound.update(n.id for n in target_names(part) if isinstance(n.ctx, T.Store))
            _walk_expr(part, out, False, tc)
    return out.bound | tc
