"""Positions of analysis-tree nodes, computed from the LibCST tree on first use, one statement at a time.

LibCST keeps no positions in its nodes: `PositionProvider` regenerates the whole file and records
a `CodeRange` object per node, which costs more than the parse itself (2.4x on installed peft).
Nothing here is computed until a node's `lineno` (or another position) is first read, and then
only for the statement that holds it:

- each analysis node's `pos` is the `Unit` it was lowered from: a simple statement line, or the
  header of a compound statement or clause (`if x:`, `elif`, `else:`, `except E:`, `case p:`, a
  `def` with its decorators), with a one-line body (`if x: return`) counted in its header;
- units are the file's logical lines, in order (`analyzer.tree.logical_lines` finds where each
  starts with one regular-expression scan);
- a line asked of a unit on one physical line is that line, with no code generation at all;
- anything else (a column, a line inside a statement that spans lines) generates the code of
  that unit alone, recording the character offsets of its nodes, placed where the scan found it.

The generated text of a unit must equal the source where the scan placed it, and the scan must
find as many logical lines as the tree has units; otherwise (a construct the scan misreads) the
file falls back to one code generation pass over the whole module, as before. Either way the
ranges are LibCST's syntactic ones: the same start and end as `PositionProvider`, with 1-based
lines and 0-based character columns.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Optional, Union

import libcst as cst
from libcst._nodes.internal import CodegenState

from analyzer.tree.logical_lines import logical_lines

__all__ = ["Positions", "Unit"]

_NEWLINE = re.compile(r"\r\n?|\n")
_BLANK = " \t\f"


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


class _Stop(Exception):
    """Code generation of a unit reached the next unit (a block, a clause): the unit is done."""


@dataclass
class _UnitState(_OffsetState):
    """Code generation of one unit: keeps the text (to check it against the source) and stops at
    the next unit; a compound node left unfinished records its start in `starts`."""

    root: object = None
    units: dict = field(default_factory=dict)
    text: list = field(default_factory=list)
    starts: dict = field(default_factory=dict)

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.offset += len(token)
            self.text.append(token)

    def add_token(self, value: str) -> None:
        self.offset += len(value)
        self.text.append(value)

    def before_codegen(self, node: cst.CSTNode) -> None:
        if node is not self.root and (type(node) is cst.IndentedBlock or id(node) in self.units):
            raise _Stop
        self._stack.append(self.offset)


class _Syntactic:
    """The span of a node without the whitespace it owns (LibCST's syntactic position)."""

    __slots__ = ("state", "node", "start_node", "end_node", "start")

    def __init__(self, state: _OffsetState, node, start_node, end_node) -> None:
        self.state, self.node, self.start_node, self.end_node = state, node, start_node, end_node

    def __enter__(self) -> None:
        self.start = self.state.offset

    def __exit__(self, exc_type, *exc) -> None:
        spans = self.state.spans
        if exc_type is not None:
            if exc_type is _Stop:  # the header of a compound unit: its end is in its last unit
                self.state.starts[id(self.node)] = self.start
            return
        start = spans[id(self.start_node)][0] if self.start_node is not None else self.start
        end = spans[id(self.end_node)][1] if self.end_node is not None else self.state.offset
        spans[id(self.node)] = (start, end)


Anchor = Union[cst.CSTNode, tuple]


@dataclass
class _UnitInfo:
    line: int  # index of its first logical line
    indent: tuple  # the indentation tokens in force (one per enclosing block)
    last: object  # the last unit inside it (itself when it has no block)
    elif_: bool = False
    count: int = 1  # logical lines: a `def` or `class` counts its decorators


class _Broken(Exception):
    """The logical lines do not match the units: positions come from the whole module."""


class Positions:
    """Positions for the nodes lowered from one LibCST module."""

    __slots__ = ("module", "text", "_spans", "_line_starts", "_units", "_starts", "_single", "_uspans",
                 "_ustarts", "_done", "generated")

    def __init__(self, module: cst.Module, text: Optional[str] = None) -> None:
        self.module = module
        self.text = text  # the source parsed into `module`, when the caller has it
        self._spans: Optional[dict] = None  # the whole module's, once computed
        self._line_starts: list[int] = []
        self._units: Optional[dict] = None  # id(unit node) -> _UnitInfo
        self._starts: list[int] = []  # logical line starts
        self._single: list[bool] = []  # whether each logical line is one physical line
        self._uspans: dict = {}  # the offsets of the nodes of the units generated so far
        self._ustarts: dict = {}  # the starts of compound nodes whose header was generated
        self._done: set = set()
        self.generated = 0  # units whose code was generated (benchmarks read it)

    @property
    def computed(self) -> bool:
        """Whether this file has paid for the positions of the whole module (benchmarks and tests
        read it)."""
        return self._spans is not None

    def unit(self, node: cst.CSTNode) -> "Unit":
        return Unit(self, node)

    # ------------------------------------------------------------------ the whole module at once

    def _lines_of_text(self) -> None:
        if not self._line_starts:
            text = self.text if self.text is not None else self.module.code
            self.text = text
            self._line_starts = [0] + [x.end() for x in _NEWLINE.finditer(text)]

    def _compute(self) -> dict:
        m = self.module
        state = _OffsetState(default_indent=m.default_indent, default_newline=m.default_newline)
        m._codegen(state)
        self._lines_of_text()
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
        return _offsets(spans, anchor)

    def span(self, anchor: Anchor) -> tuple[int, int, int, int]:
        """(line, column, end line, end column): 1-based lines, 0-based character columns."""
        if anchor is self.module and self._spans is None:
            self._lines_of_text()
            return (1, 0) + self._line_col(len(self.text))
        start, end = self.offsets(anchor)
        return self._line_col(start) + self._line_col(end)

    def lines(self, anchor: Anchor) -> tuple[int, int]:
        span = self.span(anchor)
        return span[0], span[2]

    # ------------------------------------------------------------------------- one unit at a time

    def unit_span(self, unit: cst.CSTNode, anchor: Anchor) -> tuple[int, int, int, int]:
        if self._spans is None:
            try:
                start, end = self._unit_offsets(unit, anchor)
                return self._line_col(start) + self._line_col(end)
            except (_Broken, KeyError):
                pass
        return self.span(anchor)

    def unit_lines(self, unit: cst.CSTNode, anchor: Anchor) -> tuple[int, int]:
        """(line, end line) of `anchor`, without code generation where its unit is one line."""
        if self._spans is None:
            try:
                info = self._info(unit)
                if anchor is not unit or info.last is unit:
                    if not _has_decorators(unit) and self._single[info.line]:
                        line = self._line_col(self._starts[info.line])[0]
                        return line, line
                else:  # a compound statement: from its header to the end of its last unit
                    end = self._info(info.last)
                    end = end.line + end.count - 1  # the logical line it ends on
                    if not _has_decorators(unit) and self._single[info.line] and self._single[end]:
                        return self._line_col(self._starts[info.line])[0], self._line_col(self._starts[end])[0]
            except _Broken:
                pass
        span = self.unit_span(unit, anchor)
        return span[0], span[2]

    def _info(self, unit: cst.CSTNode) -> _UnitInfo:
        if self._units is None:
            self._find_units()
        info = self._units.get(id(unit))
        if info is None:
            raise _Broken
        return info

    def _find_units(self) -> None:
        self._lines_of_text()
        self._units = {}
        m = self.module
        found = _UnitFinder(self._units, m.default_indent)
        found.block(m.body, ())
        self._starts, ends = logical_lines(self.text)
        if found.count != len(self._starts):
            self._units = {}
            raise _Broken
        self._single = [self._line_col(s)[0] == self._line_col(e)[0] for s, e in zip(self._starts, ends)]

    def _unit_offsets(self, unit: cst.CSTNode, anchor: Anchor) -> tuple[int, int]:
        info = self._info(unit)
        if id(unit) not in self._done:
            self._generate(unit, info)
        if anchor is unit and info.last is not unit:
            last = info.last
            if id(last) not in self._done:
                self._generate(last, self._info(last))
            end_node = last if isinstance(last, cst.SimpleStatementLine) else last.body
            return self._ustarts[id(unit)], self._uspans[id(end_node)][1]
        return _offsets(self._uspans, anchor)

    def _generate(self, unit: cst.CSTNode, info: _UnitInfo) -> None:
        """Generate the code of one unit and record its nodes' offsets in the source."""
        m = self.module
        state = _UnitState(default_indent=m.default_indent, default_newline=m.default_newline,
                           indent_tokens=list(info.indent), root=unit, units=self._units)
        try:
            if info.elif_:
                unit._codegen(state, is_elif=True)
            else:
                unit._codegen(state)
        except _Stop:
            pass
        code = "".join(state.text)
        base = self._starts[info.line] - _first_token(code)
        if base < 0 or not (self.text.startswith(code, base) or self._ends_file(code, base)):
            raise _Broken
        self._uspans.update({k: (a + base, b + base) for k, (a, b) in state.spans.items()})
        self._ustarts.update({k: a + base for k, a in state.starts.items()})
        self._done.add(id(unit))
        self.generated += 1

    def _ends_file(self, code: str, base: int) -> bool:
        """The last line of a file without a final line break (code generation adds one)."""
        body = code.rstrip("\r\n")
        return len(code) - len(body) <= 2 and base + len(body) == len(self.text) and self.text.startswith(body, base)


class Unit:
    """The `pos` of the analysis nodes lowered from one unit (see the module docstring)."""

    __slots__ = ("file", "node")

    def __init__(self, file: Positions, node: cst.CSTNode) -> None:
        self.file = file
        self.node = node

    @property
    def module(self) -> cst.Module:
        return self.file.module

    def span(self, anchor: Anchor) -> tuple[int, int, int, int]:
        return self.file.unit_span(self.node, anchor)

    def lines(self, anchor: Anchor) -> tuple[int, int]:
        return self.file.unit_lines(self.node, anchor)


def _offsets(spans: dict, anchor: Anchor) -> tuple[int, int]:
    if type(anchor) is tuple:
        return spans[id(anchor[0])][0], spans[id(anchor[1])][1]
    if isinstance(anchor, cst.Tuple) and anchor.lpar:
        return spans[id(anchor.lpar[0])][0], spans[id(anchor.rpar[-1])][1]
    if isinstance(anchor, cst.Param):
        last = anchor.name if anchor.annotation is None else anchor.annotation.annotation
        return spans[id(anchor.name)][0], spans[id(last)][1]
    return spans[id(anchor)]


def _has_decorators(node: cst.CSTNode) -> bool:
    return bool(getattr(node, "decorators", None))


def _first_token(code: str) -> int:
    """Where the first token of a unit's code is: past its comment and blank lines, and its indent."""
    pos = 0
    for line in code.splitlines(keepends=True):
        rest = line.lstrip(_BLANK)
        if rest and rest[0] not in "#\r\n":
            return pos + len(line) - len(rest)
        pos += len(line)
    return pos


class _UnitFinder:
    """The units of a module in source order: each gets the index of its first logical line."""

    def __init__(self, units: dict, default_indent: str) -> None:
        self.units = units
        self.default_indent = default_indent
        self.count = 0

    def _add(self, node: cst.CSTNode, indent: tuple, lines: int = 1, elif_: bool = False) -> _UnitInfo:
        info = _UnitInfo(self.count, indent, node, elif_, lines)
        self.units[id(node)] = info
        self.count += lines
        return info

    def block(self, statements, indent: tuple) -> Optional[cst.CSTNode]:
        """Add the units of `statements`; the last one added."""
        last = None
        for s in statements:
            if isinstance(s, cst.SimpleStatementLine):
                self._add(s, indent)
                last = s
            else:
                last = self._compound(s, indent)
        return last

    def _body(self, owner_info: _UnitInfo, body, indent: tuple) -> None:
        if isinstance(body, cst.IndentedBlock):
            inner = indent + (self.default_indent if body.indent is None else body.indent,)
            owner_info.last = self.block(body.body, inner) or owner_info.last

    def _clause(self, node: cst.CSTNode, indent: tuple, elif_: bool = False) -> cst.CSTNode:
        """A clause (or a compound statement) with its block; the last unit inside it."""
        info = self._add(node, indent, 1 + len(getattr(node, "decorators", ()) or ()), elif_)
        if isinstance(node, cst.Match):
            inner = indent + (self.default_indent if node.indent is None else node.indent,)
            for case in node.cases:
                info.last = self._clause(case, inner)
            return info.last
        self._body(info, node.body, indent)
        for part in _clauses(node):
            info.last = self._clause(part, indent, elif_=isinstance(part, cst.If))
        return info.last

    def _compound(self, s: cst.CSTNode, indent: tuple) -> cst.CSTNode:
        return self._clause(s, indent)


def _clauses(node: cst.CSTNode) -> list:
    """The clauses after a compound statement's block, in source order."""
    out = list(getattr(node, "handlers", ()))
    orelse = getattr(node, "orelse", None)
    if orelse is not None:
        out.append(orelse)
    final = getattr(node, "finalbody", None)
    if final is not None:
        out.append(final)
    return out
