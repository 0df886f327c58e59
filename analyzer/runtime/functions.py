"""Watched functions: `@watch`, `watch("pkg.mod:func")`, `watch_module("pkg.mod")`.

While the tracer is off nothing is wrapped: `watch` remembers the function and the tracer swaps
the module (or class) attribute for a wrapper at each `enable()`, and back at `disable()`.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import itertools
import sys
import threading
from dataclasses import dataclass
from typing import Any, Callable, Optional

from analyzer.runtime.contracts import Expect, ReturnContract, build_contract
from analyzer.runtime.report import report
from analyzer.runtime.state import STATE

__all__ = ["watch", "watch_module", "WATCHED_ATTR"]

# set on every wrapper: the function it wraps (so that nothing is wrapped twice)
WATCHED_ATTR = "__lora_lint_watched__"


@dataclass(frozen=True)
class _Binding:
    """Where a function lives: `owner.name` holds it, plainly or as a static/class method."""

    owner: Any
    name: str
    raw: Any  # the attribute as stored (a function, staticmethod or classmethod)

    @property
    def func(self) -> Callable[..., Any]:
        return getattr(self.raw, "__func__", self.raw)

    def rewrap(self, wrapper: Callable[..., Any]) -> Any:
        if isinstance(self.raw, staticmethod):
            return staticmethod(wrapper)
        if isinstance(self.raw, classmethod):
            return classmethod(wrapper)
        return wrapper


def _check_watchable(func: Any) -> None:
    if not callable(func):
        raise TypeError(f"lora-lint can watch functions, not {type(func).__name__} objects")
    if inspect.isgeneratorfunction(func) or inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func):
        # callers get a generator or coroutine; the return statements are not what they receive
        raise TypeError(f"lora-lint cannot watch {func.__qualname__}: it is a generator or coroutine function")


class _LazyContract:
    """Builds the function's contract on its first checked call: the static pass parses the
    source file, which `watch_module` on a large module should not pay for every function at
    enable()."""

    __slots__ = ("func", "name", "expect", "contract", "lock")

    def __init__(self, func: Callable[..., Any], name: str, expect: Optional[Expect]) -> None:
        self.func, self.name, self.expect = func, name, expect
        self.contract: Optional[ReturnContract] = None
        self.lock = threading.Lock()

    def check(self, out: Any, call: int) -> None:
        contract = self.contract
        if contract is None:
            with self.lock:
                if self.contract is None:
                    self.contract = build_contract(self.func, self.name, self.expect)
                contract = self.contract
        contract.check(out, call, report)


def _wrap(func: Callable[..., Any], expect: Optional[Expect]) -> Callable[..., Any]:
    name = getattr(func, "__qualname__", getattr(func, "__name__", "function")).replace(".<locals>", "")
    contract = _LazyContract(func, name, expect)
    calls = itertools.count(1)  # next() on a count is atomic under the GIL: no lock per call
    state = STATE

    @functools.wraps(func)
    def watched(*args, **kwargs):
        out = func(*args, **kwargs)
        if state.on and not state.is_compiling():
            contract.check(out, next(calls))
        return out

    setattr(watched, WATCHED_ATTR, func)
    return watched


def _swap_in(binding: _Binding, expect: Optional[Expect]) -> None:
    """Wrap `binding` now; disable() puts the original back if nobody replaced it meanwhile."""
    wrapped = binding.rewrap(_wrap(binding.func, expect))
    setattr(binding.owner, binding.name, wrapped)

    def restore() -> None:
        if inspect.getattr_static(binding.owner, binding.name, None) is wrapped:
            setattr(binding.owner, binding.name, binding.raw)

    STATE.push_undo(restore)


def _resolve(module_name: str, qualname: str) -> Optional[_Binding]:
    """The owner and stored attribute of `qualname` in a module (`func`, `Cls.method`)."""
    module = sys.modules.get(module_name)
    if module is None or "<locals>" in qualname:
        return None
    owner: Any = module
    *path, name = qualname.split(".")
    for part in path:
        owner = getattr(owner, part, None)
        if owner is None:
            return None
    try:
        raw = inspect.getattr_static(owner, name)
    except AttributeError:
        return None
    return _Binding(owner, name, raw)


def watch(target: Any = None, *, expect: Optional[Expect] = None) -> Any:
    """Watch a function's returns.

    - ``@watch`` or ``@watch(expect=Expect(arity=6))`` on a module-level function or a method;
    - ``watch(func)`` returns a watched wrapper to call instead of `func`;
    - ``watch("pkg.mod:func")`` or ``watch("pkg.mod:Cls.method")`` wraps the attribute in place.

    While the tracer is off, ``watch`` wraps nothing: the function is remembered, and the module
    or class attribute that holds it is wrapped at each ``enable()`` (code that kept its own
    reference to the function from before then is not checked). Paths and decorated functions
    are remembered the same way for later sessions; ``disable(forget=True)`` forgets them.
    """
    if target is None:
        return functools.partial(watch, expect=expect)
    if isinstance(target, str):
        return _watch_path(target, expect)
    _check_watchable(target)
    if getattr(target, WATCHED_ATTR, None) is not None:
        return target
    module_name, qualname = getattr(target, "__module__", None), getattr(target, "__qualname__", None)
    if not STATE.on:
        if module_name and qualname and "<locals>" not in qualname:
            _defer_binding(module_name, qualname, target, expect)
        return target
    binding = _resolve(module_name or "", qualname or "")
    if binding is None and module_name and qualname and "<locals>" not in qualname:
        # a decorator at definition time (the name is not bound yet): the `def` binds this
        # wrapper now; later sessions wrap the plain function again
        _defer_binding(module_name, qualname, target, expect, apply_now=False)
        _restore_plain_at_disable(target)
    return _wrap(target, expect)


def _restore_plain_at_disable(func: Callable[..., Any]) -> None:
    """A wrapper bound by a `def` while on: at disable() put the plain function back."""
    module_name, qualname = func.__module__, func.__qualname__

    def restore() -> None:
        binding = _resolve(module_name, qualname)
        if binding is not None and getattr(binding.func, WATCHED_ATTR, None) is func:
            raw = binding.raw
            plain = staticmethod(func) if isinstance(raw, staticmethod) else (
                classmethod(func) if isinstance(raw, classmethod) else func)
            setattr(binding.owner, binding.name, plain)

    STATE.push_undo(restore)


def _watch_path(spec: str, expect: Optional[Expect]) -> Any:
    module_name, sep, qualname = spec.partition(":")
    if not sep or not module_name or not qualname:
        raise ValueError(f"watch() takes 'pkg.module:function' or 'pkg.module:Class.method', not {spec!r}")
    importlib.import_module(module_name)
    binding = _resolve(module_name, qualname)
    if binding is None:
        raise AttributeError(f"lora-lint: {module_name} has no function {qualname!r} to watch")
    func = binding.func
    if getattr(func, WATCHED_ATTR, None) is not None:
        return getattr(binding.owner, binding.name)  # watched already: once is enough
    _check_watchable(func)
    if not STATE.on:
        _defer_binding(module_name, qualname, func, expect)
        return func
    _defer_binding(module_name, qualname, func, expect, apply_now=False)
    _swap_in(binding, expect)
    return getattr(binding.owner, binding.name)


def _defer_binding(module_name: str, qualname: str, func: Callable[..., Any], expect: Optional[Expect],
                   apply_now: bool = True) -> None:
    def apply() -> None:
        binding = _resolve(module_name, qualname)
        if binding is not None and binding.func is func:
            _swap_in(binding, expect)

    with STATE.lock:
        STATE.deferred[("function", module_name, qualname, id(func))] = apply
    if apply_now and STATE.on:
        apply()


def watch_module(module_name: str) -> int:
    """Watch every plain function defined in a module (not those it imports, not generators).
    Returns how many functions it covers."""
    module = importlib.import_module(module_name)
    count = 0
    for name, obj in list(vars(module).items()):
        if not inspect.isfunction(obj) or obj.__module__ != module.__name__ or obj.__qualname__ != name:
            continue
        if inspect.isgeneratorfunction(obj) or inspect.iscoroutinefunction(obj) or inspect.isasyncgenfunction(obj):
            continue
        _defer_binding(module.__name__, name, obj, None)
        count += 1
    return count
