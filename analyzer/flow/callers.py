"""What the callers of a function pass it, when every caller is in view.

A function whose every use is a direct call in the same file gets, for each parameter, the
literal values those calls pass (or leave at a literal default): a closed set, as if declared
`Literal[...]`. Every use is in view for a module-level function the module keeps private (`_name`,
no decorator, not named in any of the module's strings, as `__all__` or `getattr` would) and for a
function nested in another one; a method is not (a subclass or any holder of the object may call
it). A use that is not a call (the function passed on, stored, returned), a call with `*` or `**`
arguments, or one argument that is not a literal leaves the parameter (or the function) open.
"""

from __future__ import annotations

import re
from typing import Iterable, Optional

from analyzer import tree as T
from analyzer.flow.conditions import literal_value

__all__ = ["closed_by_callers"]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DEFS = (T.FunctionDef, T.AsyncFunctionDef)


def closed_by_callers(tree: T.Module) -> dict[int, dict[str, frozenset]]:
    """id(def) -> parameter -> the literal values every call in the module passes it."""
    out: dict[int, dict[str, frozenset]] = {}
    private = [st for st in tree.body if isinstance(st, _DEFS) and st.name.startswith("_")
               and not st.name.startswith("__") and not st.decorator_list]
    if private:
        words = _string_words(tree)
        candidates = [d for d in private if d.name not in words]
        if candidates:
            out.update(_closed_in(tree, candidates))
    for scope in T.walk(tree):
        if isinstance(scope, _DEFS):
            nested = [d for d in _nested_defs(scope) if not d.decorator_list]
            if nested:
                out.update(_closed_in(scope, nested))
    return out


def _string_words(tree: T.Module) -> frozenset[str]:
    words: set[str] = set()
    for node in T.walk(tree):
        if isinstance(node, T.Constant) and isinstance(node.value, str):
            words.update(_IDENTIFIER.findall(node.value))
    return frozenset(words)


def _nested_defs(func: T.AST) -> list[T.AST]:
    """The defs a function's body holds (not inside a class or another def)."""
    out = []
    stack = list(func.body)
    while stack:
        node = stack.pop()
        if isinstance(node, _DEFS):
            out.append(node)
            continue
        if isinstance(node, (T.ClassDef, T.Lambda)):
            continue
        stack.extend(T.iter_child_nodes(node))
    return out


def _closed_in(scope: T.AST, defs: Iterable[T.AST]) -> dict[int, dict[str, frozenset]]:
    """For the `defs` whose every use inside `scope` is a direct call: their closed parameters."""
    by_name: dict[str, list[T.AST]] = {}
    for d in defs:
        by_name.setdefault(d.name, []).append(d)
    calls: dict[str, list[T.Call]] = {name: [] for name in by_name}
    open_names: set[str] = {name for name, ds in by_name.items() if len(ds) > 1}
    call_funcs: set[int] = set()
    for node in T.walk(scope):
        if isinstance(node, T.Call) and isinstance(node.func, T.Name) and node.func.id in calls:
            calls[node.func.id].append(node)
            call_funcs.add(id(node.func))
    for node in T.walk(scope):
        if isinstance(node, T.Name) and node.id in by_name and id(node) not in call_funcs:
            open_names.add(node.id)  # passed on, stored, rebound or deleted
        elif isinstance(node, (T.ImportFrom, T.Import)):
            open_names.update(a.asname or a.name for a in node.names)
        elif isinstance(node, (T.Global, T.Nonlocal)):
            open_names.update(node.names)
        elif (isinstance(node, (*_DEFS, T.ClassDef)) and node.name in by_name
              and all(node is not d for d in by_name[node.name])):
            open_names.add(node.name)
    out: dict[int, dict[str, frozenset]] = {}
    for name, ds in by_name.items():
        if name in open_names or not calls[name]:
            continue
        values = _param_values(ds[0], calls[name])
        if values:
            out[id(ds[0])] = values
    return out


def _param_values(func: T.AST, calls: list[T.Call]) -> dict[str, frozenset]:
    args = func.args
    positional = list(args.posonlyargs) + list(args.args)
    by_keyword = {a.arg for a in list(args.args) + list(args.kwonlyargs)}
    defaults = dict(zip([a.arg for a in positional[len(positional) - len(args.defaults):]], args.defaults))
    defaults.update({a.arg: d for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None})
    names = [a.arg for a in positional + list(args.kwonlyargs)]
    values: dict[str, Optional[set]] = {n: set() for n in names}
    for call in calls:
        if any(isinstance(a, T.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
            return {}
        given: dict[str, T.expr] = {}
        for i, a in enumerate(call.args):
            if i < len(positional):
                given[positional[i].arg] = a
            elif args.vararg is None:
                return {}  # a call that fails: nothing to learn from it
        for k in call.keywords:
            if k.arg in by_keyword:
                given[k.arg] = k.value
            elif args.kwarg is None:
                return {}
        for n in names:
            if values[n] is None:
                continue
            expr = given.get(n, defaults.get(n))
            lit = literal_value(expr) if expr is not None else None
            values[n] = None if lit is None else values[n] | {lit}
    return {n: frozenset(v) for n, v in values.items() if v}
