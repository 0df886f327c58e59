"""Return statements of one function found by qualname in a source file, with the tuple shape of
each returned value as the flow analysis (`analyzer.flow.definite`) sees it. This is the entry
that other tools (the runtime tracer, through `analyzer.api`) call on any source file.
"""

from __future__ import annotations

import libcst as cst

from analyzer import tree as T
from analyzer.flow.definite import analyze_function_returns
from analyzer.flow.results import ReturnSite

__all__ = ["ReturnSite", "collect_function_returns", "find_function"]


def find_function(tree: T.Module, qualname: str) -> T.FunctionDef | T.AsyncFunctionDef | None:
    """The def named by a dotted qualname (`Cls.method`, `outer.inner`), searching nested bodies."""
    parts = qualname.split(".")
    candidates: list[T.AST] = [tree]
    for i, part in enumerate(parts):
        nxt: list[T.AST] = []
        for node in candidates:
            for child in _direct_defs(node):
                if child.name == part:
                    nxt.append(child)
        if not nxt:
            return None
        candidates = nxt
    last = candidates[-1]
    return last if isinstance(last, (T.FunctionDef, T.AsyncFunctionDef)) else None


def _direct_defs(node: T.AST):
    """Defs and classes reachable from `node` without entering another def or class."""
    stack = list(T.iter_child_nodes(node))
    while stack:
        child = stack.pop()
        if isinstance(child, (T.FunctionDef, T.AsyncFunctionDef, T.ClassDef)):
            yield child
        elif isinstance(child, T.stmt) or isinstance(child, (T.excepthandler, T.match_case)):
            stack.extend(T.iter_child_nodes(child))


def collect_function_returns(source: bytes, qualname: str) -> tuple[list[ReturnSite], bool] | None:
    """(return sites, may fall off the end) for `qualname` in `source`, or None."""
    try:
        _module, tree = T.parse(source.decode("utf-8", errors="replace") if isinstance(source, bytes) else source)
    except (cst.ParserSyntaxError, RecursionError, MemoryError):
        return None
    func = find_function(tree, qualname)
    if func is None:
        return None
    sites, falls_off_end, _ = analyze_function_returns(func)
    return sites, falls_off_end
