"""The slice of a function that decides whether one name is bound at its reads.

A long training function tests more flags than the path budget keeps (`state.MAX_PATHS`), so
the analysis forgets assumptions and a read whose verdict hangs on one of them goes quiet.
Most of those statements have nothing to do with the name: `if args.use_feature_3: ...` blocks
that neither bind it nor leave the function. The slice keeps only

- the statements that bind the name, read it, or bind a name tested by a kept branch (so a flag
  computed before the test still carries what it assumed),
- the statements that leave a block (`return`, `raise`, `break`, `continue`, `assert`, a call the
  analysis knows never returns),
- the compound statements around any of those, with their other statements dropped;

and the same interpreter runs on it, within the budget. Dropping a statement never adds a path
to the slice: what goes is straight-line work whose only effect on the name's bindings would be
to forget a fact (a kept test's subject rebound), and such rebinding is kept.
"""

from __future__ import annotations

import copy
from typing import Callable

from analyzer import tree as T
from analyzer.flow.syntax import dotted_name

__all__ = ["Slicer"]

_SCOPES = (T.FunctionDef, T.AsyncFunctionDef, T.ClassDef, T.Lambda)
_EXITS = (T.Return, T.Raise, T.Break, T.Continue, T.Assert)
_BLOCKS = ("body", "orelse", "finalbody")


class Slicer:
    """Slices of one function, one name at a time. What each statement's subtree reads, binds
    and whether it can leave a block is computed once, so a slice costs a walk of the kept
    statements only."""

    def __init__(self, func: T.AST, exits: Callable[[T.stmt], bool]) -> None:
        self.func = func
        self.exits = exits
        # id(stmt) -> (names read anywhere in it, names bound anywhere in it, leaves a block)
        self.summary: dict[int, tuple[frozenset, frozenset, bool]] = {}
        for st in func.body:
            self._summarize(st)

    def _summarize(self, st: T.stmt) -> tuple[frozenset, frozenset, bool]:
        reads: set[str] = set()
        binds: set[str] = set()
        leaves = isinstance(st, _EXITS) or self.exits(st)
        for block in _blocks(st):
            for inner in block:
                r, b, x = self._summarize(inner)
                reads |= r
                binds |= b
                leaves = leaves or x
        own = [st] if not _blocks(st) else _header(st)
        for node in own:
            for n in T.walk(node):
                if isinstance(n, T.Name):
                    (reads if isinstance(n.ctx, T.Load) else binds).add(n.id)
                elif isinstance(n, T.NamedExpr):
                    binds.add(n.target.id)
                elif isinstance(n, T.alias):
                    binds.add(n.asname or n.name.split(".")[0])
        if isinstance(st, _SCOPES):
            binds.add(st.name) if hasattr(st, "name") else None
        elif isinstance(st, (T.Global, T.Nonlocal)):
            binds |= set(st.names)
        for h in getattr(st, "handlers", None) or []:
            if h.name:
                binds.add(h.name)
        out = (frozenset(reads), frozenset(binds), leaves)
        self.summary[id(st)] = out
        return out

    def slice(self, name: str) -> T.AST:
        """A shallow copy of the function whose body holds only the statements that decide
        `name` (see the module docstring)."""
        relevant = {name}
        while True:
            kept = self._keep(self.func.body, name, relevant)
            subjects = _tested_subjects(kept) - relevant
            if not subjects:
                break
            relevant |= subjects
        out = copy.copy(self.func)
        out.body = kept or [T.Pass(None, None)]
        return out

    def _keep(self, body: list, name: str, relevant: set[str]) -> list:
        out = []
        for st in body:
            reads, binds, leaves = self.summary[id(st)]
            if name not in reads and not (binds & relevant) and not leaves:
                continue
            kept = self._keep_stmt(st, name, relevant)
            if kept is not None:
                out.append(kept)
        return out

    def _keep_stmt(self, st: T.stmt, name: str, relevant: set[str]):
        if isinstance(st, _SCOPES) or not _blocks(st):
            # a simple statement (or a def / class, which binds its name) that matters
            return st
        new = copy.copy(st)
        anything = _binds_in_header(st, relevant) or _reads_header(st, name)
        for b in _BLOCKS:
            block = getattr(st, b, None)
            if not isinstance(block, list):
                continue
            inner = self._keep(block, name, relevant)
            anything = anything or bool(inner)
            setattr(new, b, inner or ([T.Pass(None, None)] if b == "body" else []))
        for attr in ("handlers", "cases"):
            items = getattr(st, attr, None)
            if not items:
                continue
            new_items = []
            for item in items:
                ni = copy.copy(item)
                inner = self._keep(item.body, name, relevant)
                anything = anything or bool(inner) or getattr(item, "name", None) in relevant
                ni.body = inner or [T.Pass(None, None)]
                new_items.append(ni)
            setattr(new, attr, new_items)
        return new if anything else None


def _blocks(st: T.stmt) -> list:
    """The statement lists nested in a compound statement (bodies, handlers, cases)."""
    if isinstance(st, _SCOPES):
        return []
    out = [getattr(st, b) for b in _BLOCKS if isinstance(getattr(st, b, None), list)]
    out += [item.body for attr in ("handlers", "cases") for item in (getattr(st, attr, None) or [])]
    return out


def _header(st: T.stmt) -> list:
    """The expressions a compound statement evaluates itself."""
    if isinstance(st, (T.If, T.While)):
        return [st.test]
    if isinstance(st, (T.For, T.AsyncFor)):
        return [st.target, st.iter]
    if isinstance(st, (T.With, T.AsyncWith)):
        return list(st.items)
    if isinstance(st, T.Match):
        return [st.subject]
    return []


def _reads_header(st: T.stmt, name: str) -> bool:
    return any(isinstance(n, T.Name) and n.id == name for h in _header(st) for n in T.walk(h))


def _binds_in_header(st: T.stmt, relevant: set[str]) -> bool:
    for h in _header(st):
        for n in T.walk(h):
            if isinstance(n, T.Name) and not isinstance(n.ctx, T.Load) and n.id in relevant:
                return True
            if isinstance(n, T.NamedExpr) and n.target.id in relevant:
                return True
    return False


def _tested_subjects(body: list) -> set[str]:
    """The local names that the kept branches and loops test."""
    out: set[str] = set()
    for st in body:
        for h in _header(st) if not isinstance(st, (T.For, T.AsyncFor)) else [st.iter]:
            for n in T.walk(h):
                if isinstance(n, T.Name):
                    out.add(n.id)
                elif isinstance(n, T.Attribute):
                    text = dotted_name(n)
                    if text:
                        out.add(text.split(".")[0])
        for b in _BLOCKS:
            inner = getattr(st, b, None)
            if isinstance(inner, list):
                out |= _tested_subjects(inner)
        for h in getattr(st, "handlers", None) or []:
            out |= _tested_subjects(h.body)
        for c in getattr(st, "cases", None) or []:
            out |= _tested_subjects(c.body)
    return out
