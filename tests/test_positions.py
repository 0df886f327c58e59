"""Positions computed one statement at a time (analyzer.tree.positions) equal those of one code
generation pass over the whole module, for every node, on constructs that span lines, share a
line, or carry decorators and clauses; lines alone come without generating code where the
statement is one line; a text the logical-line scan misreads falls back to the whole module."""

from __future__ import annotations

import pytest

from analyzer import tree as T
from analyzer.tree.logical_lines import logical_lines

SNIPPETS = {
    "simple": "x = 1\ny = x + 2\n",
    "multi-line call": "foo(\n    a,\n    b=[1,\n       2],\n)\nz = 3\n",
    "comments and blanks": "# head\n\nx = 1  # trailing\n\n    # odd indent comment\ny = 2\n",
    "decorators": "@a\n@b(\n    1)\n\ndef f(x,\n      y: int = 2) -> int:\n    return x\n\n@c\nclass C(B): ...\n",
    "if elif else": "if a:\n    x = 1\nelif b: x = 2\nelif (c and\n      d):\n    pass\nelse:\n    x = 3\n",
    "one-line suites": "if a: b = 1; c = 2\nwhile x: x -= 1\nfor i in r: pass\nelse: y = 0\n",
    "try": "try:\n    a()\nexcept (E,\n        F) as e:\n    b()\nexcept G: pass\nelse:\n    c()\nfinally:\n    d()\n",
    "nested": "class A:\n    def f(self):\n        with open(p) as h, q:\n            for a, b in h:\n"
              "                if a:\n                    return b\n        return (1,\n                2)\n",
    "match": "match cmd:\n    case [x, y]:\n        pass\n    case {'k': v} if v: w = 1\n    case _:\n        z = (1,\n             2)\n",
    "strings": "s = '''a\n(b\n'''\nt = \"#(\" + 'x\\'y'\nu = f'{a!r:>{w}}' r'\\d'\nv = (\"a\"\n     \"b\")\n",
    "backslash": "x = 1 + \\\n    2\nif a and \\\n        b:\n    pass\n",
    "crlf": "x = (1,\r\n     2)\r\nif a:\r\n    b = 1\r\n",
    "tabs": "if a:\n\tb = 1\n\tif c:\n\t\td = (1,\n\t\t     2)\n",
    "no final newline": "def f():\n    return 1",
    "subscript tuple": "x[a, b] = c[1:2, ::3]\n(p, q) = r\n",
    "async": "async def f():\n    async with a as b:\n        async for c in d:\n            await e\n",
    "lambda and comprehension": "f = lambda a, *b, c=1, **d: [x for x in a if x]\n",
    "walrus and star": "if (n := len(a)) > 1:\n    first, *rest = a\n",
}


def _full(text: str) -> list:
    _, tree = T.parse(text)
    return [(n.pos.file if hasattr(n.pos, "file") else n.pos).span(n.cst) for n in T.walk(tree) if n.pos is not None]


def _by_unit(text: str):
    _, tree = T.parse(text)
    nodes = [n for n in T.walk(tree) if n.pos is not None]
    lines = [(n.lineno, n.end_lineno) for n in nodes]
    spans = [(n.lineno, n.col_offset, n.end_lineno, n.end_col_offset) for n in nodes]
    return tree, lines, spans


@pytest.mark.parametrize("text", SNIPPETS.values(), ids=SNIPPETS.keys())
def test_unit_positions_equal_the_whole_module_pass(text):
    expected = _full(text)
    tree, lines, spans = _by_unit(text)
    assert spans == [tuple(s) for s in expected]
    assert lines == [(s[0], s[2]) for s in expected]
    assert not tree.pos.computed  # no fallback: every unit was placed by the scan


def test_lines_of_one_line_statements_need_no_code_generation():
    _, tree = T.parse("def f(a):\n    if a:\n        b = 1\n    return b\n")
    assert sorted(n.lineno for n in T.walk(tree) if isinstance(n, T.Name)) == [2, 3, 4]
    assert tree.pos.generated == 0 and not tree.pos.computed
    ret = tree.body[0].body[-1]
    assert (ret.lineno, ret.col_offset) == (4, 4) and tree.pos.generated == 1


def test_a_misread_text_falls_back_to_the_whole_module():
    # as if the scan had missed a logical line: placing the units is refused, positions stay exact
    text = "x = 1\ny = 2\n"
    _, tree = T.parse(text)
    from analyzer.tree import positions

    real = positions.logical_lines
    positions.logical_lines = lambda t: ([0], [5])
    try:
        y = tree.body[1].targets[0]
        assert (y.lineno, y.col_offset) == (2, 0)
    finally:
        positions.logical_lines = real
    assert tree.pos.computed


def test_logical_lines_skip_blank_comment_and_continued_lines():
    text = "a = (1,\n  2)\n\n# c\nb = '''\nx\n'''\nc = 1 + \\\n  2\n"
    starts, ends = logical_lines(text)
    assert [text[s] for s in starts] == ["a", "b", "c"]
    assert [text[e] for e in ends] == ["\n", "\n", "\n"]
