"""Positions of analysis-tree nodes, computed from the LibCST tree on first use.

LibCST keeps no positions in its nodes: `PositionProvider` regenerates the whole file and records
a `CodeRange` object per node, which costs more than the parse itself (2.4x on installed peft).
Most files report nothing and never need a position, so nothing is computed until a node's
`lineno` (or another position) is first read. Then one code generation pass records character
offsets only, as plain integers, and offsets become (line, column) with a binary search over the
line starts. The ranges are LibCST's syntactic ones: the same start and end as
`PositionProvider`, with 1-based lines and 0-based character columns.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Optional, Union

import libcst as cst
from libcst._nodes.internal import CodegenState

__all__ = ["Positions"]

_NEWLINE = re.compile(r"\r\n?|\n")


@dataclass
class _OffsetState(CodegenState):
    """Code generation that records each node's [start, end) character offsets, keyed by id.

    Only lengths are kept (the text is the source the tree was parsed from: LibCST round-trips
    it exactly), ids avoid LibCST's Python-level `__hash__`, and the syntactic-position hook is a
    plain object rather than a generator-based context manager: together a fraction of the cost of
    `PositionProvider`, which is the price of every file that reports something."""

    offset: int = 0
    spans: dict = field(default_factory=dict)
    _stack: list = field(default_factory=list)

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.offset += len(token)

    def add_token(self, value: str) -> None:
        self.offset += len(value)

    def pop_trailing_newline(self) -> None:
        pass  # only moves the end of the module, which nothing reads

    def before_codegen(self, node: cst.CSTNode) -> None:
        self._stack.append(self.offset)

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self._stack.pop()
        # a syntactic position recorded inside the node's own code generation wins
        key = id(node)
        if key not in self.spans:
            self.spans[key] = (start, self.offset)

    def record_syntactic_position(self, node: cst.CSTNode, *, start_node: Optional[cst.CSTNode] = None,
                                  end_node: Optional[cst.CSTNode] = None) -> "_Syntactic":
        return _Syntactic(self, node, start_node, end_node)


class _Syntactic:
    """The span of a node without the whitespace it owns (LibCST's syntactic position)."""

    __slots__ = ("state", "node", "start_node", "end_node", "start")

    def __init__(self, state: _OffsetState, node, start_node, end_node) -> None:
        self.state, self.node, self.start_node, self.end_node = state, node, start_node, end_node

    def __enter__(self) -> None:
        self.start = self.state.offset

    def __exit__(self, *exc) -> None:
        spans = self.state.spans
        start = spans[id(self.start_node)][0] if self.start_node is not None else self.start
        end = spans[id(self.end_node)][1] if self.end_node is not None else self.state.offset
        spans[id(self.node)] = (start, end)


Anchor = Union[cst.CSTNode, tuple]


class Positions:
    """Positions for the nodes lowered from one LibCST module."""

    __slots__ = ("module", "text", "_spans", "_line_starts")

    def __init__(self, module: cst.Module, text: Optional[str] = None) -> None:
        self.module = module
        self.text = text  # the source parsed into `module`, when the caller has it
        self._spans: Optional[dict] = None
        self._line_starts: list[int] = []

    @property
    def computed(self) -> bool:
        """Whether this file has paid for its positions (benchmarks and tests read it)."""
        return self._spans is not None

    def _compute(self) -> dict:
        m = self.module
        state = _OffsetState(default_indent=m.default_indent, default_newline=m.default_newline)
        m._codegen(state)
        text = self.text if self.text is not None else m.code
        self._line_starts = [0] + [x.end() for x in _NEWLINE.finditer(text)]
        self._spans = state.spans
        return state.spans

    def _line_col(self, offset: int) -> tuple[int, int]:
        i = bisect.bisect_right(self._line_starts, offset) - 1
        return i + 1, offset - self._line_starts[i]

    def offsets(self, anchor: Anchor) -> tuple[int, int]:
        """[start, end) character offsets of a LibCST node, or of a `(first, last)` pair's span.

        Where the grammar's span is not LibCST's syntactic one, the grammar's wins: a tuple
        includes its parentheses, and a parameter spans its name and annotation (not `*`, `=`
        or the default)."""
        spans = self._spans if self._spans is not None else self._compute()
        if type(anchor) is tuple:
            return spans[id(anchor[0])][0], spans[id(anchor[1])][1]
        if isinstance(anchor, cst.Tuple) and anchor.lpar:
            return spans[id(anchor.lpar[0])][0], spans[id(anchor.rpar[-1])][1]
        if isinstance(anchor, cst.Param):
            last = anchor.name if anchor.annotation is None else anchor.annotation.annotation
            return spans[id(anchor.name)][0], spans[id(last)][1]
        return spans[id(anchor)]

    def span(self, anchor: Anchor) -> tuple[int, int, int, int]:
        """(line, column, end line, end column): 1-based lines, 0-based character columns."""
        start, end = self.offsets(anchor)
        return self._line_col(start) + self._line_col(end)
