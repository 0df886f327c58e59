"""Checks on custom `torch.autograd.Function` subclasses: `backward` returns exactly one
gradient (or None) per `forward` input, each with that input's shape, dtype and device.

Forward records each input's metadata (never the tensor) on `ctx`; backward compares.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass
from typing import Any, Optional

from analyzer.runtime.report import report
from analyzer.runtime.state import STATE

__all__ = ["watch_function_class"]

_CTX_ATTR = "_lora_lint_inputs"
_MARK = "__lora_lint_watched_function__"


@dataclass(frozen=True)
class InputMeta:
    shape: tuple[int, ...]
    dtype: Any
    device: Any


def _metas(args: tuple) -> tuple[Optional[InputMeta], ...]:
    import torch

    return tuple(InputMeta(tuple(a.shape), a.dtype, a.device) if isinstance(a, torch.Tensor) else None for a in args)


def _checking() -> bool:
    return STATE.on and not STATE.is_compiling()


def _plain(cls: type, name: str) -> Any:
    """The function behind the staticmethod `name`, from the nearest class that defines it."""
    raw = inspect.getattr_static(cls, name)
    return getattr(raw, "__func__", raw)


def watch_function_class(cls: type) -> None:
    """Check the gradients `cls.backward` returns against `cls.forward`'s inputs, until
    `disable()`. Works with both styles: `forward(ctx, ...)` and `forward(...)` +
    `setup_context(ctx, inputs, output)`."""
    import torch

    if not (isinstance(cls, type) and issubclass(cls, torch.autograd.Function)):
        raise TypeError(f"watch_function_class takes a torch.autograd.Function subclass, not {cls!r}")
    if cls.__dict__.get(_MARK):
        return
    label = cls.__qualname__.replace(".<locals>", "")
    saved = {name: cls.__dict__[name] for name in ("forward", "backward", "setup_context") if name in cls.__dict__}
    backward = _plain(cls, "backward")
    # forward(...) + setup_context(ctx, ...) style: the class (or a base) overrides torch's default
    uses_setup_context = _plain(cls, "setup_context") is not _plain(torch.autograd.Function, "setup_context")

    if uses_setup_context:
        setup = _plain(cls, "setup_context")

        @functools.wraps(setup)
        def setup_context(ctx, inputs, output):
            if _checking():
                setattr(ctx, _CTX_ATTR, _metas(inputs))
            return setup(ctx, inputs, output)

        cls.setup_context = staticmethod(setup_context)
    else:
        forward = _plain(cls, "forward")

        @functools.wraps(forward)
        def new_forward(ctx, *args):
            if _checking():
                setattr(ctx, _CTX_ATTR, _metas(args))
            return forward(ctx, *args)

        cls.forward = staticmethod(new_forward)

    @functools.wraps(backward)
    def new_backward(ctx, *grads):
        result = backward(ctx, *grads)
        metas = getattr(ctx, _CTX_ATTR, None)
        if metas is not None and _checking():
            _check_grads(label, metas, result)
        return result

    cls.backward = staticmethod(new_backward)
    setattr(cls, _MARK, True)

    def restore() -> None:
        for name in ("forward", "backward", "setup_context", _MARK):
            if name in saved:
                setattr(cls, name, saved[name])
            elif name in cls.__dict__:
                delattr(cls, name)

    STATE.push_undo(restore)


def _check_grads(label: str, metas: tuple[Optional[InputMeta], ...], result: Any) -> None:
    grads = result if isinstance(result, tuple) else (result,)
    n_inputs = len(metas)
    if len(grads) < n_inputs or any(g is not None for g in grads[n_inputs:]):
        report(f"{label}:grad-count", f"{label}.backward returned {len(grads)} gradient(s) for {n_inputs} forward "
                                      f"input(s); it must return one per input (None where there is none)")
        return
    for i, (grad, meta) in enumerate(zip(grads, metas)):
        if grad is None:
            continue
        if meta is None:
            report(f"{label}:grad{i}", f"{label}.backward returned a {type(grad).__name__} for input {i}, "
                                       f"which is not a tensor; it must be None")
            continue
        if not hasattr(grad, "shape"):
            report(f"{label}:grad{i}", f"{label}.backward returned a {type(grad).__name__} for input {i}, "
                                       f"a {_describe(meta)} tensor")
            continue
        if tuple(grad.shape) != meta.shape or grad.dtype != meta.dtype or grad.device != meta.device:
            report(f"{label}:grad{i}", f"{label}.backward gradient {i} is {_describe_tensor(grad)}; input {i} is "
                                       f"{_describe(meta)}")


def _describe(meta: InputMeta) -> str:
    return f"{'x'.join(map(str, meta.shape)) or 'scalar'} {meta.dtype} on {meta.device}"


def _describe_tensor(t: Any) -> str:
    return _describe(InputMeta(tuple(t.shape), t.dtype, t.device))
