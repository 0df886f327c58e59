"""The one tree per file: LibCST's parse, lowered to the abstract grammar the analysis reads.

    module, tree = parse(text)      # LibCST module, analysis tree (each node keeps `.cst`)

See `analyzer.tree.nodes` for why the analysis reads a lowered view of the LibCST tree, and
`analyzer.tree.positions` for when positions are computed.
"""

from __future__ import annotations

import re
from typing import Optional

import libcst as cst

from analyzer.tree.lower import lower_module
from analyzer.tree.nodes import *  # noqa: F401,F403  (the node classes are this package's API)
from analyzer.tree.nodes import AST, Attribute, Module, Name, dump, iter_child_nodes, walk

__all__ = ["parse", "check_depth", "TooDeep", "unparse", "lower_module", "walk", "iter_child_nodes", "dump", "AST"]


class TooDeep(Exception):
    """Nesting deeper than LibCST's native parser survives; `line`, `column` (1-based) locate it."""

    def __init__(self, line: int, column: int) -> None:
        super().__init__(f"nesting too deep at line {line}, column {column}")
        self.line, self.column = line, column


# LibCST's native parser recurses on the C stack once per nesting level and crashes the process
# (SIGSEGV) where the stack runs out, at some 10,000 nested prefix operators (`- - - a`); before
# that its time grows faster than linearly (1,200 levels: 1.4 s). No real file comes near: a cheap
# scan finds such runs before LibCST sees the file, and the file is reported instead of parsed.
MAX_LEVELS = 1000
_PREFIX_RUN = re.compile(r"(?:(?:[-+~]|\bnot\b|\bawait\b)\s*){%d,}[\w(\[{.'\"]" % MAX_LEVELS)
_CHAINED = ("**", " else ", "lambda", "[", "(", "{")


def check_depth(text: str) -> None:
    """Raise `TooDeep` where `text` nests deeper than the parser follows in reasonable time."""
    if len(text) < 2 * MAX_LEVELS:
        return
    m = _PREFIX_RUN.search(text)
    if m is not None:
        line = text.count("\n", 0, m.start()) + 1
        raise TooDeep(line, m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1)
    for lineno, line in enumerate(text.splitlines(), 1):
        if len(line) >= 2 * MAX_LEVELS and any(line.count(tok) >= MAX_LEVELS for tok in _CHAINED):
            raise TooDeep(lineno, 1)


def parse(text: str, python_version: Optional[str] = None) -> tuple[cst.Module, Module]:
    """Parse `text` with LibCST's native parser and lower it. Raises `libcst.ParserSyntaxError`,
    `TooDeep` before a parse that would crash, and `RecursionError` for nesting deeper than the
    lowering follows.

    `python_version` ("3.11") is the grammar version LibCST reads; None reads the newest."""
    check_depth(text)
    if python_version is None:
        module = cst.parse_module(text)
    else:
        module = cst.parse_module(text, cst.PartialParserConfig(python_version=python_version))
    return module, lower_module(module, text)


def unparse(node: AST) -> str:
    """The source text of an expression, without enclosing parentheses; dotted names exactly."""
    if isinstance(node, Name):
        return node.id
    if isinstance(node, Attribute):
        return f"{unparse(node.value)}.{node.attr}"
    c = node.cst
    if type(c) is tuple:  # a span with no node of its own: `a, b` in `x[a, b]`
        return ", ".join(unparse(e) for e in getattr(node, "elts", ()))
    if isinstance(c, cst.BaseExpression) and getattr(c, "lpar", None):
        c = c.with_changes(lpar=[], rpar=[])
    return node.pos.module.code_for_node(c).strip()
