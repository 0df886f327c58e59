"""The runtime tracer: switches, reporting, and the checks on watched functions, PEFT LoRA layers
and custom autograd Functions.

Checks read metadata only (`len`, `isinstance`, `.shape`, `.dtype`, `.device`), never tensor
values, so they never synchronise a GPU; they keep no reference to any tensor; they are skipped
while `torch.compile` traces. Nothing is wrapped or hooked while the tracer is off.
"""

from __future__ import annotations

import functools
import importlib
import json
import math
import os
import sys
import threading
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional

__all__ = ["RuntimeViolation", "enable", "disable", "checking", "watch", "watch_model", "watch_module",
           "watch_function_class", "check_consistency", "lora_fingerprint", "current_mode", "reports", "MODES"]

MODES = ("off", "log", "warn", "raise")
ENV_VAR = "LORA_LINT_RUNTIME"


class RuntimeViolation(RuntimeError):
    """Raised in `raise` mode when a watched call returns something its contract forbids."""


@dataclass
class _Site:
    """Per watched function: call counter and the arity seen first (when no static contract)."""

    name: str
    calls: int = 0
    first_arity: Optional[int] = None
    first_calls: int = 0


@dataclass
class _State:
    mode: str = "off"
    log_dir: Optional[str] = None
    sample_every: int = 1
    warmup: int = 8
    lock: threading.Lock = field(default_factory=threading.Lock)
    counts: dict = field(default_factory=dict)  # report key -> occurrences
    reports: list = field(default_factory=list)  # dicts, for tests and `log` mode
    restore: list = field(default_factory=list)  # callables that undo a wrap or a hook
    pending: list = field(default_factory=list)  # @watch'ed while off: (module, name, func, expect)
    rank: str = ""


_STATE = _State()


# ------------------------------------------------------------------------------------ switches

def current_mode() -> str:
    return _STATE.mode


def reports() -> list[dict]:
    """Reports so far (each: site, message, count, rank)."""
    with _STATE.lock:
        return list(_STATE.reports)


def enable(mode: Optional[str] = None, *, log_dir: Optional[str] = None, sample_every: int = 1,
           warmup: int = 8) -> str:
    """Turn the tracer on. `mode` defaults to $LORA_LINT_RUNTIME (read now, never at import), else
    "warn". Functions decorated with `@watch` while the tracer was off are wrapped now."""
    if mode is None:
        mode = os.environ.get(ENV_VAR, "warn") or "warn"
    mode = mode.strip().lower()
    if mode not in MODES:
        raise ValueError(f"lora-lint runtime mode must be one of {', '.join(MODES)}, not {mode!r}")
    if mode == "off":
        disable()
        return mode
    _require_torch()
    with _STATE.lock:  # a new session: earlier reports and counts are forgotten
        _STATE.counts.clear()
        _STATE.reports.clear()
    _STATE.mode = mode
    _STATE.log_dir = log_dir
    _STATE.sample_every = max(1, int(sample_every))
    _STATE.warmup = max(0, int(warmup))
    _STATE.rank = _rank_prefix()
    pending, _STATE.pending = _STATE.pending, []
    for module, name, func, expect in pending:
        wrapped = _wrap_function(func, expect)
        if getattr(module, name, None) is func:
            setattr(module, name, wrapped)
            _STATE.restore.append(functools.partial(setattr, module, name, func))
    return mode


def disable() -> None:
    """Turn the tracer off and undo every wrap and hook, in reverse order."""
    if _STATE.mode == "log" and _STATE.log_dir:
        for r in reports():
            if r["count"] > 1:
                _log_line(dict(r, summary=True))
    _STATE.mode = "off"
    while _STATE.restore:
        undo = _STATE.restore.pop()
        try:
            undo()
        except Exception:  # a hook already removed with its module: nothing left to undo
            pass


@contextmanager
def checking(mode: str = "raise", **kwargs) -> Iterator[None]:
    """`with checking("raise"): ...` runs the block with the tracer on, then restores everything."""
    previous = _STATE.mode
    enable(mode, **kwargs)
    try:
        yield
    finally:
        disable()
        if previous != "off":
            _STATE.mode = previous


