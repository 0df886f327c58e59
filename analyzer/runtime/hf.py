"""A `transformers.TrainerCallback` that watches the trainer's model for the run."""

from __future__ import annotations

try:
    from transformers import TrainerCallback
except ImportError as exc:  # pragma: no cover - transformers is optional
    raise ImportError("analyzer.runtime.hf needs transformers: pip install transformers") from exc

from analyzer import runtime

__all__ = ["LoraLintCallback"]


class LoraLintCallback(TrainerCallback):
    """`Trainer(..., callbacks=[LoraLintCallback("raise")])`: on for the run, off at its end."""

    def __init__(self, mode: str = "warn", check_consistency_every: int = 0) -> None:
        self.mode = mode
        self.check_consistency_every = check_consistency_every
        self.layers = 0

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        runtime.enable(self.mode)
        if model is not None:
            self.layers = runtime.watch_model(model, check_consistency_every=self.check_consistency_every)
        return control

    def on_train_end(self, args, state, control, **kwargs):
        runtime.disable()
        return control
