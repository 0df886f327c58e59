"""Run a script as `__main__` with some of its own functions watched from their `def` on.

A script's functions exist only while its code runs, and its last lines usually call them, so
nothing done before or after the run can watch them. The launcher therefore compiles the script
itself, with one more decorator (innermost, on the `def`'s own line) on each chosen function:
`analyzer.runtime.functions.watch_defined`, which watches the function object in place and
returns it. Line numbers, `__file__`, `__name__` and `sys.modules["__main__"]` are as under
`python script.py`.
"""

from __future__ import annotations

import ast
import sys
import types
from typing import Iterable

__all__ = ["run_script", "missing_qualnames"]


def _decorator(at: ast.AST) -> ast.expr:
    # reached through __import__, so the script's namespace gains no name
    node = ast.Attribute(
        value=ast.Call(func=ast.Name(id="__import__", ctx=ast.Load()),
                       args=[ast.Constant("analyzer.runtime.functions")],
                       keywords=[ast.keyword(arg="fromlist", value=ast.Tuple([ast.Constant("watch_defined")],
                                                                            ast.Load()))]),
        attr="watch_defined", ctx=ast.Load())
    for sub in ast.walk(node):
        ast.copy_location(sub, at)
        sub.end_lineno, sub.end_col_offset = at.lineno, at.col_offset
    return node


class _Decorate(ast.NodeVisitor):
    def __init__(self, wanted: set[str]) -> None:
        self.wanted = wanted
        self.found: set[str] = set()
        self.prefix: list[str] = []

    def _scope(self, node: ast.AST, is_def: bool) -> None:
        qualname = ".".join([*self.prefix, node.name])
        if is_def and qualname in self.wanted:
            node.decorator_list.append(_decorator(node))  # last = innermost: sees the plain function
            self.found.add(qualname)
        self.prefix.append(node.name)
        if is_def:
            self.prefix.append("<locals>")
        self.generic_visit(node)
        del self.prefix[-(2 if is_def else 1):]

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._scope(node, True)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._scope(node, True)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._scope(node, False)


def _compile(path: str, wanted: set[str]) -> tuple[types.CodeType, set[str]]:
    with open(path, "rb") as fh:
        source = fh.read()
    tree = ast.parse(source, path)
    visitor = _Decorate(wanted)
    visitor.visit(tree)
    return compile(tree, path, "exec", dont_inherit=True), visitor.found


def missing_qualnames(path: str, wanted: Iterable[str]) -> set[str]:
    """The names in `wanted` that the script defines no function for."""
    wanted = set(wanted)
    return wanted - _compile(path, wanted)[1]


def run_script(path: str, wanted: Iterable[str]) -> None:
    """Execute the script at `path` as `__main__` (as `runpy.run_path` does), with the functions
    whose qualnames are in `wanted` watched from their definition."""
    code, _ = _compile(path, set(wanted))
    module = types.ModuleType("__main__")
    module.__dict__.update(__file__=path, __cached__=None, __loader__=None, __package__=None, __spec__=None,
                           __builtins__=__builtins__)
    previous = sys.modules.get("__main__")
    sys.modules["__main__"] = module  # pickling and `import __main__` see the script, as usual
    try:
        exec(code, module.__dict__)
    finally:
        if previous is not None:
            sys.modules["__main__"] = previous
