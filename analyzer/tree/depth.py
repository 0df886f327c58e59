"""A guard in front of LibCST's native parser for code nested deeper than it can follow.

The parser recurses on the C stack once per nesting level: it crashes the whole process (SIGSEGV)
at some 10,000 nested prefix operators (`- - - a`) or 8,000 chained attributes (`a.b.b.b...`),
and long before that its time grows faster than linearly (3,000 chained attributes: 12 s). No
file that people write comes near; generated or hostile files can. This scan runs in C-speed
regex passes over the text, and a file it flags is reported (LL001) instead of being parsed.

The limits: 1,000 prefix operators in a row; 2,500 links in one chain of attribute, call,
subscript, binary-operator or conditional-expression links; and, as CPython itself refuses them,
more than 200 nested brackets ("too many nested parentheses").
"""

from __future__ import annotations

import re
from itertools import accumulate
from typing import Optional

__all__ = ["TooDeep", "check_depth", "MAX_PREFIX_RUN", "MAX_CHAIN", "MAX_BRACKETS"]

MAX_PREFIX_RUN = 1000
MAX_CHAIN = 2500
MAX_BRACKETS = 200  # CPython's tokenizer limit (MAXLEVEL)


class TooDeep(Exception):
    """Nesting the parser cannot follow; `line`, `column` (1-based) locate it, `reason` says how."""

    def __init__(self, line: int, column: int, reason: str) -> None:
        super().__init__(f"{reason} at line {line}, column {column}")
        self.line, self.column, self.reason = line, column, reason


# a maximal run of prefix operators, matched once per run (no backtracking over long lines)
_PREFIX = re.compile(r"(?:(?:[-+~]|\bnot\b|\bawait\b)[ \t]*)+")
# one link of a chain: `.name`, `(...)` or `[...]` without nested brackets, a binary operator
# followed by a simple operand, or `if x else`
_LINK = r"(?:\s*(?:\.\s*[A-Za-z_]\w*|\([^()\n]*\)|\[[^\[\]\n]*\]|(?:\*\*|//|<<|>>|[-+*/%@&|^])\s*[\w.]+|[\w.]+\s+if\b[^\n]{0,200}?\belse\b))"
_LINKS = re.compile(_LINK)
_STRING = re.compile(r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"|#.*")
_LONG_LINE = re.compile(r"^[^\n]{%d,}" % (MAX_BRACKETS + 1), re.MULTILINE)
_BRACKET = {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}


def _at(text: str, offset: int) -> tuple[int, int]:
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def check_depth(text: str) -> None:
    """Raise `TooDeep` where `text` nests deeper than the parser follows in reasonable time.

    Only long lines can hold such nesting (each level costs a character or more), so only lines of
    more than 200 characters are scanned: a handful per file, none in most."""
    for m in _LONG_LINE.finditer(text):
        line = _STRING.sub(lambda s: " " * len(s.group()), m.group())
        where = m.start()
        if len(line) > MAX_PREFIX_RUN:
            start = _prefix_run(line)
            if start is not None:
                raise TooDeep(*_at(text, where + start), f"more than {MAX_PREFIX_RUN} nested prefix operators")
        if len(line) > 2 * MAX_CHAIN:
            start = _chain(line)
            if start is not None:
                raise TooDeep(*_at(text, where + start), f"a chain of more than {MAX_CHAIN} nested operations")
        if line.count("(") + line.count("[") + line.count("{") > MAX_BRACKETS:
            col = _too_many_brackets(line)
            if col is not None:
                raise TooDeep(*_at(text, where + col), "too many nested parentheses")


def _prefix_run(line: str) -> Optional[int]:
    """Where more than MAX_PREFIX_RUN prefix operators in a row apply to an operand (a ruler of
    dashes in a comment or docstring is not an expression). One match per run: no backtracking."""
    for m in _PREFIX.finditer(line):
        ops = len(m.group().replace(" ", "").replace("\t", "").replace("not", "-").replace("await", "-"))
        if ops > MAX_PREFIX_RUN and m.end() < len(line) and (line[m.end()].isalnum() or line[m.end()] in "_([{.'\""):
            return m.start()
    return None


def _chain(line: str) -> Optional[int]:
    """Where more than MAX_CHAIN chain links follow each other with nothing between them."""
    start, end, count = -1, -1, 0
    for m in _LINKS.finditer(line):
        if m.start() == end:
            count += 1
        else:
            start, count = m.start(), 1
        end = m.end()
        if count > MAX_CHAIN:
            return start
    return None


def _too_many_brackets(line: str) -> Optional[int]:
    """The 0-based column where brackets on `line` (strings and comments blanked) nest too deep."""
    for col, depth in enumerate(accumulate(_BRACKET.get(c, 0) for c in line)):
        if depth > MAX_BRACKETS:
            return col
    return None
