"""The tracer's switches: modes, enable/disable, nested `checking()` scopes, and the undo stack.

One `Tracer` object holds the process-wide state. It is created empty at import; the
environment is read and torch imported only when the tracer is enabled.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Callable, Iterator, Optional

__all__ = ["MODES", "ENV_VAR", "LOG_DIR_ENV_VAR", "Options", "STATE", "enable", "disable", "checking",
           "current_mode", "require_torch"]

MODES = ("off", "log", "warn", "raise")
ENV_VAR = "LORA_LINT_RUNTIME"
LOG_DIR_ENV_VAR = "LORA_LINT_RUNTIME_LOG_DIR"
TORCH_MISSING = "lora-lint's runtime tracer needs PyTorch: pip install 'lora-lint[runtime]'"


@dataclass(frozen=True)
class Options:
    """How the tracer runs while it is on.

    sample_every/warmup: the heavier LoRA-layer checks run on each layer's first `warmup`
    forwards, then on every `sample_every`-th one.
    """

    mode: str = "off"
    log_dir: Optional[str] = None
    sample_every: int = 1
    warmup: int = 8


def _never() -> bool:
    return False


class Tracer:
    """Process-wide state. `on` is a plain bool so that the hot path reads one attribute."""

    def __init__(self) -> None:
        self.options = Options()
        self.on = False
        self.lock = threading.RLock()
        # callables that undo a wrap or a hook, run in reverse order by disable()
        self.undo: list[Callable[[], None]] = []
        # things asked for while off (decorated functions, models): applied at each enable()
        # keyed so that asking twice registers once
        self.deferred: dict[tuple, Callable[[], None]] = {}
        # replaced by torch.compiler.is_compiling when enabled: checks are skipped while tracing
        self.is_compiling: Callable[[], bool] = _never
        self.session = 0  # bumped by each enable() from off; hooks of older sessions stay quiet

    def push_undo(self, undo: Callable[[], None]) -> None:
        with self.lock:
            self.undo.append(undo)

    def undo_to(self, depth: int) -> None:
        while True:
            with self.lock:
                if len(self.undo) <= depth:
                    return
                undo = self.undo.pop()
            try:
                undo()
            except Exception:  # a hook whose module is gone: nothing is left to undo
                pass


STATE = Tracer()


def current_mode() -> str:
    return STATE.options.mode


def require_torch():
    try:
        import torch
    except ImportError as exc:  # the static linter works without torch; the tracer cannot
        raise ImportError(TORCH_MISSING) from exc
    return torch


def _resolve_mode(mode: Optional[str]) -> str:
    if mode is None:
        mode = os.environ.get(ENV_VAR) or "warn"
    mode = str(mode).strip().lower()
    if mode not in MODES:
        raise ValueError(f"lora-lint runtime mode must be one of {', '.join(MODES)}, not {mode!r}")
    return mode


def enable(mode: Optional[str] = None, *, log_dir: Optional[str] = None, sample_every: int = 1,
           warmup: int = 8) -> str:
    """Turn the tracer on and return the mode in force.

    `mode` defaults to $LORA_LINT_RUNTIME (read now, never at import), else "warn"; `log_dir`
    to $LORA_LINT_RUNTIME_LOG_DIR. "off" is the same as `disable()`. From off, this starts a new
    session (earlier reports are forgotten) and wraps what `watch`/`watch_model` were given while
    off; while on, it only changes the options.
    """
    mode = _resolve_mode(mode)
    if mode == "off":
        disable()
        return mode
    torch = require_torch()
    if log_dir is None:
        log_dir = os.environ.get(LOG_DIR_ENV_VAR) or None
    options = Options(mode=mode, log_dir=log_dir, sample_every=max(1, int(sample_every)), warmup=max(0, int(warmup)))
    if STATE.on:
        STATE.options = options
        return mode
    from analyzer.runtime import report

    report.new_session()
    STATE.is_compiling = torch.compiler.is_compiling
    STATE.options = options
    STATE.session += 1
    STATE.on = True
    with STATE.lock:
        deferred = list(STATE.deferred.values())
    for apply in deferred:
        apply()
    return mode


def disable(*, forget: bool = False) -> None:
    """Turn the tracer off and undo every wrap and hook, newest first. Repeated violations get
    their totals (warn: one summary warning per site; log: one summary line per site).
    `forget=True` also drops what `watch`/`watch_model` were given while off."""
    if STATE.on:
        from analyzer.runtime import report

        report.flush_totals()
    STATE.on = False
    STATE.options = replace(STATE.options, mode="off")
    STATE.undo_to(0)
    if forget:
        with STATE.lock:
            STATE.deferred.clear()


@contextmanager
def checking(mode: str = "raise", **options) -> Iterator[None]:
    """`with checking("raise"): ...` runs the block with the tracer on.

    On exit, what the block wrapped or hooked is undone and the previous mode comes back; an
    enclosing session keeps its own wraps and hooks.
    """
    scope = Scope()
    scope.enter(mode, **options)
    try:
        yield
    finally:
        scope.exit()


class Scope:
    """A stretch of time with the tracer on, restoring what came before: used by `checking()`,
    the transformers callback and the pytest plugin."""

    def __init__(self) -> None:
        self._previous: Optional[Options] = None
        self._depth = 0

    def enter(self, mode: Optional[str] = None, **options) -> str:
        self._previous = STATE.options if STATE.on else None
        self._depth = len(STATE.undo)
        mode = _resolve_mode(mode)
        if mode == "off" and STATE.on:
            STATE.on = False  # a quiet stretch inside a session: its wraps stay, checks pause
            return mode
        return enable(mode, **options)

    def exit(self) -> None:
        if self._previous is None:
            disable()
            return
        STATE.undo_to(self._depth)
        STATE.options = self._previous
        STATE.on = True
