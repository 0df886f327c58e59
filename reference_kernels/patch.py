"""Swap PEFT LoRA ``Linear`` forwards for the fused path, and back.

The patched forward re-reads the layer on every call, because the state that
decides eligibility changes after patching: ``model.disable_adapter()`` in
DPO's reference pass, ``set_adapter``, merging, ``train()``/``eval()`` for
dropout.  Whenever the kernel would compute something else it calls PEFT's own
forward and counts the fallback with its reason.  A call that takes the fused
path where Triton cannot run (no GPU and no ``TRITON_INTERPRET=1``, or no
Triton) computes the same math in plain torch: it is counted, and reported, as
a torch fallback, never as fused.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from types import MethodType
from typing import Any, Optional

import torch
from torch import nn

from .function import fused_lora_linear, resolve_backend
from .params import STRUCTURAL_REASONS, LoraParameters, get_lora_parameters

_ABSENT = object()


@dataclass
class LayerStats:
    """Live call counters of one patched layer."""

    fused_calls: int = 0  # the fused path ran on the backend asked for (Triton, or torch by request)
    torch_fallback_calls: int = 0  # backend "auto" but Triton cannot run here: the torch implementation ran
    base_only_calls: int = 0  # disabled or merged: PEFT's forward is the base layer's
    fallbacks: Counter = field(default_factory=Counter)  # reason -> count of calls sent to PEFT's forward


@dataclass
class PatchReport:
    """What ``patch_peft_model`` did; ``stats`` keep counting after it returns."""

    patched: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # layer name -> reason
    stats: dict[str, LayerStats] = field(default_factory=dict)

    @property
    def fallback_count(self) -> int:
        return sum(sum(s.fallbacks.values()) for s in self.stats.values())

    @property
    def fused_count(self) -> int:
        return sum(s.fused_calls for s in self.stats.values())

    @property
    def torch_fallback_count(self) -> int:
        return sum(s.torch_fallback_calls for s in self.stats.values())

    def __str__(self) -> str:
        """What ran, in words: `patched 2 layers, skipped 1 (fan_in_fan_out: 1); calls: 0 fused,
        6 torch fallback (Triton cannot run here), 2 PEFT forward (adapters disabled or merged)`."""
        reasons = Counter(self.skipped.values())
        skipped = f"skipped {len(self.skipped)}"
        if reasons:
            skipped += " (" + ", ".join(f"{r}: {n}" for r, n in sorted(reasons.items())) + ")"
        calls = [f"{self.fused_count} fused"]
        if self.torch_fallback_count:
            calls.append(f"{self.torch_fallback_count} torch fallback (Triton cannot run here)")
        base_only = sum(s.base_only_calls for s in self.stats.values())
        if base_only:
            calls.append(f"{base_only} PEFT forward (adapters disabled or merged)")
        fallbacks: Counter = Counter()
        for s in self.stats.values():
            fallbacks.update(s.fallbacks)
        for reason, n in sorted(fallbacks.items()):
            calls.append(f"{n} PEFT fallback ({reason})")
        layers = "layer" if len(self.patched) == 1 else "layers"
        return f"patched {len(self.patched)} {layers}, {skipped}; calls: {', '.join(calls)}"


def _call_reason(module: nn.Module, params: LoraParameters, x: torch.Tensor,
                 extra_args: tuple, extra_kwargs: dict) -> Optional[str]:
    """Why this call must go to PEFT although the layer's state is eligible."""
    if extra_args or extra_kwargs:
        return "extra forward arguments"
    if not isinstance(x, torch.Tensor) or x.dtype != params.weight.dtype:
        return "x dtype differs from the base weight"
    if torch.is_autocast_enabled(x.device.type):
        return "autocast is enabled"
    if x.device != params.weight.device or x.dim() == 0 or x.shape[-1] != params.weight.shape[1]:
        return "x device or shape does not fit the base weight"
    if params.weight.requires_grad or (params.bias is not None and params.bias.requires_grad):
        return "trainable base weight or bias"
    if (params.lora_A.dtype != x.dtype or params.lora_B.dtype != x.dtype) \
            and not getattr(module, "cast_input_dtype_enabled", True):
        return "cast_input_dtype disabled with adapters in another dtype"
    return None


class _FusedForward:
    """The forward installed on one patched layer (an instance attribute)."""

    def __init__(self, module: nn.Module, stats: LayerStats, backend: str) -> None:
        self.module = module
        self.stats = stats
        self.backend = backend
        self.saved = vars(module).get("forward", _ABSENT)

    def peft_forward(self, *args: Any, **kwargs: Any) -> Any:
        if self.saved is not _ABSENT:
            return self.saved(*args, **kwargs)
        return MethodType(type(self.module).forward, self.module)(*args, **kwargs)

    def __call__(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        extra_kwargs = {k: v for k, v in kwargs.items() if k != "adapter_names"}
        params = get_lora_parameters(self.module, adapter_names=kwargs.get("adapter_names"))
        if params.base_only and not (args or extra_kwargs):
            self.stats.base_only_calls += 1
            return self.peft_forward(x, *args, **kwargs)
        reason = params.reason.value if params.reason else _call_reason(self.module, params, x, args, extra_kwargs)
        if reason is not None:
            self.stats.fallbacks[reason] += 1
            return self.peft_forward(x, *args, **kwargs)
        backend = resolve_backend(self.backend, x, params.weight)
        if backend == "torch" and self.backend != "torch":
            self.stats.torch_fallback_calls += 1
        else:
            self.stats.fused_calls += 1
        return fused_lora_linear(x, params, backend=backend)


def _lora_layer_class() -> Optional[type]:
    try:
        from peft.tuners.lora import LoraLayer
    except ImportError:
        return None
    return LoraLayer


def patch_peft_model(model: nn.Module, *, backend: str = "auto") -> PatchReport:
    """Install the fused forward on every PEFT LoRA ``Linear`` that can ever use it.

    Layers that can never be fused (another LoRA layer type, a quantized or
    hooked base layer, ``fan_in_fan_out``) are left alone and listed in
    ``report.skipped`` with the reason.  Patched layers still fall back to
    PEFT's forward call by call; ``report.stats`` counts both outcomes.
    """
    report = PatchReport()
    lora_layer = _lora_layer_class()
    if lora_layer is None:
        return report
    for name, module in model.named_modules():
        if not isinstance(module, lora_layer):
            continue
        if isinstance(vars(module).get("forward"), _FusedForward):
            report.skipped[name] = "already patched"
            continue
        reason = get_lora_parameters(module).reason
        if reason in STRUCTURAL_REASONS:
            report.skipped[name] = reason.value
            continue
        stats = LayerStats()
        module.forward = _FusedForward(module, stats, backend)
        report.patched.append(name)
        report.stats[name] = stats
    return report


def unpatch_peft_model(model: nn.Module) -> list[str]:
    """Restore the forwards ``patch_peft_model`` replaced; returns the layer names."""
    restored = []
    for name, module in model.named_modules():
        fused = vars(module).get("forward")
        if not isinstance(fused, _FusedForward):
            continue
        if fused.saved is _ABSENT:
            del module.forward
        else:
            module.forward = fused.saved
        restored.append(name)
    return restored

