"""Where each logical line of a source text starts, found with one regular-expression scan.

A logical line is what Python's tokenizer ends with a NEWLINE token: a simple statement line, a
compound statement's header (`if x:`, `else:`, `def f(...):`), a decorator. Blank lines and
comment-only lines are not logical lines, and a line break inside brackets or after a backslash
continues one. Every logical line is one statement-level LibCST node (see
`analyzer.tree.positions`), in source order, so the start of the k-th logical line is where the
k-th such node's first token sits: positions can then be computed for one statement at a time.

The scan knows strings (any prefix, single or triple quoted), comments, brackets and
continuations. It is not a tokenizer: a construct it misreads (the nested quotes of a Python 3.12
f-string can be) shows up as a statement whose regenerated text does not match the source where
the scan placed it, and the caller then computes positions for the whole file instead.
"""

from __future__ import annotations

import re

__all__ = ["logical_lines"]

_SCAN = re.compile(
    r"""
    (?P<s>'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*'''
        |\"\"\"[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*\"\"\"
        |'[^'\\\r\n]*(?:\\(?:\r\n|.)[^'\\\r\n]*)*'
        |"[^"\\\r\n]*(?:\\(?:\r\n|.)[^"\\\r\n]*)*")
    |(?P<c>\#[^\r\n]*)
    |(?P<o>[(\[{])
    |(?P<x>[)\]}])
    |(?P<b>\\(?:\r\n|\r|\n))
    |(?P<n>\r\n|\r|\n)
    |(?P<t>[^'"\#()\[\]{}\\\r\n]+|\\)
    """,
    re.S | re.X,
)
_BLANK = " \t\f"


def logical_lines(text: str) -> tuple[list[int], list[int]]:
    """The offsets of the first token of every logical line of `text`, in order, and of the line
    break that ends each (the length of the text for a last line without one)."""
    starts: list[int] = []
    ends: list[int] = []
    append = starts.append
    depth = 0
    at_start = True  # no token yet on the current logical line
    for m in _SCAN.finditer(text):
        kind = m.lastgroup
        if kind == "t":
            if at_start:
                s = m.group()
                rest = s.lstrip(_BLANK)
                if rest:
                    append(m.start() + len(s) - len(rest))
                    at_start = False
        elif kind == "n":
            if depth == 0 and not at_start:
                ends.append(m.start())
                at_start = True
        elif kind == "s":
            if at_start:
                append(m.start())
                at_start = False
        elif kind == "o":
            if at_start:
                append(m.start())
                at_start = False
            depth += 1
        elif kind == "x":
            if at_start:
                append(m.start())
                at_start = False
            if depth:
                depth -= 1
        # comments and continuations neither start nor end a logical line
    if len(ends) < len(starts):
        ends.append(len(text))
    return starts, ends
