"""A `transformers.TrainerCallback` that watches the trainer's model for the run.

    Trainer(..., callbacks=[LoraLintCallback("raise")])
"""

from __future__ import annotations

from typing import Optional

try:
    from transformers import TrainerCallback
except ImportError as exc:  # transformers is optional for the rest of lora-lint
    raise ImportError("analyzer.runtime.hf needs transformers: pip install transformers") from exc

from analyzer.runtime.lora import watch_model
from analyzer.runtime.switches import Scope

__all__ = ["LoraLintCallback"]


class LoraLintCallback(TrainerCallback):
    """The tracer on from the start of training to its end, every LoRA layer of the trainer's
    model watched. `mode` None means $LORA_LINT_RUNTIME, else warn. What it hooked is removed at
    the end, and a session that was on before (the launcher's) is left as it was."""

    def __init__(self, mode: Optional[str] = None, *, check_consistency_every: int = 0, sample_every: int = 1) -> None:
        self.mode = mode
        self.check_consistency_every = check_consistency_every
        self.sample_every = sample_every
        self.layers = 0
        self._scope: Optional[Scope] = None

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        self._scope = Scope()
        self._scope.enter(self.mode, sample_every=self.sample_every, defaults=False)
        if model is not None:
            self.layers = watch_model(model, check_consistency_every=self.check_consistency_every)
        return control

    def on_train_end(self, args, state, control, **kwargs):
        if self._scope is not None:
            self._scope.exit()
            self._scope = None
        return control
