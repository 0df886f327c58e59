"""Which functions the default watching picks: the user's own return-tuple helpers, as the static
pass sees them (`analyzer.api.function_contract`).

"The user's own code" is a source file under one of the roots (the script's folder, the
working directory, pytest's rootdir) and outside any site-packages, the standard library and
lora-lint itself. A cheap bytecode test (a return right after a tuple is built) picks the
candidates; the static pass then confirms that some return statement is a tuple of two or more
items. The static pass is imported here, so only when the default watching is on.
"""

from __future__ import annotations

import dis
import inspect
import os
import sys
import sysconfig
import types
from typing import Any, Iterable, Iterator, Optional

__all__ = ["Roots", "returns_a_tuple", "helpers_in_module", "helper_qualnames_in_file"]

_OWN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # analyzer/


class Roots:
    """The folders whose files count as the user's own code."""

    def __init__(self, folders: Iterable[str]) -> None:
        self.folders = tuple(dict.fromkeys(os.path.normcase(os.path.abspath(f)) for f in folders if f))
        paths = sysconfig.get_paths()
        self.excluded = tuple(dict.fromkeys(
            os.path.normcase(os.path.abspath(p)) for p in
            (paths.get("stdlib"), paths.get("platstdlib"), paths.get("purelib"), paths.get("platlib"), _OWN_DIR) if p))

    def owns(self, path: Optional[str]) -> bool:
        if not path or not path.endswith(".py"):
            return False
        path = os.path.normcase(os.path.abspath(path))
        if "site-packages" in path or "dist-packages" in path:
            return False
        if any(_under(path, ex) for ex in self.excluded):
            return False
        return any(_under(path, root) for root in self.folders)


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


_TUPLE_BUILDERS = {"BUILD_TUPLE", "LIST_TO_TUPLE"}
_RETURNS = {"RETURN_VALUE", "RETURN_CONST"}


def returns_a_tuple(code: types.CodeType) -> bool:
    """Some return of this code object returns a freshly built tuple or a constant tuple (the
    candidates for the static pass; generators and coroutines excluded)."""
    if code.co_flags & (inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR):
        return False
    previous = None
    for ins in dis.get_instructions(code):
        if ins.opname in _RETURNS and previous is not None:
            if previous.opname in _TUPLE_BUILDERS and (previous.opname != "BUILD_TUPLE" or previous.arg >= 2):
                return True
            if previous.opname == "LOAD_CONST" and isinstance(previous.argval, tuple) and len(previous.argval) >= 2:
                return True
        if ins.opname == "RETURN_CONST" and isinstance(ins.argval, tuple) and len(ins.argval) >= 2:
            return True
        if ins.opname not in ("CACHE", "NOP", "EXTENDED_ARG"):
            previous = ins
    return False


def _confirmed(path: str, qualname: str, source: str) -> bool:
    try:
        from analyzer.api import function_contract

        contract = function_contract(path, qualname, source=source)
    except Exception:  # the static pass (even failing to import) must never break the traced job
        return False
    return contract is not None and any(r.arity is not None and r.arity >= 2 for r in contract.returns)


def _read(path: str) -> Optional[str]:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError):
        return None


def _defined_functions(module: Any) -> Iterator[types.FunctionType]:
    """Functions and methods (plain, static, class) defined at the top of `module` or in its
    top-level classes."""
    name = module.__name__
    for value in list(vars(module).values()):
        if isinstance(value, types.FunctionType) and value.__module__ == name:
            yield value
        elif isinstance(value, type) and value.__module__ == name:
            for attr in list(vars(value).values()):
                func = getattr(attr, "__func__", attr)
                if isinstance(func, types.FunctionType) and func.__module__ == name:
                    yield func


def helpers_in_module(module: Any) -> list[types.FunctionType]:
    """The return-tuple helpers defined in an imported module, per the static pass."""
    path = getattr(module, "__file__", None)
    candidates = [f for f in _defined_functions(module) if "<locals>" not in f.__qualname__
                  and f.__code__.co_filename == path and returns_a_tuple(f.__code__)]
    if not candidates:
        return []
    source = _read(path)
    if source is None:
        return []
    return [f for f in candidates if _confirmed(path, f.__qualname__, source)]


def _code_objects(code: types.CodeType) -> Iterator[types.CodeType]:
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield const
            yield from _code_objects(const)


def helper_qualnames_in_file(path: str) -> set[str]:
    """The return-tuple helpers a script defines, before it runs (for the launcher and the
    environment switch, which must know them before the script's code calls them)."""
    source = _read(path)
    if source is None:
        return set()
    try:
        code = compile(source, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return set()
    names = set()
    for inner in _code_objects(code):
        qualname = getattr(inner, "co_qualname", inner.co_name)
        if "<" in qualname or not returns_a_tuple(inner):
            continue
        if _confirmed(path, qualname, source):
            names.add(qualname)
    return names


def main_script() -> Optional[str]:
    """The file `python script.py` is running, when it is one."""
    argv0 = sys.argv[0] if sys.argv else ""
    if argv0 and argv0 not in ("-c", "-m") and os.path.isfile(argv0):
        return os.path.abspath(argv0)
    return None
