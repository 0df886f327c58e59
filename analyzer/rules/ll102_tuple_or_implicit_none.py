"""LL102: a tuple on some paths, an implicit None on others."""

from __future__ import annotations

import ast
from typing import Iterable

from analyzer.flow.shapes import describe_shape
from analyzer.rules.base import Invalid, Report, Rule, RuleContext, report_at, report_at_def_name


class TupleOrImplicitNone(Rule):
    """
    ## What it does
    Flags an unannotated function that returns a tuple on some paths and, on others, falls off the
    end of its body or uses a bare `return`, so it returns `None` there without saying so.

    ## Why is this bad?
    The caller unpacks the tuple; on the forgotten path it gets `TypeError: cannot unpack
    non-iterable NoneType object`. An explicit `return None` (or an annotation) shows the `None`
    is meant.

    ## Example
    ```python
    def split_lora(module):
        if hasattr(module, "lora_A"):
            return module.lora_A, module.lora_B
    ```

    ## Use instead
    ```python
    def split_lora(module):
        if hasattr(module, "lora_A"):
            return module.lora_A, module.lora_B
        return None
    ```
    """

    code = "LL102"
    name = "tuple-or-implicit-none"
    summary = "returns a tuple on some paths and an implicit None on others"

    VALID = [
        "def f(a):\n    if a:\n        return 1, 2\n    return None\n",
        "def f(a) -> tuple[int, int] | None:\n    if a:\n        return 1, 2\n",
        "def f(a):\n    if a:\n        return 1, 2\n    raise ValueError(a)\n",
    ]
    INVALID = [
        Invalid(
            "def split_lora(module):\n    if hasattr(module, 'lora_A'):\n        return module.lora_A, module.lora_B\n",
            1, 5, "`split_lora` returns 2 values at line 3 but may end without a return (implicit None) at line 3",
        ),
        Invalid(
            "def f(a):\n    if a:\n        return\n    return a, a\n",
            3, 9, "`f` returns 2 values at line 4 but a bare `return` here gives None",
        ),
    ]

    def check(self, ctx: RuleContext) -> Iterable[Report]:
        for func in ctx.flow.functions:
            node = func.node
            if (func.is_generator or func.dynamic or not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                    or node.returns is not None):
                continue
            tuples = [r for r in func.returns if r.shape is not None and isinstance(r.value, ast.Tuple)]
            if not tuples:
                continue
            witness = tuples[0]
            what = describe_shape(witness.shape)
            for r in func.returns:
                if r.node is None:
                    yield report_at_def_name(node, f"`{func.name}` returns {what} at line {witness.line} but may "
                                                   f"end without a return (implicit None) at line {r.line}")
                elif r.node.value is None:
                    yield report_at(r.node, f"`{func.name}` returns {what} at line {witness.line} but a bare "
                                            "`return` here gives None")

