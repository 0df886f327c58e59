"""The tracer's process-wide state: modes, options and the undo stack. The switches that change
it (`enable`, `disable`, `checking`) live in `switches`, which also talks to `report`; this
module imports nothing of the package, so every other module can read the state.

One `Tracer` object holds the state. It is created empty at import; the environment is read and
torch imported only when the tracer is enabled.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable, Optional

__all__ = ["MODES", "ENV_VAR", "LOG_DIR_ENV_VAR", "Options", "STATE", "Tracer", "current_mode", "require_torch"]

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


def _nothing() -> None:
    return None


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
        # what this session watches, for the line the tracer prints when it starts checking
        self.counts = {"layers": 0, "helpers": 0}
        # set while the line saying what is watched is still to be printed; the first check prints it
        self.announce_pending = False
        self.announcer: Callable[[], None] = _nothing

    def announce(self) -> None:
        with self.lock:
            if not self.announce_pending:
                return
            self.announce_pending = False
        self.announcer()

    def count(self, kind: str, delta: int) -> None:
        with self.lock:
            self.counts[kind] = max(0, self.counts[kind] + delta)

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
