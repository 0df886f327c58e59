"""The autograd Function of the fused LoRA linear and its public entry point."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple, Optional

import torch

from . import launch
from .params import LoraParameters
from .reference import lora_linear_backward, lora_linear_forward

BACKENDS = ("auto", "triton", "torch")


@dataclass(frozen=True)
class _Options:
    scaling: float
    backend: str  # "triton" or "torch", resolved before the Function runs


class _Inputs(NamedTuple):
    """The Function's forward inputs; backward returns one of these, field for field."""

    x: Any
    weight: Any
    lora_A: Any
    lora_B: Any
    bias: Any
    options: Any


def _torch_compute_dtype(dtype: torch.dtype) -> torch.dtype:
    # The fallback accumulates 16-bit inputs in fp32 and rounds once, like the kernels.
    return torch.promote_types(dtype, torch.float32)


class LoraLinearFunction(torch.autograd.Function):
    """``y = x·Wᵀ + s·(x·Aᵀ)·Bᵀ + b`` with W and b frozen.

    Derivation, with ``X`` the ``[M, K]`` view of x, ``W: [N, K]``,
    ``A: [r, K]``, ``B: [N, r]`` and ``T = X·Aᵀ`` (``[M, r]``), so
    ``Y = X·Wᵀ + s·T·Bᵀ + b``.  For a loss with ``dY = ∂L/∂Y``:

    * ``Y`` depends on ``X`` through ``X·Wᵀ`` and through ``T``:
      ``dX = dY·W + s·(dY·B)·A``.
    * ``Y`` depends on ``B`` through ``s·T·Bᵀ``: ``dB = s·dYᵀ·T = s·dYᵀ·(X·Aᵀ)``.
    * ``Y`` depends on ``A`` through ``T``; ``dT = s·dY·B`` and
      ``T = X·Aᵀ`` give ``dA = dTᵀ·X = s·(dY·B)ᵀ·X``.
    * W and b are frozen: their gradients are None.

    So the forward keeps ``T`` (``M×r`` floats, in float32) and the backward
    computes ``dY·B`` once for both ``dX`` and ``dA``.
    """

    @staticmethod
    def forward(ctx, x, weight, lora_A, lora_B, bias, options):
        x2d = x.reshape(-1, x.shape[-1])
        if options.backend == "triton":
            y2d, low_rank = launch.triton_forward(x2d, weight, lora_A, lora_B, options.scaling, bias)
        else:
            y2d = lora_linear_forward(x2d, weight, lora_A, lora_B, options.scaling, bias,
                                      compute_dtype=_torch_compute_dtype(x.dtype))
            low_rank = None
        ctx.save_for_backward(x2d, low_rank, weight, lora_A, lora_B)
        ctx.options = options
        ctx.x_shape = x.shape
        return y2d.reshape(*x.shape[:-1], weight.shape[0])

    @staticmethod
    def backward(ctx, grad_y):
        x2d, low_rank, weight, lora_A, lora_B = ctx.saved_tensors
        options = ctx.options
        wanted = launch.GradRequest(x=ctx.needs_input_grad[0], lora_A=ctx.needs_input_grad[2],
                                    lora_B=ctx.needs_input_grad[3])
        dy = grad_y.reshape(-1, grad_y.shape[-1])
        if options.backend == "triton":
            grads = launch.triton_backward(dy, x2d, low_rank, weight, lora_A, lora_B, options.scaling, wanted)
        else:
            grads = lora_linear_backward(dy, x2d, weight, lora_A, lora_B, options.scaling,
                                         compute_dtype=_torch_compute_dtype(x2d.dtype))
        return tuple(_Inputs(
            x=grads.x.reshape(ctx.x_shape) if wanted.x else None,
            weight=None,
            lora_A=grads.lora_A if wanted.lora_A else None,
            lora_B=grads.lora_B if wanted.lora_B else None,
            bias=None,
            options=None,
        ))


def resolve_backend(requested: str, x: torch.Tensor, weight: torch.Tensor) -> str:
    """Pick "triton" or "torch" for this call; "auto" prefers Triton where it can run."""
    if requested not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {requested!r}")
    if requested == "torch":
        return "torch"
    kernel_ok = (x.dtype in launch.KERNEL_DTYPES and weight.dtype == x.dtype and x.numel() > 0
                 and launch.triton_can_run(x.device))
    if kernel_ok:
        return "triton"
    if requested == "triton":
        raise RuntimeError(
            f"the Triton kernels cannot run here (x {x.dtype} on {x.device}, weight {weight.dtype}; "
            "on CPU they need TRITON_INTERPRET=1 set before reference_kernels loads them)")
    return "torch"


def fused_lora_linear(x: torch.Tensor, params: LoraParameters, *, backend: str = "auto") -> torch.Tensor:
    """The LoRA linear of ``params`` applied to ``x`` (any leading dims), fused.

    ``params`` must be eligible with an adapter (see ``get_lora_parameters``);
    the base weight and bias must be frozen.  ``backend`` is "auto" (Triton
    when it can run on x's device, else the torch fallback), "triton" or "torch".
    """
    if not params.eligible or params.lora_A is None:
        raise ValueError(f"no fused path for these parameters: {params.reason or 'no active adapter'}")
    if params.weight.requires_grad or (params.bias is not None and params.bias.requires_grad):
        raise ValueError("the fused path needs a frozen base weight and bias")
    if x.dtype != params.weight.dtype:
        raise ValueError(f"x is {x.dtype} but the base weight is {params.weight.dtype}")
    options = _Options(scaling=params.scaling, backend=resolve_backend(backend, x, params.weight))
    return LoraLinearFunction.apply(x, params.weight, params.lora_A, params.lora_B, params.bias, options)


def lora_parameters(weight: torch.Tensor, lora_A: torch.Tensor, lora_B: torch.Tensor, scaling: float,
                    bias: Optional[torch.Tensor] = None) -> LoraParameters:
    """Build eligible ``LoraParameters`` from plain tensors (tests, benchmarks)."""
    return LoraParameters(weight=weight, quant_state=None, lora_A=lora_A, lora_B=lora_B,
                          scaling=float(scaling), bias=bias)
