"""Cross-rank consistency of LoRA state (opt-in): every rank hashes a small per-layer
fingerprint and one `all_gather` of a 16-byte digest compares them at the same point on every
rank. Only when the digests differ do the ranks exchange the fingerprints themselves, to say
which layer differs and how.
"""

from __future__ import annotations

import hashlib
import itertools
import weakref
from collections import Counter
from dataclasses import dataclass
from typing import Any, Optional

from analyzer.runtime.layers import is_lora_layer
from analyzer.runtime.report import report
from analyzer.runtime.state import STATE

__all__ = ["AdapterPrint", "LayerPrint", "lora_fingerprint", "check_consistency", "ConsistencyHook"]


@dataclass(frozen=True)
class AdapterPrint:
    adapter: str
    scaling: Any
    a_dtype: str
    a_shape: tuple[int, ...]
    b_dtype: str
    b_shape: tuple[int, ...]


@dataclass(frozen=True)
class LayerPrint:
    name: str
    active: tuple[str, ...]
    adapters: tuple[AdapterPrint, ...]
    merged: bool
    disabled: bool


def _scaling_key(value: Any) -> Any:
    # numbers compare by value; a tensor scaling by kind only (reading it would synchronise)
    if isinstance(value, (int, float)):
        return float(value)
    return f"<{type(value).__name__}>"


def lora_fingerprint(model: Any) -> tuple[LayerPrint, ...]:
    """Per LoRA layer: active adapters, scaling, merged, disabled, A/B dtype and shape.
    Metadata only: nothing here reads a tensor's values."""
    out = []
    for name, module in model.named_modules():
        if not is_lora_layer(module):
            continue
        active = tuple(getattr(module, "active_adapters", ()) or ())
        adapters = []
        for adapter in active:
            if adapter in module.lora_A and adapter in module.lora_B:
                a_weight, b_weight = module.lora_A[adapter].weight, module.lora_B[adapter].weight
                adapters.append(AdapterPrint(adapter, _scaling_key(getattr(module, "scaling", {}).get(adapter)),
                                             str(a_weight.dtype), tuple(a_weight.shape),
                                             str(b_weight.dtype), tuple(b_weight.shape)))
        out.append(LayerPrint(name, active, tuple(adapters), bool(getattr(module, "merged", False)),
                              bool(getattr(module, "disable_adapters", False))))
    return tuple(out)


def _digest(fingerprint: tuple[LayerPrint, ...]) -> list[int]:
    raw = hashlib.blake2b(repr(fingerprint).encode(), digest_size=16).digest()
    return [int.from_bytes(raw[:8], "little", signed=True), int.from_bytes(raw[8:], "little", signed=True)]


def _collective_device(dist: Any):
    import torch

    # NCCL gathers only CUDA tensors; the CPU backends (gloo, mpi) only CPU ones
    if "nccl" in str(dist.get_backend()).lower():
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def check_consistency(model: Any, step: Optional[int] = None) -> list[int]:
    """Compare `model`'s LoRA fingerprint across ranks; report and return the ranks outside the
    largest group of equal fingerprints (on a tie, the group holding the lowest rank is taken as
    the reference). Every rank must call this at the same point. A no-op without an initialised
    process group. Reading the gathered digests waits for the collective: this is the one
    synchronisation the tracer makes, and only where asked for."""
    import torch
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return []
    mine = lora_fingerprint(model)
    device = _collective_device(dist)
    local = torch.tensor(_digest(mine), dtype=torch.int64, device=device)
    gathered = [torch.empty_like(local) for _ in range(dist.get_world_size())]
    dist.all_gather(gathered, local)
    digests = [tuple(t.tolist()) for t in gathered]
    if len(set(digests)) == 1:
        return []
    groups = Counter(digests)
    reference = max(groups, key=lambda d: (groups[d], -digests.index(d)))
    ref_ranks = [r for r, d in enumerate(digests) if d == reference]
    differ = [r for r, d in enumerate(digests) if d != reference]
    # every rank saw the same digests, so every rank takes part in this second exchange
    prints: list = [None] * len(digests)
    dist.all_gather_object(prints, mine)
    where = f" at forward {step}" if step is not None else ""
    detail = _first_difference(prints[ref_ranks[0]], prints[differ[0]])
    report("consistency", f"LoRA state differs across ranks{where}: rank(s) {', '.join(map(str, differ))} differ from "
                          f"rank(s) {', '.join(map(str, ref_ranks))} ({detail}, rank {ref_ranks[0]} vs rank {differ[0]})")
    return differ


def _first_difference(a: tuple[LayerPrint, ...], b: tuple[LayerPrint, ...]) -> str:
    if len(a) != len(b):
        return f"{len(a)} LoRA layers vs {len(b)}"
    for la, lb in zip(a, b):
        if la == lb:
            continue
        for field in ("name", "active", "merged", "disabled"):
            if getattr(la, field) != getattr(lb, field):
                return f"layer {la.name}: {field} {getattr(la, field)!r} vs {getattr(lb, field)!r}"
        for pa, pb in zip(la.adapters, lb.adapters):
            for field in ("scaling", "a_dtype", "a_shape", "b_dtype", "b_shape"):
                if getattr(pa, field) != getattr(pb, field):
                    return f"layer {la.name}: {pa.adapter} {field} {getattr(pa, field)!r} vs {getattr(pb, field)!r}"
        return f"layer {la.name}: adapters {la.adapters!r} vs {lb.adapters!r}"
    return "same layers, different digests"


class ConsistencyHook:
    """A forward pre-hook on the model: every `every`-th forward, `check_consistency`."""

    def __init__(self, model: Any, every: int, session: int) -> None:
        self.model = weakref.ref(model)  # the hook lives on the model: no reference cycle
        self.every = max(1, every)
        self.session = session
        self.forwards = itertools.count(1)

    def __call__(self, module: Any, args: tuple) -> None:
        if not STATE.on or STATE.session != self.session or STATE.is_compiling():
            return
        forward = next(self.forwards)
        model = self.model()
        if forward % self.every == 0 and model is not None:
            check_consistency(model, step=forward)
