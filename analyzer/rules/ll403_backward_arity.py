"""LL403: backward takes a different number of gradients than forward returns outputs."""

from __future__ import annotations

from typing import Iterable

from analyzer.flow.autograd import find_autograd_classes, return_arity
from analyzer.rules.base import Invalid, Report, Rule, RuleContext, report_at_def_name


class BackwardArity(Rule):
    """
    ## What it does
    In a custom `torch.autograd.Function`, flags a `backward` whose gradient parameters (after
    `ctx`) differ in number from the outputs `forward` returns, when every `forward` return is a
    tuple of known size (or a plain value, one output).

    ## Why is this bad?
    Autograd calls `backward(ctx, *grad_outputs)` with one gradient per output: a `forward` that
    starts returning an extra tensor (saved LoRA activations, a scale) makes the backward call
    fail with `TypeError` at the first backward pass.

    ## Example
    ```python
    def forward(ctx, x, A, B):
        return y, xa
    def backward(ctx, dy):
        ...
    ```

    ## Use instead
    `def backward(ctx, dy, dxa):` (the gradient of an output you do not differentiate is still
    passed).
    """

    code = "LL403"
    name = "backward-arity"
    summary = "autograd backward takes a different count than forward's outputs"

    VALID = [
        "import torch\n\nclass F(torch.autograd.Function):\n    @staticmethod\n    def forward(ctx, x):\n        return x, x\n\n    @staticmethod\n    def backward(ctx, g1, g2):\n        return g1 + g2\n",
        "import torch\n\nclass F(torch.autograd.Function):\n    @staticmethod\n    def forward(ctx, x):\n        return x, x\n\n    @staticmethod\n    def backward(ctx, *grads):\n        return grads[0]\n",
        "import torch\n\nclass F(torch.autograd.Function):\n    @staticmethod\n    def forward(ctx, x):\n        return helper(x)\n\n    @staticmethod\n    def backward(ctx, g):\n        return g\n",
    ]
    INVALID = [
        Invalid(
            "import torch\n\n\nclass LoraShrink(torch.autograd.Function):\n"
            "    @staticmethod\n    def forward(ctx, x, A):\n        xa = x @ A.t()\n        return x, xa\n\n"
            "    @staticmethod\n    def backward(ctx, dy):\n        return dy, None\n",
            11, 9, "`LoraShrink.backward` takes 1 gradient but `forward` returns 2 outputs (line 8)",
        ),
    ]

    def check(self, ctx: RuleContext) -> Iterable[Report]:
        for cls in find_autograd_classes(ctx.flow):
            if cls.forward is None or cls.backward is None:
                continue
            takes = cls.grad_params()
            if takes is None:
                continue
            returns = [r for r in cls.forward.returns if r.node is not None]
            if not returns or any(r.node is None for r in cls.forward.returns):
                continue
            arities = {return_arity(r) for r in returns}
            if None in arities or len(arities) != 1:
                continue
            (outs,) = arities
            if outs == takes:
                continue
            grads = f"{takes} gradient" if takes == 1 else f"{takes} gradients"
            outputs = f"{outs} output" if outs == 1 else f"{outs} outputs"
            yield report_at_def_name(cls.backward.node, f"`{cls.node.name}.backward` takes {grads} but `forward` "
                                                        f"returns {outputs} (line {returns[0].line})")