def _require_torch():
    try:
        import torch  # noqa: F401
    except ImportError as exc:  # the static linter works without torch; the tracer cannot
        raise ImportError("lora-lint's runtime tracer needs PyTorch: pip install 'lora-lint[runtime]'") from exc
    return torch


def _rank_prefix() -> str:
    try:
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            return f"[rank {dist.get_rank()}/{dist.get_world_size()}] "
    except Exception:
        pass
    rank, world = os.environ.get("RANK"), os.environ.get("WORLD_SIZE")
    if rank is not None and world is not None:
        return f"[rank {rank}/{world}] "
    return ""


def _compiling() -> bool:
    import torch

    compiler = getattr(torch, "compiler", None)
    return bool(compiler is not None and getattr(compiler, "is_compiling", lambda: False)())


def _report(key: str, message: str) -> None:
    """One violation: raised, warned (once per site, with a count), or logged."""
    if not _STATE.rank:
        _STATE.rank = _rank_prefix()
    text = f"{_STATE.rank}{message}"
    with _STATE.lock:
        count = _STATE.counts.get(key, 0) + 1
        _STATE.counts[key] = count
        record = {"site": key, "message": text, "count": count, "rank": _STATE.rank.strip()}
        if count == 1:
            _STATE.reports.append(record)
        else:
            for r in _STATE.reports:
                if r["site"] == key:
                    r["count"] = count
    mode = _STATE.mode
    if mode == "raise":
        raise RuntimeViolation(text)
    if mode == "warn" and count == 1:
        warnings.warn(f"lora-lint: {text} (further occurrences at this site are counted, not shown)",
                      RuntimeWarning, stacklevel=3)
    if mode == "log" and _STATE.log_dir and count == 1:
        _log_line(record)


def _log_line(record: dict) -> None:
    """`log` mode: one JSONL file per rank; a site's first report, then its total at disable()."""
    os.makedirs(_STATE.log_dir, exist_ok=True)
    rank = os.environ.get("RANK", "0")
    with open(os.path.join(_STATE.log_dir, f"lora-lint-rank{rank}.jsonl"), "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")


# ---------------------------------------------------------------------------- watched functions

@dataclass(frozen=True)
class Expect:
    """An explicit contract: tuple arity, and slots that must never be None."""

    arity: Optional[int] = None
    not_none: tuple[int, ...] = ()


def watch(target: Any = None, *, expect: Optional[Expect] = None):
    """Watch a function's returns. Use as `@watch`, `@watch(expect=Expect(arity=6))`, or
    `watch("pkg.mod:func")` (wraps the module attribute now)."""
    if isinstance(target, str):
        module_name, _, attr = target.partition(":")
        module = importlib.import_module(module_name)
        owner, name = module, attr
        if "." in attr:
            cls_name, name = attr.rsplit(".", 1)
            owner = getattr(module, cls_name)
        func = getattr(owner, name)
        wrapped = _wrap_function(func, expect)
        setattr(owner, name, wrapped)
        _STATE.restore.append(functools.partial(setattr, owner, name, func))
        return wrapped
    if target is None:
        return functools.partial(watch, expect=expect)
    func = target
    if _STATE.mode == "off":
        # nothing is wrapped while off; `enable()` wraps the module attribute later
        module = sys.modules.get(getattr(func, "__module__", ""), None)
        if module is not None:
            _STATE.pending.append((module, func.__name__, func, expect))
        return func
    return _wrap_function(func, expect)


def watch_module(module_name: str) -> int:
    """Watch every function defined in a module (its own, not those it imports)."""
    import inspect

    module = importlib.import_module(module_name)
    count = 0
    for name, obj in list(vars(module).items()):
        if inspect.isfunction(obj) and obj.__module__ == module.__name__:
            wrapped = _wrap_function(obj, None)
            setattr(module, name, wrapped)
            _STATE.restore.append(functools.partial(setattr, module, name, obj))
            count += 1
    return count


def _wrap_function(func: Callable, expect: Optional[Expect]) -> Callable:
    site = _Site(getattr(func, "__qualname__", getattr(func, "__name__", "function")))
    contract = _static_contract(func)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        out = func(*args, **kwargs)
        if _STATE.mode != "off":
            with _STATE.lock:
                site.calls += 1
                call = site.calls
            _check_return(site, call, out, contract, expect)
        return out

    wrapper.__lora_lint_watched__ = func
    return wrapper


