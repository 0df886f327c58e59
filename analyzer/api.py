"""Stable entry points for other parts of lora-lint (the runtime tracer, tools).

`function_contract` answers "what does the source say this function returns?" from the static
pass, so the runtime tracer can name the return lines in its messages.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable

from analyzer.flow.returns import ReturnSite, collect_function_returns

__all__ = ["FunctionContract", "ReturnSite", "function_contract", "contract_for"]


@dataclass(frozen=True)
class FunctionContract:
    """The return statements of one function as the static pass sees them."""

    path: str
    qualname: str
    returns: tuple[ReturnSite, ...]
    falls_off_end: bool

    def known_arities(self) -> frozenset[int]:
        """Exact tuple arities of the returns whose value is a known tuple."""
        return frozenset(r.arity for r in self.returns if r.arity is not None and not r.starred)

    def none_slots(self) -> frozenset[int]:
        """Slots (0-based) that some return fills with a literal None."""
        out: set[int] = set()
        for r in self.returns:
            out |= r.none_slots
        return frozenset(out)

    def lines_with_arity(self, arity: int) -> tuple[int, ...]:
        return tuple(r.line for r in self.returns if r.arity == arity and not r.starred)


def function_contract(path: str, qualname: str, source: str | None = None) -> FunctionContract | None:
    """The contract of the function `qualname` (e.g. ``Cls.method``) defined in the file `path`.

    None when the file cannot be read or parsed or holds no such function.
    """
    if source is None:
        try:
            with open(path, "rb") as fh:
                raw = fh.read()
        except OSError:
            return None
        source_bytes = raw
    else:
        source_bytes = source.encode("utf-8")
    found = collect_function_returns(source_bytes, qualname)
    if found is None:
        return None
    returns, falls_off = found
    return FunctionContract(path=path, qualname=qualname, returns=tuple(returns), falls_off_end=falls_off)


def contract_for(func: Callable[..., object]) -> FunctionContract | None:
    """The contract of a live function object, found through its source file and qualname."""
    func = inspect.unwrap(func)
    code = getattr(func, "__code__", None)
    if code is None:
        return None
    qualname = getattr(func, "__qualname__", func.__name__).replace(".<locals>", "")
    return function_contract(code.co_filename, qualname)
