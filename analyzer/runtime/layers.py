"""What a PEFT LoRA layer looks like: the duck type the tracer recognises, and the (out, in)
dims of a Linear-like one's base weight. Shared by the layer hooks and the consistency check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

__all__ = ["Dims", "is_lora_layer", "linear_dims", "linear_like"]


def is_lora_layer(module: Any) -> bool:
    return hasattr(module, "lora_A") and hasattr(module, "lora_B") and hasattr(module, "get_base_layer")


def linear_like(module: Any, adapter: str) -> bool:
    """A LoRA layer whose adapter is a pair of Linears over a Linear-shaped base (nn.Linear, a
    quantised Linear, or transformers' Conv1D with fan_in_fan_out). Conv, Embedding, attention
    and parameter (MoE) LoRA layers have other shape rules and are only checked for dtype and
    scaling."""
    import torch

    lora_a = module.lora_A[adapter]
    if not isinstance(lora_a, torch.nn.Linear) or hasattr(module, "num_experts"):
        return False
    base = module.get_base_layer()
    return not isinstance(base, (torch.nn.Embedding, torch.nn.MultiheadAttention, torch.nn.modules.conv._ConvNd))


@dataclass(frozen=True)
class Dims:
    out_features: Optional[int]
    in_features: Optional[int]
    source: str  # where the dims come from, for the message


def linear_dims(module: Any) -> Dims:
    """(out, in) of a Linear-like LoRA layer's base weight, as the layer computes with it."""
    base = module.get_base_layer()
    weight = getattr(base, "weight", None)
    shape = None
    source = "base weight"
    if weight is not None:
        quant_state = getattr(weight, "quant_state", None)
        if quant_state is not None and getattr(quant_state, "shape", None) is not None:
            shape, source = tuple(quant_state.shape), "base weight (quant_state.shape)"  # 4-bit: packed storage
        elif weight.dim() == 2:
            shape = tuple(weight.shape)
    if shape is not None and len(shape) == 2:
        if getattr(module, "fan_in_fan_out", False):
            return Dims(shape[1], shape[0], source + ", fan_in_fan_out")
        return Dims(shape[0], shape[1], source)
    return Dims(getattr(module, "out_features", None), getattr(module, "in_features", None), "layer's in/out_features")
