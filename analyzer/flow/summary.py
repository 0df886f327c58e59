"""Per-function return summaries, shared by rules, the project index and the runtime tracer."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from analyzer.flow.returns import ReturnSite, tuple_site

__all__ = ["FunctionSummary", "summarize_function"]


@dataclass(frozen=True)
class FunctionSummary:
    name: str
    line: int
    returns: tuple[ReturnSite, ...]
    falls_off_end: bool
    is_generator: bool


def _own_nodes(func: ast.AST):
    """Nodes of a function body, not descending into nested defs, classes or lambdas."""
    stack = list(ast.iter_child_nodes(func))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        stack.extend(ast.iter_child_nodes(node))


def summarize_function(func: ast.FunctionDef | ast.AsyncFunctionDef, module: ast.Module | None = None) -> FunctionSummary:
    """Return sites of `func` as the flow analysis sees them (tuples held in locals included)."""
    from analyzer.flow.definite import analyze_function_returns

    sites, falls_off, is_gen = analyze_function_returns(func)
    return FunctionSummary(
        name=func.name, line=func.lineno, returns=tuple(sites), falls_off_end=falls_off, is_generator=is_gen
    )
