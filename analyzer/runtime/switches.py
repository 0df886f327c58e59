"""The tracer's switches: `enable`, `disable`, nested `checking()` scopes.

Kept apart from `state` so that the state has no dependency on the reporting that `enable`
resets and `disable` flushes.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import replace
from typing import Iterator, Optional

from analyzer.runtime import report
from analyzer.runtime.state import ENV_VAR, LOG_DIR_ENV_VAR, MODES, STATE, Options, require_torch

__all__ = ["enable", "disable", "checking", "Scope"]


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