@dataclass(frozen=True)
class _Contract:
    arities: frozenset
    lines_by_arity: dict


def _static_contract(func: Callable) -> Optional[_Contract]:
    """The arities of the function's return statements, from the static pass (source needed)."""
    try:
        from analyzer.api import contract_for

        c = contract_for(func)
    except Exception:
        return None
    if c is None or not c.returns or c.falls_off_end:
        return None
    if any(r.arity is None or r.starred for r in c.returns):
        return None  # some return is not a known tuple: learn from the first calls instead
    by: dict[int, list[int]] = {}
    for r in c.returns:
        by.setdefault(r.arity, []).append(r.line)
    if len(by) > 1:
        # the returns disagree (LL101): expect the arity most returns produce, and on a tie the
        # larger one ("added `bias` to one return and forgot the other")
        expected = max(by, key=lambda a: (len(by[a]), a))
        by = {expected: by[expected]}
    return _Contract(frozenset(by), by)


def _lines(lines: list[int]) -> str:
    return f"line {lines[0]}" if len(lines) == 1 else "lines " + ", ".join(map(str, lines[:-1])) + f" and {lines[-1]}"


def _check_return(site: _Site, call: int, out: Any, contract: Optional[_Contract], expect: Optional[Expect]) -> None:
    n = len(out) if isinstance(out, tuple) else None
    got = f"{n} values" if n is not None else f"a {type(out).__name__}"
    if expect is not None and expect.arity is not None:
        if n != expect.arity:
            _report(f"{site.name}:arity", f"{site.name} returned {got} on call {call}; expected {expect.arity}")
            return
    elif contract is not None:
        if n is None or n not in contract.arities:
            ok = sorted(contract.arities)
            lines = sorted(line for a in ok for line in contract.lines_by_arity[a])
            want = " or ".join(map(str, ok))
            _report(f"{site.name}:arity", f"{site.name} returned {got} on call {call}; its returns at "
                                          f"{_lines(lines)} produce {want}")
            return
    else:
        with _STATE.lock:
            if site.first_calls == 0:
                site.first_arity, site.first_calls = n, 1
                return
            site.first_calls += 1
            first = site.first_arity
        if n != first:
            was = f"{first} values" if first is not None else "a non-tuple"
            _report(f"{site.name}:arity", f"{site.name} returned {got} on call {call}; earlier calls returned {was}")
            return
    if expect is not None and n is not None:
        for slot in expect.not_none:
            if slot < n and out[slot] is None:
                _report(f"{site.name}:none{slot}", f"{site.name} returned None in slot {slot} on call {call}")


# ----------------------------------------------------------------------------- PEFT LoRA layers

def _is_lora_layer(module) -> bool:
    return hasattr(module, "lora_A") and hasattr(module, "lora_B") and hasattr(module, "get_base_layer")


def watch_model(model, *, check_consistency_every: int = 0) -> int:
    """Hook every PEFT LoRA layer of `model`; returns how many were hooked.

    With `check_consistency_every=N` (opt-in, under torch.distributed), every N-th forward of
    `model` compares a small per-layer fingerprint across ranks with one collective, at the same
    point on every rank, and reports the ranks that differ."""
    if _STATE.mode == "off":
        raise RuntimeError("enable the lora-lint runtime (enable() or checking()) before watch_model()")
    if check_consistency_every:
        every = int(check_consistency_every)
        forwards = [0]

        def consistency_hook(mod, inputs):
            forwards[0] += 1
            if forwards[0] % every == 0 and _STATE.mode != "off" and not _compiling():
                check_consistency(model, step=forwards[0])

        handle = model.register_forward_pre_hook(consistency_hook)
        _STATE.restore.append(handle.remove)
    count = 0
    for name, module in model.named_modules():
        if not _is_lora_layer(module):
            continue
        counter = [0]
        # parameters are checked before the forward (a bad shape would fail inside it), the
        # output after
        pre = module.register_forward_pre_hook(functools.partial(_check_lora_state, name, counter))
        post = module.register_forward_hook(functools.partial(_check_lora_output, name, counter))
        _STATE.restore.append(pre.remove)
        _STATE.restore.append(post.remove)
        count += 1
    return count


