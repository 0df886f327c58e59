"""Watching a function object in place, so that every reference to it is checked.

`from helpers import get_params` copies a reference to the function object into the importer;
`functools.partial`, bound methods, callbacks and registries do the same. Swapping the module
attribute (the usual way to wrap) reaches none of those. What they all share is the function
object itself, and its `__code__` can be replaced: while watched, the object runs a small
trampoline that calls a copy of the original function and checks what it returns. Restoring puts
the original code, defaults and keyword defaults back.

The trampoline finds its checker through a keyword-only default (`__kwdefaults__`), not through
the module's globals: the user's namespace gains no name, and a closure over the original's free
variables keeps the code's free-variable count equal to the function's closure, as CPython
requires.
"""

from __future__ import annotations

import types
from typing import Any, Callable, Optional

__all__ = ["ENTRY_KW", "TRAMPOLINE_PREFIX", "patch", "is_patched", "original_of"]

ENTRY_KW = "__lora_lint_entry__"
TRAMPOLINE_PREFIX = "<lora-lint watch of "
# set on a watched function's __dict__: the plain copy it calls (also what inspect.unwrap finds)
WATCHED_ATTR = "__lora_lint_watched__"

# trampoline code by (free variables, name): each shape is compiled once
_CODE_CACHE: dict[tuple, types.CodeType] = {}


def _trampoline_code(func: types.FunctionType) -> types.CodeType:
    code = func.__code__
    key = (code.co_freevars, code.co_name, func.__qualname__, func.__module__)
    cached = _CODE_CACHE.get(key)
    if cached is not None:
        return cached
    free = code.co_freevars
    # the free variables are named in a branch that never runs: the compiler still makes them
    # free variables of the trampoline (in the same sorted order), so the closure fits
    lines = ["def _factory():"]
    lines += [f"    {name} = None" for name in free]
    lines.append(f"    def {code.co_name}(*args, {ENTRY_KW}=None, **kwargs):")
    lines.append("        __tracebackhide__ = True")
    if free:
        lines.append("        if False:")
        lines += [f"            {name}" for name in free]
    lines.append(f"        return {ENTRY_KW}(args, kwargs)")
    lines.append(f"    return {code.co_name}")
    namespace: dict[str, Any] = {}
    filename = f"{TRAMPOLINE_PREFIX}{func.__module__}.{func.__qualname__}>"
    exec(compile("\n".join(lines), filename, "exec"), namespace)
    built = namespace["_factory"]().__code__
    if built.co_freevars != free:
        raise TypeError(f"lora-lint cannot watch {func.__qualname__} in place: its closure has an unusual shape")
    built = built.replace(co_qualname=code.co_qualname) if hasattr(code, "co_qualname") else built
    _CODE_CACHE[key] = built
    return built


def _plain_copy(func: types.FunctionType) -> types.FunctionType:
    """A function with the original's code, globals, closure and defaults: what the trampoline
    calls. Its frames look like the original's in tracebacks and profiles."""
    copy = types.FunctionType(func.__code__, func.__globals__, func.__name__, func.__defaults__, func.__closure__)
    copy.__kwdefaults__ = dict(func.__kwdefaults__) if func.__kwdefaults__ else None
    copy.__qualname__ = func.__qualname__
    copy.__module__ = func.__module__
    copy.__doc__ = func.__doc__
    copy.__annotations__ = dict(getattr(func, "__annotations__", {}) or {})
    return copy


def is_patched(func: Any) -> bool:
    kw = getattr(func, "__kwdefaults__", None)
    return bool(kw) and ENTRY_KW in kw


def original_of(func: Any) -> Optional[Callable[..., Any]]:
    """The plain copy a watched function calls, or None when `func` is not watched in place."""
    return func.__dict__.get(WATCHED_ATTR) if is_patched(func) else None


def patch(func: types.FunctionType, make_entry: Callable[[types.FunctionType], Callable[[tuple, dict], Any]]
          ) -> Callable[[], None]:
    """Make `func` call `make_entry(plain)(args, kwargs)` instead of its body, where `plain` is a
    copy of the original function. Returns the undo. Raises TypeError for what cannot be
    patched (no `__code__`, a closure shape the trampoline cannot match)."""
    if not isinstance(func, types.FunctionType):
        raise TypeError(f"lora-lint can watch Python functions in place, not {type(func).__name__} objects")
    trampoline = _trampoline_code(func)
    plain = _plain_copy(func)
    entry = make_entry(plain)
    saved = (func.__code__, func.__defaults__, func.__kwdefaults__, func.__dict__.get("__wrapped__", _MISSING))
    func.__code__ = trampoline
    func.__defaults__ = None
    func.__kwdefaults__ = {ENTRY_KW: entry}
    func.__dict__[WATCHED_ATTR] = plain
    # inspect.signature and inspect.unwrap follow __wrapped__ to the real signature and source
    func.__wrapped__ = plain

    def undo() -> None:
        if func.__code__ is not trampoline:
            return  # someone replaced the code since: theirs stays
        code, defaults, kwdefaults, wrapped = saved
        func.__code__ = code
        func.__defaults__ = defaults
        func.__kwdefaults__ = kwdefaults
        func.__dict__.pop(WATCHED_ATTR, None)
        if wrapped is _MISSING:
            func.__dict__.pop("__wrapped__", None)
        else:
            func.__wrapped__ = wrapped

    return undo


_MISSING = object()
