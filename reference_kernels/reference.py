"""The one torch implementation of the LoRA linear math.

Tests and the benchmark call it in float64 as the reference; the autograd
Function calls it in float32 as the fallback when Triton cannot run.  The
backward is written out (not left to autograd) so that the derivation in
``LoraLinearFunction``'s docstring has a readable twin that tests check against
autograd.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

import torch


class LoraGrads(NamedTuple):
    """Gradients of the trainable inputs; W and the base bias are frozen."""

    x: torch.Tensor
    lora_A: torch.Tensor
    lora_B: torch.Tensor


def _as(t: Optional[torch.Tensor], dtype: Optional[torch.dtype]) -> Optional[torch.Tensor]:
    return t if (t is None or dtype is None) else t.to(dtype)


def lora_linear_forward(x: torch.Tensor, weight: torch.Tensor, lora_A: Optional[torch.Tensor],
                        lora_B: Optional[torch.Tensor], scaling: Optional[float],
                        bias: Optional[torch.Tensor], compute_dtype: Optional[torch.dtype] = None,
                        ) -> torch.Tensor:
    """``y = x·Wᵀ + s·(x·Aᵀ)·Bᵀ + b`` over the last dim of ``x``.

    Computed in ``compute_dtype`` (float64 for a reference) and returned in
    ``x.dtype``.  ``lora_A is None`` means the base layer alone.
    """
    out_dtype = x.dtype
    x, weight, bias = _as(x, compute_dtype), _as(weight, compute_dtype), _as(bias, compute_dtype)
    y = x @ weight.t()
    if lora_A is not None:
        a, b = _as(lora_A, compute_dtype), _as(lora_B, compute_dtype)
        y = y + scaling * ((x @ a.t()) @ b.t())
    if bias is not None:
        y = y + bias
    return y.to(out_dtype)


def lora_linear_backward(grad_y: torch.Tensor, x: torch.Tensor, weight: torch.Tensor,
                         lora_A: torch.Tensor, lora_B: torch.Tensor, scaling: float,
                         compute_dtype: Optional[torch.dtype] = None) -> LoraGrads:
    """``dX = dY·W + s·(dY·B)·A``, ``dA = s·(dY·B)ᵀ·X``, ``dB = s·dYᵀ·(X·Aᵀ)``.

    Each gradient is returned in its input's dtype.
    """
    k = x.shape[-1]
    dy = _as(grad_y, compute_dtype).reshape(-1, grad_y.shape[-1])
    x2 = _as(x, compute_dtype).reshape(-1, k)
    w, a, b = _as(weight, compute_dtype), _as(lora_A, compute_dtype), _as(lora_B, compute_dtype)
    dy_b = dy @ b
    dx = dy @ w + scaling * (dy_b @ a)
    da = scaling * (dy_b.t() @ x2)
    db = scaling * (dy.t() @ (x2 @ a.t()))
    return LoraGrads(x=dx.reshape(x.shape).to(x.dtype), lora_A=da.to(lora_A.dtype),
                     lora_B=db.to(lora_B.dtype))


def relative_error(actual: torch.Tensor, expected: torch.Tensor) -> float:
    """``max|actual − expected| / max|expected|``, measured in float64."""
    expected = expected.double()
    scale = expected.abs().max().item()
    err = (actual.double() - expected).abs().max().item()
    return err / scale if scale > 0 else err