def lora_fingerprint(model) -> list[tuple]:
    """Per LoRA layer: name, active adapters, scaling, merged, disabled, A/B dtype and shape.
    Metadata only: nothing here reads a tensor's values."""
    out = []
    for name, module in model.named_modules():
        if not _is_lora_layer(module):
            continue
        active = tuple(getattr(module, "active_adapters", ()) or ())
        adapters = []
        for a in active:
            if a in module.lora_A:
                A, B = module.lora_A[a].weight, module.lora_B[a].weight
                adapters.append((a, module.scaling.get(a), str(A.dtype), tuple(A.shape), str(B.dtype), tuple(B.shape)))
        out.append((name, active, tuple(adapters), bool(getattr(module, "merged", False)),
                    bool(getattr(module, "disable_adapters", False))))
    return out


def check_consistency(model, step: int = 0) -> list[int]:
    """Compare `lora_fingerprint(model)` across ranks (one all_gather); report and return the
    ranks whose fingerprint differs from rank 0's. A no-op without torch.distributed."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return []
    mine = lora_fingerprint(model)
    gathered: list = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, mine)
    differ = [r for r, fp in enumerate(gathered) if fp != gathered[0]]
    if differ:
        detail = _first_difference(gathered[0], gathered[differ[0]])
        _report(f"consistency:{step}", f"LoRA state differs across ranks at forward {step}: rank(s) "
                                       f"{', '.join(map(str, differ))} differ from rank 0 ({detail})")
    return differ


def _first_difference(a: list, b: list) -> str:
    for la, lb in zip(a, b):
        if la != lb:
            return f"layer {la[0]}: {la[1:]} vs {lb[1:]}"
    return "different number of LoRA layers"


def _logical_weight_shape(base) -> Optional[tuple]:
    weight = getattr(base, "weight", None)
    if weight is None:
        return None
    qs = getattr(weight, "quant_state", None)
    if qs is not None and getattr(qs, "shape", None) is not None:
        return tuple(qs.shape)  # 4-bit: `weight.shape` is the packed storage
    return tuple(weight.shape)


def _layer_dims(module) -> tuple:
    base = module.get_base_layer()
    shape = _logical_weight_shape(base)
    out_f = getattr(base, "out_features", None)
    in_f = getattr(base, "in_features", None)
    if shape is not None and len(shape) == 2:
        out_f, in_f = (shape[1], shape[0]) if getattr(module, "fan_in_fan_out", False) else shape
    return out_f, in_f


def _sampled(counter: list) -> bool:
    calls = counter[0]
    return calls <= _STATE.warmup or (calls - _STATE.warmup) % _STATE.sample_every == 0


def _check_lora_state(name: str, counter: list, module, inputs) -> None:
    if _STATE.mode == "off" or _compiling():
        return
    counter[0] += 1
    calls = counter[0]
    if not _sampled(counter):
        return
    out_f, in_f = _layer_dims(module)
    active = list(getattr(module, "active_adapters", []) or [])
    if not getattr(module, "disable_adapters", False) and not getattr(module, "merged", False):
        for adapter in active:
            if adapter not in module.lora_A:
                if adapter in getattr(module, "lora_embedding_A", {}):
                    continue
                _report(f"{name}:missing:{adapter}", f"{name}: active adapter {adapter!r} is not in lora_A "
                                                     f"(has {sorted(module.lora_A.keys())}) on call {calls}")
                continue
            A = module.lora_A[adapter].weight
            B = module.lora_B[adapter].weight
            if A.dtype != B.dtype:
                _report(f"{name}:dtype:{adapter}", f"{name}: lora_A[{adapter!r}] is {A.dtype} but lora_B is {B.dtype}")
            if A.dim() == 2 and B.dim() == 2:
                r = A.shape[0]
                if in_f is not None and out_f is not None and (tuple(A.shape) != (r, in_f) or tuple(B.shape) != (out_f, r)):
                    _report(f"{name}:shape:{adapter}", f"{name}: lora_A[{adapter!r}] is {tuple(A.shape)} and lora_B "
                                                       f"{tuple(B.shape)}, but the base weight is {out_f}x{in_f} "
                                                       f"(expected A {r}x{in_f}, B {out_f}x{r})")
            scaling = getattr(module, "scaling", {}).get(adapter)
            if not isinstance(scaling, (int, float)) or not math.isfinite(scaling):
                _report(f"{name}:scaling:{adapter}", f"{name}: scaling[{adapter!r}] is {scaling!r}, not a finite number")


def _check_lora_output(name: str, counter: list, module, inputs, output) -> None:
    if _STATE.mode == "off" or _compiling() or not _sampled(counter):
        return
    out_f, _ = _layer_dims(module)
    x = inputs[0] if inputs else None
    if x is None or not hasattr(x, "shape") or not hasattr(output, "shape"):
        return
    if tuple(output.shape[:-1]) != tuple(x.shape[:-1]) or (out_f is not None and output.shape[-1] != out_f):
        _report(f"{name}:output", f"{name}: output shape {tuple(output.shape)} for input {tuple(x.shape)}; "
                                  f"expected {tuple(x.shape[:-1]) + (out_f,)}")
    if output.device != x.device:
        _report(f"{name}:device", f"{name}: output on {output.device} for input on {x.device}")
    import torch

    if not torch.is_autocast_enabled() and output.dtype != x.dtype:
        _report(f"{name}:dtype", f"{name}: output is {output.dtype} for a {x.dtype} input")


# -------------------------------------------------------------------- custom autograd Functions

@dataclass(frozen=True)
class _Meta:
    shape: tuple
    dtype: Any
    device: Any


def watch_function_class(cls) -> None:
    """Check a `torch.autograd.Function` subclass: `backward` returns one gradient (or None) per
    `forward` input, each with that input's shape, dtype and device."""
    import torch

    forward = cls.__dict__["forward"]
    backward = cls.__dict__["backward"]
    fwd, bwd = forward.__func__, backward.__func__
    setup_style = "setup_context" in cls.__dict__
    label = cls.__qualname__

    def meta_of(args):
        return tuple(_Meta(tuple(a.shape), a.dtype, a.device) if isinstance(a, torch.Tensor) else None for a in args)

    if setup_style:
        original_setup = cls.__dict__["setup_context"]
        setup_fn = original_setup.__func__

        def setup_context(ctx, inputs, output):
            ctx._lora_lint_inputs = meta_of(inputs)
            return setup_fn(ctx, inputs, output)

        cls.setup_context = staticmethod(setup_context)
        _STATE.restore.append(functools.partial(setattr, cls, "setup_context", original_setup))

        def new_forward(*args, **kwargs):
            return fwd(*args, **kwargs)
    else:
        def new_forward(ctx, *args, **kwargs):
            ctx._lora_lint_inputs = meta_of(args)
            return fwd(ctx, *args, **kwargs)

    def new_backward(ctx, *grads):
        result = bwd(ctx, *grads)
        metas = getattr(ctx, "_lora_lint_inputs", None)
        if _STATE.mode != "off" and metas is not None:
            _check_grads(label, metas, result)
        return result

    cls.forward = staticmethod(functools.wraps(fwd)(new_forward))
    cls.backward = staticmethod(functools.wraps(bwd)(new_backward))
    _STATE.restore.append(functools.partial(setattr, cls, "forward", forward))
    _STATE.restore.append(functools.partial(setattr, cls, "backward", backward))


def _check_grads(label: str, metas: tuple, result: Any) -> None:
    grads = result if isinstance(result, tuple) else (result,)
    n_in = len(metas)
    extra = grads[n_in:]
    if len(grads) < n_in or any(g is not None for g in extra):
        _report(f"{label}:count", f"{label}.backward returned {len(grads)} gradients for {n_in} forward inputs")
        return
    for i, (g, m) in enumerate(zip(grads, metas)):
        if g is None or m is None:
            continue
        if tuple(g.shape) != m.shape or g.dtype != m.dtype or g.device != m.device:
            _report(f"{label}:grad{i}", f"{label}.backward gradient {i} is {tuple(g.shape)} {g.dtype} on {g.device}; "
                                        f"input {i} is {m.shape} {m.dtype} on {m.device}")
