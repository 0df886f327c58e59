"""Per-function return summaries, shared by rules, the project index and the runtime tracer."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from analyzer.flow.returns import ReturnSite

__all__ = ["FunctionSummary", "summarize_function"]


@dataclass(frozen=True)
class FunctionSummary:
    name: str
    line: int
    returns: tuple[ReturnSite, ...]
    falls_off_end: bool
    is_generator: bool


def summarize_function(func: ast.FunctionDef | ast.AsyncFunctionDef) -> FunctionSummary:
    """Return sites of `func` as the flow analysis sees them (tuples held in locals included)."""
    from analyzer.flow.definite import analyze_function_returns

    sites, falls_off, is_gen = analyze_function_returns(func)
    return FunctionSummary(
        name=func.name, line=func.lineno, returns=tuple(sites), falls_off_end=falls_off, is_generator=is_gen
    )
