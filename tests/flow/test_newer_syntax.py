"""Syntax newer than the running interpreter is read and analysed (issue 13: no LL001 on a valid
file with newer syntax, e.g. torch's `py312_intrinsics.py` under 3.11).

LibCST's native parser reads Python 3.0-3.14 whatever runs it; Python's own `ast` reads only its
own grammar. The snippet below uses PEP 695 type parameters, a `type` alias and an f-string that
reuses its quotes (PEP 701), and the flow analysis must give verdicts on it.
"""

from __future__ import annotations

import ast
import sys

from analyzer import tree as T

from tests.flow.harness import analyze_module

SNIPPET = '''\
type Pair = tuple[int, int]
type Tree[T] = T | list[Tree[T]]


def first[T, *Ts, **P](xs, c):
    if c:
        type Alias = int
    label = f"{xs["name"]:>{width}}"
    return Alias, xs[0], label


class Box[T]:
    def get(self, c):
        if c:
            out = self.value
        return out, out
'''

# (line, verdict, name), exactly: the PEP 695 brackets are written but the type parameters are not
# read, so this does not depend on the known false alarm for them (tests/flow/cases/newer.md)
EXPECTED = {
    (9, "maybe", "Alias"),
    (8, "undefined", "width"),
    (16, "maybe", "out"),
}


def _kind(kind) -> str:
    return str(kind.value if hasattr(kind, "value") else kind)


def test_the_snippet_is_newer_than_this_interpreter_or_not():
    # under 3.11 (what CI and this project run) Python's own parser refuses the snippet, so the
    # verdicts below can only come from LibCST's parser; from 3.12 on both read it
    if sys.version_info < (3, 12):
        try:
            ast.parse(SNIPPET)
        except SyntaxError:
            pass
        else:
            raise AssertionError("the snippet should need Python 3.12+ syntax")
    else:
        ast.parse(SNIPPET)


def test_newer_syntax_gets_verdicts():
    _, tree = T.parse(SNIPPET)
    flow = analyze_module(tree)
    got = {(u.node.lineno, _kind(u.kind), u.name) for u in flow.uses}
    assert got == EXPECTED
    # the generic function and the generic class's method are analysed as functions
    names = {f.qualname for f in flow.functions}
    assert any(q.endswith("first") for q in names), names
    assert any(q.endswith("get") for q in names), names
    returns = {f.name: [len(r.shape) if r.shape is not None else None for r in f.returns] for f in flow.functions}
    assert returns["first"] == [3] and returns["get"] == [2]
