"""LL401: backward returns a different number of gradients than forward has inputs."""

from __future__ import annotations

from typing import Iterable

from analyzer.flow.autograd import find_autograd_classes, gradient_count
from analyzer.rules.base import Invalid, Report, Rule, RuleContext, report_at


def _grads(n: int) -> str:
    return f"{n} gradient" if n == 1 else f"{n} gradients"


def _inputs(lo: int, hi: int) -> str:
    return f"{hi} input" if lo == hi == 1 else (f"{hi} inputs" if lo == hi else f"{lo} to {hi} inputs")


class BackwardGradCount(Rule):
    """
    ## What it does
    In a custom `torch.autograd.Function` (a subclass of `Function` imported from `torch.autograd`
    under any name, or of such a class in the same module), flags a `backward` return whose
    number of gradients differs from the number of `forward` inputs after `ctx` (with the
    `setup_context` style: forward's own parameters). Trailing extra `None`s are allowed, as
    PyTorch allows them; a `*args` forward makes the count unknown. When forward has defaults and
    every `Cls.apply(...)` call of the module passes the same count, that count is the one.
    A bare value counts as one gradient: arithmetic (`grad @ B @ A`), a call that gives one
    tensor (`torch.matmul`, `.t()`), or a local only ever assigned such a value (`return dx`).

    ## Why is this bad?
    PyTorch raises "function backward returned an incorrect number of gradients" only when the
    backward pass first runs, often hours into a job. Fused LoRA kernels have many inputs (x, W,
    A, B, scaling, bias, ...) and one added to `forward` is easily forgotten in `backward`.

    ## Example
    ```python
    class LoraMatmul(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, A, B, scaling):
            ...
        @staticmethod
        def backward(ctx, dy):
            return dx, dA, dB
    ```

    ## Use instead
    Return one gradient (or `None`) per input: `return dx, dA, dB, None`.
    """

    code = "LL401"
    name = "backward-grad-count"
    summary = "autograd backward returns a different count than forward's inputs"

    VALID = [
        "import torch\n\nclass F(torch.autograd.Function):\n    @staticmethod\n    def forward(ctx, x, w):\n        return x * w\n\n    @staticmethod\n    def backward(ctx, g):\n        return g, None\n",
        "import torch\n\nclass F(torch.autograd.Function):\n    @staticmethod\n    def forward(ctx, q, k, scale):\n        return q @ k\n\n"
        "    @staticmethod\n    def backward(ctx, g):\n        return (g, g) + (None,) * 3\n",
        "from torch.autograd import Function\n\nclass F(Function):\n    @staticmethod\n    def forward(ctx, *args):\n        return args[0]\n\n    @staticmethod\n    def backward(ctx, g):\n        return g\n",
        "from torch.autograd import Function\n\nclass F(Function):\n    @staticmethod\n    def forward(ctx, x):\n        return x\n\n    @staticmethod\n    def backward(ctx, g):\n        return g, None\n",
        "from torch.autograd import Function\n\nclass F(Function):\n    @staticmethod\n    def forward(x, w):\n        return x * w\n\n    @staticmethod\n    def setup_context(ctx, inputs, output):\n        pass\n\n    @staticmethod\n    def backward(ctx, g):\n        return g, g\n",
        "import torch\n\nclass MatMul8(torch.autograd.Function):\n    @staticmethod\n    def forward(ctx, A, B, out=None, bias=None):\n        return A @ B\n\n    @staticmethod\n    def backward(ctx, grad):\n        return grad, grad, None\n\n\ndef matmul(A, B):\n    return MatMul8.apply(A, B, None)\n",
        # surplus gradients that are all None, spelled as a starred repetition: PyTorch accepts them
        "import torch\n\nclass Attn(torch.autograd.Function):\n    @staticmethod\n    def forward(ctx, q, k, v, scale):\n"
        "        return q @ k\n\n    @staticmethod\n    def backward(ctx, g):\n        return g, g, g, *((None,) * 4)\n",
        # a classmethod forward: `cls` is bound, so the inputs come after `cls, ctx`
        "import torch\n\nclass SwiGLU(torch.autograd.Function):\n    @classmethod\n    def forward(cls, ctx, x, w):\n"
        "        return x @ w\n\n    @classmethod\n    def backward(cls, ctx, g):\n        return g, g\n",
    ]
    INVALID = [
        Invalid(
            "import torch\n\n\nclass LoraMatmul(torch.autograd.Function):\n"
            "    @staticmethod\n    def forward(ctx, x, A, B, scaling):\n        return x\n\n"
            "    @staticmethod\n    def backward(ctx, dy):\n        return dy, dy, dy\n",
            11, 9, "`LoraMatmul.backward` returns 3 gradients but `forward` takes 4 inputs after ctx (line 6)",
        ),
        Invalid(
            "from torch.autograd import Function as AF\n\n\nclass Base(AF):\n    pass\n\n\nclass Scale(Base):\n"
            "    @staticmethod\n    def forward(ctx, x):\n        return x * 2\n\n"
            "    @staticmethod\n    def backward(ctx, g):\n        return g * 2, g\n",
            15, 9, "`Scale.backward` returns 2 gradients but `forward` takes 1 input after ctx (line 10)",
        ),
        Invalid(
            "import torch\n\n\nclass MatMul8(torch.autograd.Function):\n"
            "    @staticmethod\n    def forward(ctx, A, B, out=None, bias=None):\n        return A @ B\n\n"
            "    @staticmethod\n    def backward(ctx, grad):\n        return grad, grad, None\n\n\n"
            "def matmul(A, B, bias):\n    return MatMul8.apply(A, B, None, bias)\n",
            11, 9, "`MatMul8.backward` returns 3 gradients but every `MatMul8.apply` call passes 4 inputs "
                   "(forward at line 6)",
        ),
        Invalid(
            "import torch\n\n\nclass LoraFn(torch.autograd.Function):\n"
            "    @staticmethod\n    def forward(ctx, x, A, B):\n        ctx.save_for_backward(x, A, B)\n"
            "        return x @ A.t() @ B.t()\n\n"
            "    @staticmethod\n    def backward(ctx, grad):\n        x, A, B = ctx.saved_tensors\n"
            "        dx = grad @ B @ A\n        return dx\n",
            14, 9, "`LoraFn.backward` returns 1 gradient but `forward` takes 3 inputs after ctx (line 6)",
        ),
    ]

    def check(self, ctx: RuleContext) -> Iterable[Report]:
        for cls in find_autograd_classes(ctx.flow):
            rng = cls.input_range()
            if rng is None or cls.backward is None:
                continue
            lo, hi = rng
            for r in cls.backward.returns:
                n = gradient_count(r, cls.backward.node, hi)
                if n is None or lo <= n <= hi:
                    continue
                after = "after ctx" if cls.setup_context is None else "(setup_context style)"
                if cls.apply_counts == {lo} and lo == hi and cls.forward.node.args.defaults:
                    # the range was narrowed by the calls: say so, since forward's defaults allow fewer
                    yield report_at(r.node, f"`{cls.node.name}.backward` returns {_grads(n)} but every "
                                            f"`{cls.node.name}.apply` call passes {_inputs(lo, hi)} "
                                            f"(forward at line {cls.forward.node.lineno})")
                    continue
                yield report_at(r.node, f"`{cls.node.name}.backward` returns {_grads(n)} but `forward` takes "
                                        f"{_inputs(lo, hi)} {after} (line {cls.forward.node.lineno})")
