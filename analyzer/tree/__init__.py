"""The one tree per file: LibCST's parse, lowered to the abstract grammar the analysis reads.

    module, tree = parse(text)      # LibCST module, analysis tree (each node keeps `.cst`)

See `analyzer.tree.nodes` for why the analysis reads a lowered view of the LibCST tree, and
`analyzer.tree.positions` for when positions are computed.
"""

from __future__ import annotations

import libcst as cst

from analyzer.tree.depth import TooDeep, check_depth
from analyzer.tree.lower import lower_module
from analyzer.tree.nodes import *  # noqa: F401,F403  (the node classes are this package's API)
from analyzer.tree.nodes import AST, Attribute, Module, Name, Tuple, dump, iter_child_nodes, walk

__all__ = ["parse", "check_depth", "TooDeep", "unparse", "lower_module", "walk", "iter_child_nodes", "dump", "AST"]


def parse(text: str) -> tuple[cst.Module, Module]:
    """Parse `text` with LibCST's native parser and lower it. Raises `libcst.ParserSyntaxError`,
    `TooDeep` before a parse that would crash, and `RecursionError` for nesting deeper than the
    lowering follows.

    The native parser reads the newest grammar whatever version it is told; what a target version
    cannot compile is found on the tree (`analyzer.tree.versions.too_new`)."""
    check_depth(text)
    module = _parse_unvalidated(text)
    return module, lower_module(module, text)


def _parse_unvalidated(text: str) -> cst.Module:
    """`cst.parse_module`, without the per-node validation LibCST runs as the native parser builds
    each node (`CSTNode.__post_init__` -> `_validate`: a sixth of the parse on installed peft).
    Validation guards trees built by hand (`with_changes`, codemods); the parser's own output is
    valid by construction, and LibCST's comment on `__post_init__` says as much. The hook is
    restored before returning (to the one found at import, whatever another thread did meanwhile),
    so fixes built later are validated as usual."""
    if _VALIDATE is None:
        return cst.parse_module(text)
    cst.CSTNode.__post_init__ = _no_validation
    try:
        return cst.parse_module(text)
    finally:
        cst.CSTNode.__post_init__ = _VALIDATE


def _no_validation(self) -> None:
    pass


# LibCST's validating hook; None if a LibCST version moves it (then every parse validates)
_VALIDATE = cst.CSTNode.__dict__.get("__post_init__")


def unparse(node: AST) -> str:
    """The source text of an expression, without enclosing parentheses; dotted names exactly."""
    if isinstance(node, Name):
        return node.id
    if isinstance(node, Attribute):
        return f"{unparse(node.value)}.{node.attr}"
    c = node.cst
    # a parenthesized tuple, or `a, b` in `x[a, b]` (no LibCST node spans it): its items
    if isinstance(node, Tuple) and (type(c) is tuple or c.lpar):
        return ", ".join(unparse(e) for e in node.elts)
    if isinstance(c, cst.BaseExpression) and getattr(c, "lpar", None):
        c = c.with_changes(lpar=[], rpar=[])
    return node.pos.module.code_for_node(c).strip()
