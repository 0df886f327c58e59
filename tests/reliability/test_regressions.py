"""Failures this reliability work found in the flow analysis and the rules, fixed since; each test
is the minimal reproducer, kept so they stay fixed."""

from __future__ import annotations

import pytest

from analyzer.engine import lint_source
from analyzer.fixes import apply_fixes, select_fixes


def test_slot_fixes_converge_when_the_sibling_is_undefined_too():
    # the LL201 slot fix offered each undefined name the other's text: every
    # `--fix --unsafe-fixes` run swapped them again
    src = "def get(p):\n    if p:\n        return 1, bias\n    return 2, other\n"
    once = apply_fixes(src, select_fixes(lint_source(src, "a.py"), unsafe=True)).text
    twice = apply_fixes(once, select_fixes(lint_source(once, "a.py"), unsafe=True)).text
    assert twice == once


_LEGAL_1000_DEEP = {
    "operator_chain": "a = 1\nx = " + " + ".join(["a"] * 1000) + "\n",
    "string_concatenation": "s = " + " + ".join(["'part'"] * 1000) + "\n",
    "elif_chain": ("def f(c):\n    x = -1\n    if c == 0:\n        x = 0\n"
                   + "".join(f"    elif c == {i}:\n        x = {i}\n" for i in range(1, 1000)) + "    return x\n"),
    "method_chain": "import os\nx = os" + ".b()" * 500 + "\n",
}


@pytest.mark.parametrize("src", _LEGAL_1000_DEEP.values(), ids=_LEGAL_1000_DEEP.keys())
def test_legal_code_1000_deep_is_analysed(src):
    # the flow analysis recursed once per AST level and stopped at the default recursion limit
    # (1000): code that CPython compiles got LL000 and the run exited 2
    compile(src, "deep.py", "exec")
    src += "print(undefined_after_the_deep_code)\n"
    found = lint_source(src, "deep.py")
    assert [(d.code, d.line) for d in found] == [("LL201", src.count("\n"))]
