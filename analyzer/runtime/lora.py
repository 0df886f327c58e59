"""Checks on every PEFT LoRA layer of a model, by forward hooks.

Before each (sampled) forward: the active adapters exist in `lora_A` and `lora_B`, A and B share
a dtype, A is r x in and B is out x r where the base weight is out x in (the logical shape from
`quant_state.shape` for 4-bit weights), and scaling is a finite number. After it: the output has
the input's leading dims, the layer's out-features, the input's dtype (outside autocast) and
device. Metadata only: no tensor value is read, so no GPU synchronisation.
"""

from __future__ import annotations

import itertools
import math
import weakref
from typing import Any, Optional

from analyzer.runtime.consistency import ConsistencyHook
from analyzer.runtime.layers import Dims, Geometry, child, is_lora_layer, linear_dims
from analyzer.runtime.report import report
from analyzer.runtime.state import STATE

__all__ = ["watch_model", "is_lora_layer", "linear_dims"]

__tracebackhide__ = True


class _LayerWatch:
    """The hooks of one LoRA layer. Holds the layer's name and counters, never a tensor."""

    __slots__ = ("name", "session", "state_calls", "output_calls", "geometry")

    def __init__(self, name: str, session: int) -> None:
        self.name = name
        self.session = session
        self.state_calls = itertools.count(1)
        self.output_calls = itertools.count(1)
        self.geometry = Geometry()

    def _active(self) -> bool:
        return STATE.on and STATE.session == self.session and not STATE.is_compiling()

    def before(self, module: Any, args: tuple) -> None:
        if STATE.announce_pending:
            STATE.announce()
        if self._active():
            call = next(self.state_calls)
            if _sampled(call):
                check_layer_state(self.name, module, call, self.geometry)

    def after(self, module: Any, args: tuple, output: Any) -> None:
        if self._active():
            call = next(self.output_calls)
            if _sampled(call) and args:
                check_layer_output(self.name, module, args[0], output, call, self.geometry)


def _sampled(call: int) -> bool:
    options = STATE.options
    return call <= options.warmup or (call - options.warmup) % options.sample_every == 0


def check_layer_state(name: str, module: Any, call: int, geometry: Optional[Geometry] = None) -> None:
    """Before a forward: the active adapters exist, A and B share a dtype, their shapes fit the
    base weight (Linear-like layers), scaling is a finite number."""
    if getattr(module, "disable_adapters", False) or getattr(module, "merged", False):
        return  # the forward uses the base layer alone; the adapters are not read
    geometry = geometry or Geometry()
    lora_a, lora_b = child(module, "lora_A"), child(module, "lora_B")
    embedding = child(module, "lora_embedding_A")
    for adapter in list(getattr(module, "active_adapters", ()) or ()):
        if embedding is not None and adapter in embedding:
            continue  # an Embedding layer keeps its adapters there
        missing = [d for d, holder in (("lora_A", lora_a), ("lora_B", lora_b)) if holder is None or adapter not in holder]
        if missing:
            have = sorted(lora_a.keys()) if lora_a is not None else []
            report(f"{name}:missing:{adapter}", f"{name}: active adapter {adapter!r} is not in {' or '.join(missing)} "
                                                f"on forward {call} (lora_A has {have})")
            continue
        a_weight = lora_a[adapter].weight
        b_weight = lora_b[adapter].weight
        if a_weight.dtype != b_weight.dtype:
            report(f"{name}:ab-dtype:{adapter}", f"{name}: lora_A[{adapter!r}] is {a_weight.dtype} but lora_B[{adapter!r}] "
                                                 f"is {b_weight.dtype} on forward {call}")
        like, dims = geometry.of(module, adapter)
        if like:
            _check_linear_shapes(name, dims, adapter, a_weight.shape, b_weight.shape, call)
        scaling = getattr(module, "scaling", {}).get(adapter)
        if not _finite_number(scaling):
            report(f"{name}:scaling:{adapter}", f"{name}: scaling[{adapter!r}] is {scaling!r} on forward {call}, "
                                                f"not a finite number")


def _finite_number(value: Any) -> bool:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return math.isfinite(value)
    import torch

    # a tensor scaling: reading its value would synchronise a GPU, so only its kind is checked
    return isinstance(value, torch.Tensor) and value.dim() == 0 and value.is_floating_point()


