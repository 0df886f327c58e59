"""The evident fix for a bad name in a return slot: what every sibling return puts there.

The shipped bug returned `bias` in the disabled branch while the other branch returned
`base_layer.bias` in the same slot. When every other return of the function fills that slot with
one and the same expression, and the names that expression reads are bound where the bad return
is, that expression is the suggestion.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from analyzer import tree as T
from analyzer.flow.results import FunctionFlow, ModuleFlow, NameUse

__all__ = ["SlotSuggestion", "suggest_for_use"]


@dataclass(frozen=True)
class SlotSuggestion:
    text: str
    line: int  # a sibling return holding it


def _function_of(flow: ModuleFlow, use: NameUse) -> Optional[FunctionFlow]:
    for f in flow.functions:
        if f.node is use.scope_node:
            return f
    return None


def suggest_for_use(flow: ModuleFlow, use: NameUse) -> Optional[SlotSuggestion]:
    func = _function_of(flow, use)
    if func is None:
        return None
    failing = None
    slot = -1
    for r in func.returns:
        if isinstance(r.value, T.Tuple):
            for i, elt in enumerate(r.value.elts):
                if elt is use.node:
                    failing, slot = r, i
    if failing is None:
        return None
    width = len(failing.value.elts)
    texts: set[str] = set()
    witness = None
    for r in func.returns:
        if r is failing or not isinstance(r.value, T.Tuple) or len(r.value.elts) != width:
            continue
        elt = r.value.elts[slot]
        if isinstance(elt, T.Starred):
            return None
        texts.add(T.unparse(elt))
        witness = witness or r
        if len(texts) > 1:
            return None
    if witness is None or len(texts) != 1:
        return None
    expr = witness.value.elts[slot]
    text = texts.pop()
    flagged = {id(u.node) for u in flow.uses}
    if any(id(sub) in flagged for sub in T.walk(expr)):
        return None  # the sibling's expression is itself undefined or unbound: no evident fix
    if isinstance(expr, T.Name) and expr.id == use.name:
        return None
    if isinstance(expr, T.Constant) and expr.value is None:
        return None
    for sub in T.walk(expr):
        if isinstance(sub, (T.NamedExpr, T.Lambda, T.Await, T.Yield, T.YieldFrom)):
            return None
        if isinstance(sub, T.Name) and isinstance(sub.ctx, T.Load):
            if sub.id in func.locals and sub.id not in failing.bound:
                return None
            if sub.id == use.name:
                return None
    return SlotSuggestion(text, witness.line)
