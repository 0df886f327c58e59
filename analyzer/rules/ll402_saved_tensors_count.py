"""LL402: ctx.saved_tensors unpacked with a different count than was saved."""

from __future__ import annotations

from typing import Iterable

from analyzer.flow.autograd import find_autograd_classes
from analyzer.rules.base import Invalid, Report, Rule, RuleContext, report_at


class SavedTensorsCount(Rule):
    """
    ## What it does
    In a custom `torch.autograd.Function`, flags `a, b = ctx.saved_tensors` (or
    `ctx.saved_tensors[i]`) in `backward` when every `ctx.save_for_backward(...)` call in
    `forward` (or `setup_context`) saves a different number of tensors.

    ## Why is this bad?
    The unpacking fails with `ValueError` (or the index with `IndexError`) in the backward pass,
    the first time gradients flow; a tensor added to `save_for_backward` but not to the unpacking
    (or the other way round) is a typical edit of a fused kernel's Function.

    ## Example
    ```python
    ctx.save_for_backward(x, A, B)
    ...
    x, A, B, W = ctx.saved_tensors
    ```

    ## Use instead
    Unpack exactly what was saved.
    """

    code = "LL402"
    name = "saved-tensors-count"
    summary = "ctx.saved_tensors unpacked with a different count than saved"

    VALID = [
        "import torch\n\nclass F(torch.autograd.Function):\n    @staticmethod\n    def forward(ctx, x, w):\n        ctx.save_for_backward(x, w)\n        return x * w\n\n    @staticmethod\n    def backward(ctx, g):\n        x, w = ctx.saved_tensors\n        return g * w, g * x\n",
        "import torch\n\nclass F(torch.autograd.Function):\n    @staticmethod\n    def forward(ctx, x, w):\n        ctx.save_for_backward(*[x, w])\n        return x * w\n\n    @staticmethod\n    def backward(ctx, g):\n        x, w, z = ctx.saved_tensors\n        return g, g\n",
    ]
    INVALID = [
        Invalid(
            "import torch\n\n\nclass LoraMatmul(torch.autograd.Function):\n"
            "    @staticmethod\n    def forward(ctx, x, A, B):\n        ctx.save_for_backward(x, A, B)\n        return x\n\n"
            "    @staticmethod\n    def backward(ctx, dy):\n        x, A, B, W = ctx.saved_tensors\n        return dy, None, None\n",
            12, 9, "`LoraMatmul.backward` unpacks 4 saved tensors but `forward` saves 3 (line 7)",
        ),
        Invalid(
            "import torch\n\n\nclass F(torch.autograd.Function):\n"
            "    @staticmethod\n    def forward(ctx, x):\n        ctx.save_for_backward(x)\n        return x\n\n"
            "    @staticmethod\n    def backward(ctx, g):\n        w = ctx.saved_tensors[1]\n        return g * w\n",
            12, 13, "`F.backward` reads saved tensor [1] but `forward` saves 1 (line 7)",
        ),
    ]

    def check(self, ctx: RuleContext) -> Iterable[Report]:
        for cls in find_autograd_classes(ctx.flow):
            if len(cls.saved_counts) != 1 or None in cls.saved_counts or not cls.saved_uses:
                continue
            (n,) = cls.saved_counts
            line = cls.save_line
            for use in cls.saved_uses:
                if use.index is not None:
                    if use.index >= n or use.index < -n:
                        yield report_at(use.node, f"`{cls.node.name}.backward` reads saved tensor [{use.index}] "
                                                  f"but `forward` saves {n} (line {line})")
                elif (use.starred and use.count > n) or (not use.starred and use.count != n):
                    want = f"at least {use.count}" if use.starred else str(use.count)
                    yield report_at(use.node, f"`{cls.node.name}.backward` unpacks {want} saved tensors but "
                                              f"`forward` saves {n} (line {line})")

