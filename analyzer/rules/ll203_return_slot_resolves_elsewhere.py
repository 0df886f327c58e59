"""LL203: a return slot filled by a module global or builtin where sibling returns compute it."""

from __future__ import annotations

from typing import Iterable

from analyzer import tree as T
from analyzer.diagnostics import Fix
from analyzer.flow.names import BUILTIN_NAMES, collect_bindings
from analyzer.rules.base import Invalid, Report, Rule, RuleContext


def _reads_local(expr: T.expr, local_names: frozenset) -> bool:
    return any(isinstance(n, T.Name) and n.id in local_names for n in T.walk(expr))


class ReturnSlotResolvesElsewhere(Rule):
    """
    ## What it does
    In a function whose `return` tuples agree in size, flags a slot that one return fills with a
    bare name that is not local to the function, so it resolves to a module global or a builtin,
    while every other return fills that slot from the function's own locals. It says "may": the
    global may be meant, but this is how the shipped `bias` bug looks when a stale module-level
    `bias` happens to exist (pyflakes and LL201 are then silent). Only module variables count:
    an imported name, a function or a class in that slot is a deliberate fallback.

    ## Why is this bad?
    The disabled-adapter branch returns whatever the module's `bias` was at import time (often
    None) instead of the layer's bias; nothing crashes, the outputs are silently wrong.

    ## Example
    ```python
    bias = None

    def get_lora_parameters(proj):
        base_layer = proj.base_layer
        if proj.merged:
            return base_layer.weight, bias
        return base_layer.weight, base_layer.bias
    ```

    ## Use instead
    `return base_layer.weight, base_layer.bias` on both paths.

    ## Fix safety
    Unsafe (offered with `--unsafe-fixes`): it changes which object is returned.
    """

    code = "LL203"
    checks_stubs = False
    name = "return-slot-resolves-elsewhere"
    summary = "a return slot reads a global where sibling returns compute it locally"

    VALID = [
        "bias = None\n\ndef f(proj):\n    if proj.merged:\n        return proj.weight, bias\n    return proj.weight, bias\n",
        "DEFAULT = 1\n\ndef f(proj):\n    if proj.merged:\n        return proj.w, DEFAULT\n    return proj.w, proj.scale\n",
        "def f(proj):\n    if proj.merged:\n        return proj.w, None\n    return proj.w, proj.b\n",
        "from .utils import noop\n\ndef decorators(amp):\n    fwd = amp.fwd\n    if fwd is not None:\n"
        "        return fwd, fwd\n    return noop, noop\n",
    ]
    INVALID = [
        Invalid(
            "bias = None\n\n\ndef get_lora_parameters(proj):\n    base_layer = proj.base_layer\n"
            "    if proj.merged:\n        return base_layer.weight, bias\n"
            "    return base_layer.weight, base_layer.bias\n",
            7, 35, "`bias` here is the module global, but the other return fills this slot with "
                   "`base_layer.bias` (line 8): this may be the wrong value",
            fixed="bias = None\n\n\ndef get_lora_parameters(proj):\n    base_layer = proj.base_layer\n"
                  "    if proj.merged:\n        return base_layer.weight, base_layer.bias\n"
                  "    return base_layer.weight, base_layer.bias\n",
        ),
    ]

    def check(self, ctx: RuleContext) -> Iterable[Report]:
        module_names = None
        variables: set[str] = set()
        for func in ctx.flow.functions:
            tuples = [r for r in func.returns if isinstance(r.value, T.Tuple) and r.shape is not None]
            if len(tuples) < 2 or len({len(r.value.elts) for r in tuples}) != 1 or func.dynamic:
                continue
            width = len(tuples[0].value.elts)
            for slot in range(width):
                for r in tuples:
                    elt = r.value.elts[slot]
                    if not isinstance(elt, T.Name) or elt.id in func.locals:
                        continue
                    if elt.id[:1].isupper():
                        continue  # CONSTANTS and classes are meant to be shared
                    others = [o.value.elts[slot] for o in tuples if o is not r]
                    texts = {T.unparse(o) for o in others}
                    if len(texts) != 1 or not all(_reads_local(o, func.locals) for o in others):
                        continue
                    if module_names is None:
                        module = collect_bindings(ctx.tree.body)
                        module_names = module.bound
                        # a module variable: an imported name or a def/class is a deliberate
                        # fallback (`return noop_decorator, noop_decorator`), not a stale value
                        variables = module.nondef_bound & module.nonimport_bound
                    if elt.id not in module_names and elt.id not in BUILTIN_NAMES:
                        continue  # undefined: LL201's business
                    if elt.id in module_names and elt.id not in variables:
                        continue
                    # the replacement must read only locals bound where this return runs
                    other = others[0]
                    if any(isinstance(n, T.Name) and n.id in func.locals and n.id not in r.bound
                           for n in T.walk(other)):
                        continue
                    text = texts.pop()
                    where = "module global" if elt.id in module_names else "builtin"
                    line = next(o.line for o in tuples if o is not r)
                    fix = Fix(elt.lineno, elt.col_offset + 1, elt.end_lineno, elt.end_col_offset + 1, text,
                              safety="unsafe")
                    yield Report(elt.lineno, elt.col_offset, elt.end_lineno, elt.end_col_offset,
                                 f"`{elt.id}` here is the {where}, but the other return"
                                 f"{'s fill' if len(others) > 1 else ' fills'} this slot with `{text}` "
                                 f"(line {line}): this may be the wrong value", fix)
