"""What the tracer watches when it is turned on and told nothing.

- Every PEFT LoRA layer: `BaseTuner.inject_adapter` (through which every PEFT model and
  `inject_adapter_in_model` add adapters) is followed by `watch_model` on its model, from the
  moment PEFT is imported; models built before `enable()` are found among the live `BaseTuner`
  objects.
- The user's own return-tuple helpers (`selection`): in the user modules imported already, in
  those imported later (`imports`), and in the running script, whose functions are looked for
  again after each later import and model build (the launcher does better: it watches them from
  their `def`).

The first check prints one line saying what is watched.
"""

from __future__ import annotations

import gc
import sys
from typing import Any, Optional

from analyzer.runtime import imports, selection
from analyzer.runtime.functions import watch_function
from analyzer.runtime.lora import watch_model
from analyzer.runtime.state import STATE

__all__ = ["DefaultWatching"]

_PEFT_TUNERS = "peft.tuners.tuners_utils"


def _quietly_watch(func: Any) -> None:
    """What the tracer chose itself must not stop the job: a function it cannot patch is left
    unwatched, with one line saying so."""
    try:
        watch_function(func)
    except TypeError as exc:
        print(f"lora-lint runtime: not watching {func.__qualname__}: {exc}", file=sys.stderr)


class DefaultWatching:
    """One session's default watching: started by `enable(defaults=True)`, undone by `disable()`."""

    def __init__(self, roots: selection.Roots, script: Optional[str]) -> None:
        self.roots = roots
        self.script = script
        self.main_helpers: set[str] = set()

    def start(self) -> None:
        if self.script is not None:
            self.main_helpers = selection.helper_qualnames_in_file(self.script)
        tuners = sys.modules.get(_PEFT_TUNERS)
        if tuners is not None:
            self._follow_peft(tuners)
            self._existing_models(tuners)
        for module in list(sys.modules.values()):
            if self.roots.owns(getattr(module, "__file__", None)) and getattr(module, "__name__", "") != "__main__":
                self._watch_helpers(module)
        self._main_helpers()
        imports.listen(self._listener)
        STATE.announcer = self.announce
        STATE.announce_pending = True

    def announce(self) -> None:
        counts = STATE.counts
        print(f"lora-lint runtime: watching {counts['layers']} LoRA layer{'s' * (counts['layers'] != 1)} and "
              f"{counts['helpers']} helper{'s' * (counts['helpers'] != 1)} ({STATE.options.mode})",
              file=sys.stderr, flush=True)

    def _listener(self, fullname: str, origin: Optional[str]):
        if fullname == _PEFT_TUNERS:
            return self._follow_peft
        if self.roots.owns(origin):
            return self._on_user_module
        return None

    def _on_user_module(self, module: Any) -> None:
        self._watch_helpers(module)
        self._main_helpers()

    def _watch_helpers(self, module: Any) -> None:
        for func in selection.helpers_in_module(module):
            _quietly_watch(func)

    def _main_helpers(self) -> None:
        """The script's own helpers that exist by now (env-var mode: the script runs unaided)."""
        main = sys.modules.get("__main__")
        if not self.main_helpers or main is None or getattr(main, "__file__", None) is None:
            return
        for qualname in self.main_helpers:
            owner: Any = main
            for part in qualname.split("."):
                owner = getattr(owner, part, None)
            func = getattr(owner, "__func__", owner)
            if func is not None and getattr(func, "__module__", None) == "__main__" and hasattr(func, "__code__"):
                _quietly_watch(func)

    def _follow_peft(self, tuners: Any) -> None:
        base = getattr(tuners, "BaseTuner", None)
        plain = getattr(base, "inject_adapter", None) if base is not None else None
        if plain is None or getattr(plain, "_lora_lint_follows", False):
            return
        this = self

        def inject_adapter(tuner, model, *args, **kwargs):
            out = plain(tuner, model, *args, **kwargs)
            if STATE.on:
                watch_model(model)
                this._main_helpers()
            return out

        inject_adapter._lora_lint_follows = True
        inject_adapter.__wrapped__ = plain
        base.inject_adapter = inject_adapter

        def undo() -> None:
            if base.__dict__.get("inject_adapter") is inject_adapter:
                base.inject_adapter = plain

        STATE.push_undo(undo)

    def _existing_models(self, tuners: Any) -> None:
        base = getattr(tuners, "BaseTuner", None)
        if base is None:
            return
        # only objects of PEFT's own tuner class: a read of isinstance, never of a tensor
        for obj in gc.get_objects():
            try:
                found = isinstance(obj, base) and getattr(obj, "model", None) is not None
            except Exception:  # a proxy whose __class__ raises: not a PEFT model
                continue
            if found:
                watch_model(obj.model)
