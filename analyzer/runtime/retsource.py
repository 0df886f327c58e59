"""Where a wrong slot value came from, for a violation's message: the returns of a function
whose slot is a bare module-level name that holds that very value now.

Read only when a violation is reported (never per call): the function's own source, through
`inspect`, so that a message can say "line 18 returns the module-level name `bias` (now
True)" - the stale-global shape that the static pass reports as LL203.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from typing import Any, Callable, Optional

from analyzer.runtime.kinds import describe_value

__all__ = ["global_slot_sources", "explainer"]


def _returns(func_node: ast.AST):
    """The return statements of one def, not those of defs or lambdas nested in it."""
    stack = list(ast.iter_child_nodes(func_node))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(node, ast.Return):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def global_slot_sources(func: Callable[..., Any], slot: int, arity: int) -> list[tuple[int, str]]:
    """(line, name) for each return of `func` that puts a bare name read from the module's globals
    in `slot` of an `arity`-tuple."""
    code = getattr(func, "__code__", None)
    if code is None:
        return []
    try:
        lines, first = inspect.getsourcelines(func)
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except (OSError, TypeError, SyntaxError, IndentationError):
        return []
    defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    if not defs:
        return []
    local = set(code.co_varnames) | set(code.co_cellvars) | set(code.co_freevars)
    found = []
    for ret in _returns(defs[0]):
        value = ret.value
        if not isinstance(value, ast.Tuple) or len(value.elts) != arity:
            continue
        item = value.elts[slot]
        if isinstance(item, ast.Name) and item.id not in local:
            found.append((first + ret.lineno - 1, item.id))
    return sorted(found)


def explainer(func: Callable[..., Any], arity: int) -> Callable[[int, Any], str]:
    """The `explain` hook of a function's slot kinds: names the return line whose module-level
    name holds the offending value now, when there is one."""
    def explain(slot: int, value: Any) -> Optional[str]:
        globals_ = getattr(func, "__globals__", {})
        hits = [(line, name) for line, name in global_slot_sources(func, slot, arity)
                if name in globals_ and globals_[name] is value]
        if not hits:
            return None
        where = " and ".join(f"line {line} (the module-level name `{name}`, now {describe_value(value)})"
                             for line, name in hits)
        return f"It came from the return at {where}: a value left by module-level code, not one computed by this call"

    return explain
