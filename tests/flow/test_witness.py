"""The path behind a verdict (`NameUse.trace`, see analyzer/flow/witness.py): one route to the read
on which the name is unbound, as (line, text) steps, for each construct that can skip a binding."""

from __future__ import annotations

import textwrap

import pytest

from analyzer import tree as T
from analyzer.flow.definite import analyze_module


def _trace(source: str, name: str) -> list[tuple[int, str]]:
    _, tree = T.parse(textwrap.dedent(source))
    (use,) = [u for u in analyze_module(tree).uses if u.name == name]
    return [(step.line, step.text) for step in use.trace]


CASES = {
    "elif-chain-without-else": ("""
        def f(mode, x):
            if mode == "lora":
                delta = x
            elif mode == "dora":
                delta = -x
            return delta
        """, "delta", [(3, '`mode == "lora"` is false'), (5, '`mode == "dora"` is false'),
                       (7, "`delta` is read while unbound")]),
    "elif-that-returns-is-a-decision": ("""
        def f(a, b):
            if a:
                x = 1
            elif b:
                return 0
            return x
        """, "x", [(3, "`a` is false"), (5, "`b` is false"), (7, "`x` is read while unbound")]),
    "test-around-the-read": ("""
        def f(flag, other, y):
            if flag:
                x = 1
            if other:
                y = x
            return y
        """, "x", [(3, "`flag` is false"), (5, "`other` is true"), (6, "`x` is read while unbound")]),
    "facts-pick-the-arm": ("""
        def f(flag, items):
            if flag:
                x = 1
            else:
                items.clear()
            if not flag:
                return x
        """, "x", [(3, "`flag` is false"), (7, "`not flag` is true"), (8, "`x` is read while unbound")]),
    "loop-over-the-caller's-data-runs-zero-times": ("""
        def f(items):
            for item in items:
                last = item
            return last
        """, "last", [(3, "loop over `items` runs zero times"), (5, "`last` is read while unbound")]),
    "every-pass-skips-the-binding": ("""
        def f(layers):
            for layer in layers:
                if layer.kind == "lora":
                    found = layer
                    break
            return found
        """, "found", [(3, "loop over `layers` runs, on every pass:"), (4, '`layer.kind == "lora"` is false'),
                       (7, "`found` is read while unbound")]),
    "break-before-the-binding": ("""
        def f(layers):
            while True:
                if layers.done():
                    break
                out = layers.pop()
            return out
        """, "out", [(3, "`while True` runs"), (4, "`layers.done()` is true"),
                     (5, "`break` leaves the loop"), (7, "`out` is read while unbound")]),
    "while-never-runs": ("""
        def f(stream):
            while stream.more():
                chunk = stream.next()
            return chunk
        """, "chunk", [(3, "`stream.more()` is false: the loop never runs"), (5, "`chunk` is read while unbound")]),
    "first-pass-of-a-loop": ("""
        def f(xs):
            for x in xs:
                print(acc)
                acc = x
        """, "acc", [(3, "loop over `xs` runs, first pass"), (4, "`acc` is read while unbound")]),
    "exception-caught-before-the-binding": ("""
        def f(path):
            try:
                fh = open(path)
                data = fh.read()
            except OSError:
                print("unreadable")
            return data
        """, "data", [(6, "exception in the `try` at line 3, caught by `except OSError`"),
                      (8, "`data` is read while unbound")]),
    "read-in-the-handler": ("""
        def f(path):
            try:
                data = open(path).read()
            except OSError:
                print(data)
        """, "data", [(5, "exception in the `try` at line 3, caught by `except OSError`"),
                      (6, "`data` is read while unbound")]),
    "suppressed-exception": ("""
        import contextlib

        def f(d):
            with contextlib.suppress(KeyError):
                v = d["k"]
            return v
        """, "v", [(5, "exception in the `with` body, suppressed by `contextlib.suppress(KeyError)`"),
                   (7, "`v` is read while unbound")]),
    "match-case-that-binds-nothing": ("""
        def f(mode):
            match mode:
                case "a":
                    y = 1
                case _:
                    pass
            return y
        """, "y", [(6, "`case _` matches"), (8, "`y` is read while unbound")]),
    "match-with-no-case-taken": ("""
        def f(mode):
            match mode:
                case "a":
                    y = 1
                case "b":
                    y = 2
            return y
        """, "y", [(3, "no `case` matches"), (8, "`y` is read while unbound")]),
    "del-under-a-flag": ("""
        def f(cache, keep):
            if not keep:
                del cache
            return cache
        """, "cache", [(3, "`not keep` is true"), (4, "`cache` is deleted"), (5, "`cache` is read while unbound")]),
    "short-circuited-walrus": ("""
        def f(proj):
            if proj.enabled and (adapter := proj.active):
                print(adapter)
            return adapter
        """, "adapter", [(3, "`proj.enabled and (adapter := proj.active)` is false, without running the "
                             "`adapter := ...` in it"), (5, "`adapter` is read while unbound")]),
    "conditional-expression-around-the-read": ("""
        def f(flag, rank):
            if flag:
                scale = 2
            return rank * (scale if rank > 1 else 1)
        """, "scale", [(3, "`flag` is false"), (5, "`rank > 1` is true"), (5, "`scale` is read while unbound")]),
    "closure-called-here": ("""
        def f(flag):
            if flag:
                c = 1
            def inner():
                return c
            return inner()
        """, "c", [(3, "`flag` is false"), (7, "`inner` is called here"), (6, "`c` is read while unbound")]),
}


@pytest.mark.parametrize("source, name, expected", list(CASES.values()), ids=list(CASES))
def test_witness(source: str, name: str, expected: list):
    assert _trace(source, name) == expected


def test_a_name_unbound_on_every_path_has_only_its_read():
    assert _trace("def f():\n    print(v)\n    v = 1\n", "v") == [(2, "`v` is read while unbound")]


def test_an_undefined_name_has_no_path():
    assert _trace("def f():\n    return nowhere\n", "nowhere") == []


def test_long_routes_keep_the_last_decisions():
    arms = "".join(f"    if c{i}:\n        x = {i}\n" for i in range(14))
    trace = _trace(f"def f({', '.join(f'c{i}' for i in range(14))}):\n{arms}    return x\n", "x")
    assert len(trace) == 11  # a note, the last 9 decisions, the read
    assert trace[0] == (2, "(5 earlier decisions not shown)")
    assert trace[1] == (12, "`c5` is false") and trace[-2] == (28, "`c13` is false")
    assert trace[-1] == (30, "`x` is read while unbound")
