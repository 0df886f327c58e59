"""Read what a PEFT LoRA ``Linear`` would compute, as one named structure.

The getter answers two questions for the fused path: which tensors does PEFT's
forward use right now, and can the fused kernel compute exactly that?  It never
mutates the module and never reads tensor values (no GPU synchronisation).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Optional, Sequence

import torch
from torch import nn


class Reason(enum.Enum):
    """Why PEFT's forward would compute something the fused kernel does not."""

    NOT_LORA_LINEAR = "not a PEFT LoRA Linear layer"
    UNSUPPORTED_BASE_LAYER = "base layer is not a plain nn.Linear (subclass forward or hooks)"
    NESTED_BASE_LAYER = "base layer is wrapped by another layer whose forward would run too"
    QUANTIZED_WEIGHT = "quantized base weight the kernel cannot read"
    FAN_IN_FAN_OUT = "fan_in_fan_out weight layout (Conv1D target)"
    MERGED_WHILE_DISABLED = "merged adapters while disabled: PEFT unmerges first"
    MIXED_BATCH = "adapter_names mixed-batch call"
    MULTIPLE_ADAPTERS = "more than one active adapter"
    MISSING_ADAPTER = "an active adapter is missing from lora_A"
    VARIANT = "adapter variant (DoRA or other) in lora_variant"
    DROPOUT = "dropout that is not Identity while training"
    LORA_BIAS = "lora_bias: lora_B has a bias"


# Reasons that cannot change after the layer is built: the patcher leaves such
# layers alone instead of re-checking them on every call.
STRUCTURAL_REASONS = frozenset({Reason.NOT_LORA_LINEAR, Reason.UNSUPPORTED_BASE_LAYER,
                                Reason.NESTED_BASE_LAYER, Reason.QUANTIZED_WEIGHT, Reason.FAN_IN_FAN_OUT})

# float64 runs on the torch fallback; int8, fp8 and packed 4-bit weights need a dequantizing kernel.
_READABLE_DTYPES = (torch.float32, torch.float16, torch.bfloat16, torch.float64)


@dataclass(frozen=True)
class LoraParameters:
    """The tensors of one LoRA linear, the same fields on every path.

    ``lora_A``/``lora_B``/``scaling`` are None when the output is the base
    layer's alone (adapters disabled, merged, or none active) and when the
    layer is not eligible.  ``bias`` is always the base layer's bias (or None
    when it has none).  ``reason`` is None exactly when the fused kernel
    computes what PEFT's forward computes.
    """

    weight: torch.Tensor
    quant_state: Optional[object]
    lora_A: Optional[torch.Tensor]
    lora_B: Optional[torch.Tensor]
    scaling: Optional[float]
    bias: Optional[torch.Tensor]
    reason: Optional[Reason] = None

    @property
    def eligible(self) -> bool:
        return self.reason is None

    @property
    def base_only(self) -> bool:
        """True when PEFT's output is the base layer's output alone."""
        return self.reason is None and self.lora_A is None


def _lora_linear_class() -> Optional[type]:
    try:
        from peft.tuners.lora import Linear
    except ImportError:  # peft is optional for the kernels themselves
        return None
    return Linear


def _base_layer(module: nn.Module) -> nn.Module:
    # get_base_layer() follows nested tuner layers to the bottom; a one-level
    # getattr(module, "base_layer") stops at the next tuner layer.
    getter = getattr(module, "get_base_layer", None)
    return getter() if getter is not None else module


def _structural_reason(module: nn.Module, base: nn.Module) -> Optional[Reason]:
    lora_linear = _lora_linear_class()
    if lora_linear is None or not isinstance(module, lora_linear):
        return Reason.NOT_LORA_LINEAR
    if module.fan_in_fan_out:
        return Reason.FAN_IN_FAN_OUT
    weight = getattr(base, "weight", None)
    if not isinstance(weight, torch.Tensor):
        return Reason.UNSUPPORTED_BASE_LAYER
    if getattr(weight, "quant_state", None) is not None or weight.dtype not in _READABLE_DTYPES:
        return Reason.QUANTIZED_WEIGHT
    if not isinstance(base, nn.Linear) or type(base).forward is not nn.Linear.forward:
        # bitsandbytes and other quantized linears subclass nn.Linear with their own forward.
        return Reason.UNSUPPORTED_BASE_LAYER
    if "forward" in vars(base) or base._forward_hooks or base._forward_pre_hooks:
        # An accelerate offload hook or a user hook would be skipped by the kernel.
        return Reason.UNSUPPORTED_BASE_LAYER
    if module.base_layer is not base:
        # PEFT calls module.base_layer, i.e. the intermediate layer's forward
        # (another tuner adding its own delta); the kernel would skip it.
        return Reason.NESTED_BASE_LAYER
    return None


def _state_reason(module: nn.Module, adapter_names: Optional[Sequence[str]]) -> Optional[Reason]:
    if module.disable_adapters:
        return Reason.MERGED_WHILE_DISABLED if module.merged else None
    if adapter_names is not None:
        return Reason.MIXED_BATCH
    if module.merged:
        return None
    active = list(module.active_adapters)
    if len(active) > 1:
        return Reason.MULTIPLE_ADAPTERS
    if not active:
        return None
    adapter = active[0]
    if adapter not in module.lora_A:
        return Reason.MISSING_ADAPTER
    if adapter in module.lora_variant:
        return Reason.VARIANT
    dropout = module.lora_dropout[adapter]
    if not isinstance(dropout, nn.Identity) and dropout.training:
        return Reason.DROPOUT
    if module.lora_bias.get(adapter, False) or module.lora_B[adapter].bias is not None:
        return Reason.LORA_BIAS
    return None


def get_lora_parameters(module: nn.Module, adapter_names: Optional[Sequence[str]] = None) -> LoraParameters:
    """Return the tensors PEFT's forward of ``module`` uses now, and whether the kernel can.

    ``adapter_names`` is the keyword of the same name in the forward call being
    served (a mixed batch is never eligible).  The result has the same fields on
    every path; see :class:`LoraParameters`.
    """
    base = _base_layer(module)
    weight = getattr(base, "weight", None)
    bias = getattr(base, "bias", None)
    quant_state = getattr(weight, "quant_state", None)
    reason = _structural_reason(module, base) or _state_reason(module, adapter_names)
    if reason is not None:
        return LoraParameters(weight=weight, quant_state=quant_state, lora_A=None, lora_B=None,
                              scaling=None, bias=bias, reason=reason)
    active = [] if (module.disable_adapters or module.merged) else list(module.active_adapters)
    if not active:
        return LoraParameters(weight=weight, quant_state=quant_state, lora_A=None, lora_B=None,
                              scaling=None, bias=bias)
    adapter = active[0]
    return LoraParameters(weight=weight, quant_state=quant_state,
                          lora_A=module.lora_A[adapter].weight, lora_B=module.lora_B[adapter].weight,
                          scaling=float(module.scaling[adapter]), bias=bias)
