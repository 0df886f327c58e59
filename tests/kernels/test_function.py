"""The fused Function (Triton and torch fallback) against the float64 reference."""

from __future__ import annotations

import inspect

import pytest
import torch

from .kernel_helpers import DEVICE
from reference_kernels import (LoraLinearFunction, fused_lora_linear, lora_linear_backward, lora_linear_forward,
                               lora_parameters, relative_error, tolerance)
from reference_kernels import function as function_module
from reference_kernels import launch

SCALING = 2.0


def _case(shape, k, n, r, dtype, adapter_dtype, bias, seed=0, non_contiguous=False):
    g = torch.Generator().manual_seed(seed)
    if non_contiguous:
        # A transposed view: stride 1 is on a leading dim, not on K.
        x = torch.randn(k, *shape, generator=g).movedim(0, -1)
    else:
        x = torch.randn(*shape, k, generator=g)
    x = x.to(DEVICE, dtype)
    w = (torch.randn(n, k, generator=g) / k ** 0.5).to(DEVICE, dtype)
    b = torch.randn(n, generator=g).to(DEVICE, dtype) if bias else None
    a = (torch.randn(r, k, generator=g) / k ** 0.5).to(DEVICE, adapter_dtype).requires_grad_()
    bb = (torch.randn(n, r, generator=g) / r ** 0.5).to(DEVICE, adapter_dtype).requires_grad_()
    grad_y = torch.randn(*x.shape[:-1], n, generator=g).to(DEVICE, dtype)
    return x, w, b, a, bb, grad_y


def _check(backend, shape, k, n, r, dtype, adapter_dtype=None, bias=True, non_contiguous=False):
    adapter_dtype = adapter_dtype or dtype
    x, w, b, a, bb, grad_y = _case(shape, k, n, r, dtype, adapter_dtype, bias, non_contiguous=non_contiguous)
    assert x.is_contiguous() != non_contiguous
    x.requires_grad_()
    y = fused_lora_linear(x, lora_parameters(w, a, bb, SCALING, b), backend=backend)
    y.backward(grad_y)
    assert y.dtype == dtype and y.shape == (*shape, n)
    assert x.grad.dtype == dtype and a.grad.dtype == adapter_dtype and bb.grad.dtype == adapter_dtype

    def d(t):
        return None if t is None else t.detach().double()

    ref_y = lora_linear_forward(d(x), d(w), d(a), d(bb), SCALING, d(b))
    ref = lora_linear_backward(d(grad_y), d(x), d(w), d(a), d(bb), SCALING)
    bound = tolerance(dtype)
    for name, got, want in [("y", y, ref_y), ("dx", x.grad, ref.x), ("dA", a.grad, ref.lora_A),
                            ("dB", bb.grad, ref.lora_B)]:
        err = relative_error(got, want)
        assert err <= bound, f"{name}: {err:.3g} > {bound:g}"


BACKENDS = ["triton", "torch"]
DTYPES = [torch.float32, torch.float16, torch.bfloat16]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("r", [1, 8, 16])
def test_odd_2d_shapes_with_bias(backend, dtype, r):
    # M = 37, K = 40, N = 48: no block size divides M; K and N are not powers of two.
    _check(backend, (37,), 40, 48, r, dtype)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_3d_input_without_bias(backend, dtype):
    _check(backend, (3, 7), 24, 20, 8, dtype, bias=False)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_non_contiguous_3d_input(backend, dtype):
    _check(backend, (2, 9), 24, 20, 16, dtype, non_contiguous=True)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=str)
def test_fp32_adapters_with_half_precision_x_and_w(backend, dtype):
    _check(backend, (2, 19), 40, 33, 8, dtype, adapter_dtype=torch.float32)


@pytest.mark.parametrize("backend", BACKENDS)
def test_rank_above_one_rank_block_and_more_than_one_tile(backend):
    # r = 70 loops over three rank chunks; M = 130 and N = 200 span several tiles.
    _check(backend, (130,), 72, 200, 70, torch.float32)


def test_float64_runs_on_the_fallback():
    x, w, b, a, bb, _ = _case((5,), 8, 6, 2, torch.float64, torch.float64, True)
    params = lora_parameters(w, a, bb, SCALING, b)
    assert function_module.resolve_backend("auto", x, w) == "torch"
    y = fused_lora_linear(x, params)
    assert relative_error(y, lora_linear_forward(x, w, a, bb, SCALING, b)) <= tolerance(torch.float64)


@pytest.mark.parametrize("backend", BACKENDS)
def test_only_requested_gradients(backend):
    x, w, b, a, bb, grad_y = _case((11,), 24, 20, 4, torch.float32, torch.float32, True)
    bb.requires_grad_(False)
    y = fused_lora_linear(x, lora_parameters(w, a, bb, SCALING, b), backend=backend)
    y.backward(grad_y)
    assert x.grad is None and bb.grad is None
    ref = lora_linear_backward(grad_y.double(), x.double(), w.double(), a.detach().double(), bb.double(), SCALING)
    assert relative_error(a.grad, ref.lora_A) <= tolerance(torch.float32)


def test_explicit_backward_matches_autograd_in_float64():
    x, w, b, a, bb, grad_y = _case((3, 5), 12, 10, 4, torch.float64, torch.float64, True)
    x.requires_grad_()
    lora_linear_forward(x, w, a, bb, SCALING, b).backward(grad_y)
    grads = lora_linear_backward(grad_y, x.detach(), w, a.detach(), bb.detach(), SCALING)
    torch.testing.assert_close(grads.x, x.grad, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(grads.lora_A, a.grad, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(grads.lora_B, bb.grad, rtol=1e-12, atol=1e-12)


def test_backward_returns_one_gradient_per_forward_input():
    forward_inputs = list(inspect.signature(LoraLinearFunction.forward).parameters)[1:]  # drop ctx
    assert list(function_module._Inputs._fields) == forward_inputs


def test_frozen_base_is_required():
    x, w, b, a, bb, _ = _case((4,), 8, 6, 2, torch.float32, torch.float32, True)
    with pytest.raises(ValueError, match="frozen"):
        fused_lora_linear(x, lora_parameters(w.requires_grad_(), a, bb, SCALING, b))


def test_fallback_when_triton_is_not_installed(monkeypatch):
    monkeypatch.setattr(launch, "load_kernels", lambda: None)
    x, w, b, a, bb, _ = _case((6,), 16, 8, 4, torch.float32, torch.float32, True)
    assert function_module.resolve_backend("auto", x, w) == "torch"
    with pytest.raises(RuntimeError, match="cannot run"):
        function_module.resolve_backend("triton", x, w)
    _check("auto", (6,), 16, 8, 4, torch.bfloat16)


def test_auto_uses_triton_where_it_can_run():
    x, w, *_ = _case((6,), 16, 8, 4, torch.float32, torch.float32, True)
    assert function_module.resolve_backend("auto", x, w) == "triton"
