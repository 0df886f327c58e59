"""Custom autograd Functions: one gradient per forward input, with the input's shape, dtype and
device; both the ctx-in-forward and the setup_context styles; undone by disable()."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import analyzer.runtime as rt  # noqa: E402


def _scale_class(backward):
    class Scale(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, w, flag):
            ctx.save_for_backward(x, w)
            return x * w

    Scale.backward = staticmethod(backward)
    return Scale


def _inputs():
    return torch.randn(3, 4, requires_grad=True), torch.randn(4, requires_grad=True)


def test_too_few_gradients():
    Scale = _scale_class(lambda ctx, g: (g, None))
    with rt.checking("raise"):
        rt.watch_function_class(Scale)
        x, w = _inputs()
        with pytest.raises(rt.RuntimeViolation, match=r"^_scale_class.Scale.backward returned 2 gradient\(s\) for 3 forward input"):
            Scale.apply(x, w, True).sum().backward()


def test_wrong_shape_and_dtype_are_named():
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        return g * w, (g * x).double(), None  # not reduced to w's shape, and float64

    Scale = _scale_class(backward)
    with rt.checking("warn"):
        rt.watch_function_class(Scale)
        x, w = _inputs()
        with pytest.warns(rt.RuntimeViolationWarning):
            try:
                Scale.apply(x, w, True).sum().backward()
            except RuntimeError:
                pass  # autograd itself may refuse the gradient after our check
        (only,) = rt.reports()
    assert only.message == "_scale_class.Scale.backward gradient 1 is 3x4 torch.float64 on cpu; input 1 is 4 torch.float32 on cpu"


def test_gradient_for_a_non_tensor_input():
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        return g * w, (g * x).sum(0), torch.ones(1)

    Scale = _scale_class(backward)
    with rt.checking("raise"):
        rt.watch_function_class(Scale)
        x, w = _inputs()
        with pytest.raises(rt.RuntimeViolation, match="returned a Tensor for input 2, which is not a tensor"):
            Scale.apply(x, w, True).sum().backward()


def test_correct_setup_context_function_passes_and_is_restored():
    class Mul(torch.autograd.Function):
        @staticmethod
        def forward(x, w):
            return x * w

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(*inputs)

        @staticmethod
        def backward(ctx, g):
            x, w = ctx.saved_tensors
            return g * w, (g * x).sum(0)

    originals = dict(Mul.__dict__)
    with rt.checking("raise"):
        rt.watch_function_class(Mul)
        rt.watch_function_class(Mul)  # twice is once
        x, w = _inputs()
        Mul.apply(x, w).sum().backward()
        assert x.grad.shape == x.shape and rt.reports() == []
    for name in ("forward", "backward", "setup_context"):
        assert Mul.__dict__[name] is originals[name]
    assert "__lora_lint_watched_function__" not in Mul.__dict__


def test_not_a_function_class():
    with rt.checking("raise"):
        with pytest.raises(TypeError, match="torch.autograd.Function subclass"):
            rt.watch_function_class(int)
