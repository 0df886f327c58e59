"""An import hook that tells the tracer when a module has finished executing.

In the manner of `beartype.claw`, but smaller: a finder first on `sys.meta_path` asks the other
finders for the spec (so the import system does nothing twice) and, for the modules someone
listens for, gives the spec's own loader an instance-level `exec_module` that runs the listeners
after the module's code. The loader keeps its class (`isinstance` checks, `importlib.resources`
and pickling see what they saw), and nothing is compiled differently.

Installed while the tracer is on and some listener wants it; removed by `disable()`.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import threading
from typing import Any, Callable, Optional

from analyzer.runtime.state import STATE

__all__ = ["listen"]

# listener(fullname, origin) -> callback(module) or None: whether it wants that module
Listener = Callable[[str, Optional[str]], Optional[Callable[[Any], None]]]

_listeners: list[Listener] = []
_busy = threading.local()


class _AfterExecFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any = None, target: Any = None):
        if getattr(_busy, "on", False):
            return None
        _busy.on = True
        try:
            spec = _find_with_others(self, fullname, path, target)
        finally:
            _busy.on = False
        if spec is None:
            return None
        callbacks = [cb for cb in (listener(fullname, spec.origin) for listener in list(_listeners)) if cb]
        loader = spec.loader
        if callbacks and isinstance(loader, importlib.machinery.SourceFileLoader):
            _run_after_exec(loader, callbacks)
        return spec


def _find_with_others(me: Any, fullname: str, path: Any, target: Any):
    for finder in list(sys.meta_path):
        if finder is me or not hasattr(finder, "find_spec"):
            continue
        spec = finder.find_spec(fullname, path, target)
        if spec is not None:
            return spec
    return None


def _run_after_exec(loader: importlib.machinery.SourceFileLoader, callbacks: list[Callable[[Any], None]]) -> None:
    plain = type(loader).exec_module

    def exec_module(module: Any) -> None:
        # the instance attribute goes first: a reload of the module takes the class's path again
        loader.__dict__.pop("exec_module", None)
        plain(loader, module)
        if STATE.on:
            for callback in callbacks:
                try:
                    callback(module)
                except Exception as exc:  # the tracer must never break the user's import
                    print(f"lora-lint runtime: could not watch {module.__name__}: {exc}", file=sys.stderr)

    loader.exec_module = exec_module


_finder = _AfterExecFinder()


def listen(listener: Listener) -> None:
    """Call `listener(fullname, origin)` for each module imported from now until `disable()`;
    when it returns a callback, the callback gets the module once the module's code has run."""
    with STATE.lock:
        _listeners.append(listener)
        first = _finder not in sys.meta_path
        if first:
            sys.meta_path.insert(0, _finder)

    def undo() -> None:
        with STATE.lock:
            if listener in _listeners:
                _listeners.remove(listener)
            if not _listeners and _finder in sys.meta_path:
                sys.meta_path.remove(_finder)

    STATE.push_undo(undo)
