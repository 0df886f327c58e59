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


def child(module: Any, name: str) -> Any:
    """A registered submodule by name, or None: a dict lookup, where `getattr` on a module goes
    through `nn.Module.__getattr__` (and builds an AttributeError on a miss)."""
    modules = module.__dict__.get("_modules")
    return modules.get(name) if modules is not None else getattr(module, name, None)


def base_weight(module: Any) -> Any:
    """The weight object of the innermost base layer (identity only: a cache key)."""
    base = module
    while True:
        inner = child(base, "base_layer")
        if inner is None:
            break
        base = inner
    params = base.__dict__.get("_parameters")
    return params.get("weight") if params is not None else getattr(base, "weight", None)


class Geometry:
    """Per LoRA layer: whether each adapter is Linear-like and the base's dims, recomputed only
    when the adapter's module or the base weight object is replaced (a new adapter, a
    quantisation, a merge that swaps weights). The forward hooks run on every sampled forward;
    the questions asked here need a dozen module lookups, some of which miss."""

    __slots__ = ("_facts",)

    def __init__(self) -> None:
        self._facts: dict[str, tuple[tuple, bool, Dims]] = {}

    def of(self, module: Any, adapter: str) -> tuple[bool, Dims]:
        lora_a = child(child(module, "lora_A"), adapter)
        weight = base_weight(module)
        # the weight's shape too: `weight.data = ...` can resize a Parameter and keep its identity
        key = (id(lora_a), id(weight), getattr(weight, "shape", None))
        known = self._facts.get(adapter)
        if known is not None and known[0] == key:
            return known[1], known[2]
        like = linear_like(module, adapter)
        dims = linear_dims(module) if like else Dims(None, None, "")
        self._facts[adapter] = (key, like, dims)
        return like, dims
