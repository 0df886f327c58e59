"""Watched functions: `@watch`, `watch("pkg.mod:func")`, `watch_module("pkg.mod")`.

A watched Python function is changed in place (`inplace`), so every reference to it is checked:
`from mod import func` taken before `enable()`, bound methods, `functools.partial`, callbacks.
While the tracer is off nothing is changed: `watch` remembers the function and each `enable()`
applies it; `disable()` restores the original code.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import itertools
import sys
import threading
import types
from dataclasses import dataclass
from typing import Any, Callable, Optional

from analyzer.runtime import inplace
from analyzer.runtime.contracts import Expect, ReturnContract, build_contract
from analyzer.runtime.report import report
from analyzer.runtime.state import STATE

__all__ = ["watch", "watch_module", "watch_function", "WATCHED_ATTR"]

WATCHED_ATTR = inplace.WATCHED_ATTR
# pytest hides the frames of modules that set this: a violation's traceback ends in user code
__tracebackhide__ = True


@dataclass(frozen=True)
class _Binding:
    """Where a function lives: `owner.name` holds it, plainly or as a static/class method."""

    owner: Any
    name: str
    raw: Any  # the attribute as stored (a function, staticmethod or classmethod)

    @property
    def func(self) -> Callable[..., Any]:
        return getattr(self.raw, "__func__", self.raw)


def _check_watchable(func: Any) -> None:
    if not callable(func):
        raise TypeError(f"lora-lint can watch functions, not {type(func).__name__} objects")
    if inspect.isgeneratorfunction(func) or inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func):
        # callers get a generator or coroutine; the return statements are not what they receive
        raise TypeError(f"lora-lint cannot watch {func.__qualname__}: it is a generator or coroutine function")


def _label(func: Any) -> str:
    return getattr(func, "__qualname__", getattr(func, "__name__", "function")).replace(".<locals>", "")


class _LazyContract:
    """Builds the function's contract on its first checked call: the static pass parses the
    source file, which `watch_module` on a large module should not pay for every function at
    enable()."""

    __slots__ = ("func", "name", "expect", "contract", "lock")

    def __init__(self, func: Callable[..., Any], name: str, expect: Optional[Expect]) -> None:
        self.func, self.name, self.expect = func, name, expect
        self.contract: Optional[ReturnContract] = None
        self.lock = threading.Lock()

    def check(self, out: Any, call: int) -> bool:
        """The full check; returns whether it passed with a settled contract (then every later
        return with the same type signature passes too: arity, None slots and slot kinds are
        all decided by the types)."""
        if STATE.announce_pending:
            STATE.announce()
        contract = self.contract
        if contract is None:
            with self.lock:
                if self.contract is None:
                    self.contract = build_contract(self.func, self.name, self.expect)
                contract = self.contract
        settled = not contract.learning
        reported = []

        def noted(site: str, message: str) -> None:
            reported.append(site)
            report(site, message)

        contract.check(out, call, noted)
        return settled and not reported


def _checker(plain: Callable[..., Any], expect: Optional[Expect]) -> Callable[[tuple, dict], Any]:
    """What a watched function runs: the plain function, then (while on, outside compilation)
    the check. A return whose type signature passed the full check before costs one tuple of
    types and a set lookup. `next()` on a count is atomic under the GIL: no lock per call."""
    contract = _LazyContract(plain, _label(plain), expect)
    calls = itertools.count(1)
    state = STATE
    clean: set = set()

    def entry(args: tuple, kwargs: dict) -> Any:
        out = plain(*args, **kwargs)
        if state.on and not state.is_compiling():
            call = next(calls)
            key = tuple(map(type, out)) if type(out) is tuple else type(out)
            if key not in clean and contract.check(out, call) and len(clean) < _MAX_CLEAN:
                clean.add(key)
        return out

    return entry


_MAX_CLEAN = 256  # distinct clean type signatures remembered per function


def _wrap(func: Callable[..., Any], expect: Optional[Expect]) -> Callable[..., Any]:
    """A separate wrapper, for callables that have no code of their own to patch (builtins,
    callable objects): only callers of the returned wrapper are checked."""
    entry = _checker(func, expect)

    @functools.wraps(func)
    def watched(*args, **kwargs):
        return entry(args, kwargs)

    setattr(watched, WATCHED_ATTR, func)
    return watched


def watch_function(func: types.FunctionType, expect: Optional[Expect] = None) -> bool:
    """Patch `func` in place for this session (the tracer must be on). False when it was
    watched already."""
    if inplace.is_patched(func):
        return False
    undo = inplace.patch(func, lambda plain: _checker(plain, expect))
    STATE.push_undo(undo)
    STATE.count("helpers", 1)
    STATE.push_undo(lambda: STATE.count("helpers", -1))
    return True


def _remember(func: types.FunctionType, expect: Optional[Expect]) -> None:
    """Watch `func` now if on, and again at every later `enable()`."""
    def apply() -> None:
        watch_function(func, expect)

    with STATE.lock:
        STATE.deferred[("function", id(func))] = apply
    if STATE.on:
        apply()


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
    """Watch a function's returns, wherever it is called from.

    - ``@watch`` or ``@watch(expect=Expect(arity=6))`` on a function or a method;
    - ``watch(func)``: `func` itself is watched (every reference to it, however imported) and
      returned; a ``functools.partial`` is watched through the function it holds;
    - ``watch("pkg.mod:func")`` or ``watch("pkg.mod:Cls.method")``: the same, found by path.

    While the tracer is off nothing is changed: the function is remembered and patched at each
    ``enable()``, restored at ``disable()``; ``disable(forget=True)`` forgets it. Callables
    without Python code (builtins, callable objects) get a separate wrapper, returned here; only
    callers of that wrapper are checked.
    """
    if target is None:
        return functools.partial(watch, expect=expect)
    if isinstance(target, str):
        return _watch_path(target, expect)
    func = target.func if isinstance(target, functools.partial) else target
    func = getattr(func, "__func__", func)  # a bound method, staticmethod or classmethod
    _check_watchable(func)
    if isinstance(func, types.FunctionType):
        _remember(func, expect)
        return target
    if getattr(func, WATCHED_ATTR, None) is not None or not STATE.on:
        return target
    return _wrap(func, expect)


def _watch_path(spec: str, expect: Optional[Expect]) -> Any:
    module_name, sep, qualname = spec.partition(":")
    if not sep or not module_name or not qualname:
        raise ValueError(f"watch() takes 'pkg.module:function' or 'pkg.module:Class.method', not {spec!r}")
    importlib.import_module(module_name)
    binding = _resolve(module_name, qualname)
    if binding is None:
        raise AttributeError(f"lora-lint: {module_name} has no function {qualname!r} to watch")
    func = binding.func
    _check_watchable(func)
    if isinstance(func, types.FunctionType):
        _remember(func, expect)
    else:
        _swap_attribute(binding, expect)
    return getattr(binding.owner, binding.name)


def _swap_attribute(binding: _Binding, expect: Optional[Expect]) -> None:
    """For a callable without Python code: the module or class attribute is swapped for a
    wrapper at each enable(), and back at disable()."""
    def apply() -> None:
        current = inspect.getattr_static(binding.owner, binding.name, None)
        if current is not binding.raw:
            return
        wrapped = _wrap(binding.func, expect)
        setattr(binding.owner, binding.name, wrapped)

        def restore() -> None:
            if inspect.getattr_static(binding.owner, binding.name, None) is wrapped:
                setattr(binding.owner, binding.name, binding.raw)

        STATE.push_undo(restore)

    with STATE.lock:
        STATE.deferred[("attribute", id(binding.owner), binding.name)] = apply
    if STATE.on:
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
        _remember(obj, None)
        count += 1
    return count


def watch_defined(func: Any) -> Any:
    """The decorator the launcher adds to chosen `def`s of the script it runs: the function is
    watched from the moment it exists, before the script's own code can call it."""
    if isinstance(func, types.FunctionType) and not (
            inspect.isgeneratorfunction(func) or inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func)):
        try:
            _remember(func, None)
        except TypeError as exc:  # the script must run even where the tracer cannot follow
            print(f"lora-lint runtime: not watching {func.__qualname__}: {exc}", file=sys.stderr)
    return func