def _check_linear_shapes(name: str, dims: Dims, adapter: str, a_shape: Any, b_shape: Any, call: int) -> None:
    if dims.out_features is None or dims.in_features is None or len(a_shape) != 2 or len(b_shape) != 2:
        return
    rank = a_shape[0]
    want_a, want_b = (rank, dims.in_features), (dims.out_features, rank)
    if tuple(a_shape) != want_a or tuple(b_shape) != want_b:
        report(f"{name}:shape:{adapter}",
               f"{name}: lora_A[{adapter!r}] is {_dims(a_shape)} and lora_B[{adapter!r}] {_dims(b_shape)} on forward "
               f"{call}, but the {dims.source} is {dims.out_features}x{dims.in_features} "
               f"(expected A {_dims(want_a)}, B {_dims(want_b)})")


def _dims(shape: Any) -> str:
    return "x".join(map(str, tuple(shape)))


def check_layer_output(name: str, module: Any, x: Any, output: Any, call: int,
                       geometry: Optional[Geometry] = None) -> None:
    """After a forward: the output has the input's leading dims and the layer's out-features,
    the input's device, and its dtype outside autocast."""
    import torch

    if not isinstance(x, torch.Tensor) or not isinstance(output, torch.Tensor) or not x.is_floating_point():
        return
    adapters = list(getattr(module, "active_adapters", ()) or ())
    lora_a = child(module, "lora_A")
    if not adapters or lora_a is None or adapters[0] not in lora_a:
        return
    like, dims = (geometry or Geometry()).of(module, adapters[0])
    if not like:
        return
    out_features = dims.out_features
    want = tuple(x.shape[:-1]) + (out_features,)
    if out_features is not None and tuple(output.shape) != want:
        report(f"{name}:output-shape", f"{name}: output is {_dims(output.shape)} for a {_dims(x.shape)} input on forward "
                                       f"{call}; expected {_dims(want)}")
    if output.device != x.device:
        report(f"{name}:output-device", f"{name}: output on {output.device} for an input on {x.device} on forward {call}")
    if output.dtype != x.dtype and not _autocast(x.device.type):
        report(f"{name}:output-dtype", f"{name}: output is {output.dtype} for a {x.dtype} input on forward {call} "
                                       f"(no autocast)")


def _autocast(device_type: str) -> bool:
    import torch

    try:
        return bool(torch.is_autocast_enabled(device_type))
    except TypeError:  # torch < 2.4 takes no device type
        return bool(torch.is_autocast_enabled())


# the LoRA layers hooked in this session, so that the default watching (which sees every PEFT
# injection) and an explicit watch_model() of the same model hook each layer once
_hooked: "weakref.WeakKeyDictionary[Any, int]" = weakref.WeakKeyDictionary()


def _hook_model(model: Any, check_consistency_every: int) -> int:
    session = STATE.session
    if check_consistency_every:
        handle = model.register_forward_pre_hook(ConsistencyHook(model, int(check_consistency_every), session))
        STATE.push_undo(handle.remove)
    count = 0
    for name, module in model.named_modules():
        if not is_lora_layer(module):
            continue
        count += 1
        if _hooked.get(module) == session:
            continue
        watcher = _LayerWatch(name, session)
        # the layer's parameters are checked before its forward, which a bad shape would break
        # with a less telling error; the output after it
        before = module.register_forward_pre_hook(watcher.before)
        after = module.register_forward_hook(watcher.after)
        _hooked[module] = session
        STATE.count("layers", 1)
        STATE.push_undo(before.remove)
        STATE.push_undo(after.remove)
        STATE.push_undo(lambda module=module: (_hooked.pop(module, None), STATE.count("layers", -1)))
    return count


def watch_model(model: Any, *, check_consistency_every: int = 0) -> int:
    """Hook every PEFT LoRA layer of `model`; returns how many LoRA layers it has.

    While the tracer is off nothing is hooked: the model is remembered (weakly) and hooked at
    each `enable()`. With `check_consistency_every=N` (opt-in, under torch.distributed), every
    N-th forward of `model` compares a small per-layer fingerprint across ranks with one
    collective, at the same point on every rank; every rank must run the same forwards.
    """
    if STATE.on:
        return _hook_model(model, check_consistency_every)
    ref = weakref.ref(model)

    def apply() -> None:
        live = ref()
        if live is not None:
            _hook_model(live, check_consistency_every)

    with STATE.lock:
        STATE.deferred[("model", id(model))] = apply
    return sum(1 for _, m in model.named_modules() if is_lora_layer(m))
