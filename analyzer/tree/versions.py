"""Syntax and builtins that depend on the Python version the linted code runs on.

LibCST's native parser reads the newest grammar whatever version it is told, so a file written
for Python 3.12 parses under any interpreter (the point of parsing with it). With a target version
set, statements the target cannot compile are reported instead of analysed as if they ran.
"""

from __future__ import annotations

from typing import Iterator, Optional

from analyzer.tree import nodes as N

__all__ = ["too_new", "version_tuple", "ADDED_BUILTINS"]

# statement-level syntax, with the first version that accepts it (walrus and positional-only
# parameters, 3.8, are older than any supported target)
_SYNTAX = (
    (N.Match, (3, 10), "`match` statements"),
    (N.TryStar, (3, 11), "`except*`"),
    (N.TypeAlias, (3, 12), "`type` aliases"),
)
# builtins added after 3.8, with the version that added them
ADDED_BUILTINS = {
    "aiter": (3, 10), "anext": (3, 10), "EncodingWarning": (3, 10),
    "BaseExceptionGroup": (3, 11), "ExceptionGroup": (3, 11),
    "PythonFinalizationError": (3, 13),
}


def version_tuple(text: str) -> tuple[int, int]:
    major, minor = text.split(".")
    return int(major), int(minor)


def _statements(body: list) -> Iterator[N.AST]:
    stack = list(reversed(body))
    while stack:
        node = stack.pop()
        yield node
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            inner = getattr(node, field, None)
            if type(inner) is list:
                stack.extend(reversed(inner))


def too_new(tree: N.Module, target: str) -> Optional[tuple[N.AST, str, str]]:
    """The first statement `target` ("3.9") cannot compile: (node, what, first version), or None."""
    want = version_tuple(target)
    for node in _statements(tree.body):
        for cls, since, what in _SYNTAX:
            if isinstance(node, cls) and want < since:
                return node, what, f"{since[0]}.{since[1]}"
        if getattr(node, "type_params", None) and want < (3, 12):
            return node, "type parameter lists", "3.12"
    return None
