"""The tracer's switches: `enable`, `disable`, nested `checking()` scopes.

Kept apart from `state` so that the state has no dependency on the reporting that `enable`
resets and `disable` flushes.
"""

from __future__ import annotations

import atexit
import os
from contextlib import contextmanager
from dataclasses import replace
from typing import Iterable, Iterator, Optional

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
           warmup: int = 8, defaults: bool = True, roots: Optional[Iterable[str]] = None,
           script: Optional[str] = None) -> str:
    """Turn the tracer on and return the mode in force.

    `mode` defaults to $LORA_LINT_RUNTIME (read now, never at import), else "warn"; `log_dir`
    to $LORA_LINT_RUNTIME_LOG_DIR. "off" is the same as `disable()`. From off, this starts a new
    session (earlier reports are forgotten) and wraps what `watch`/`watch_model` were given while
    off; while on, it only changes the options.

    With `defaults` (the default), it also watches every PEFT LoRA layer and the user's own
    return-tuple helpers (see `defaults`): user code is what lies under `roots` (default: the
    working directory and the running script's folder). `script` is a script whose own helpers
    are watched once it defines them (default: the one `python script.py` runs; "" for none).
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
    report.install_excepthook()
    _register_atexit()
    STATE.is_compiling = torch.compiler.is_compiling
    STATE.options = options
    STATE.session += 1
    STATE.counts = {"layers": 0, "helpers": 0}
    STATE.on = True
    with STATE.lock:
        deferred = list(STATE.deferred.values())
    for apply in deferred:
        apply()
    if defaults:
        _start_defaults(roots, script)
    return mode


def _start_defaults(roots: Optional[Iterable[str]], script: Optional[str]) -> None:
    from analyzer.runtime import selection
    from analyzer.runtime.defaults import DefaultWatching

    if script is None:
        script = selection.main_script()
    if roots is None:
        roots = [os.getcwd()] + ([os.path.dirname(script)] if script else [])
    DefaultWatching(selection.Roots(roots), script or None).start()


_atexit_registered = False


def _register_atexit() -> None:
    """A session still on when the interpreter exits (the environment switch, a script that
    never calls disable()) is closed then, so that warn mode's summary is printed."""
    global _atexit_registered
    if not _atexit_registered:
        _atexit_registered = True
        atexit.register(_at_exit)


def _at_exit() -> None:
    if STATE.on:
        disable()


def disable(*, forget: bool = False) -> None:
    """Turn the tracer off and undo every patch and hook, newest first. Violations get their
    totals (warn: one summary warning for the run; log: one summary line per repeated site).
    Also run at exit for a session still on. `forget=True` also drops what `watch`/`watch_model`
    were given while off."""
    if STATE.on:
        if STATE.announce_pending:
            STATE.announce()
        report.flush_totals()
    STATE.announce_pending = False
    STATE.on = False
    STATE.options = replace(STATE.options, mode="off")
    STATE.undo_to(0)
    if forget:
        with STATE.lock:
            STATE.deferred.clear()


@contextmanager
def checking(mode: str = "raise", **options) -> Iterator[None]:
    """`with checking("raise"): ...` runs the block with the tracer on, watching what the block
    asks for (pass `defaults=True` for the default watching as well).

    On exit, what the block wrapped or hooked is undone and the previous mode comes back; an
    enclosing session keeps its own wraps and hooks.
    """
    options.setdefault("defaults", False)
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
