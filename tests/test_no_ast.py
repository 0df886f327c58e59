"""The findings come from LibCST's tree alone: with Python's `ast` parser blocked, the CLI's output
on the shipped fixtures is byte for byte the same, and not empty."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# run the CLI with every way to get an `ast` tree from CPython made to raise
_BLOCKED = """
import ast, builtins, sys
def _no_ast(*args, **kwargs):
    raise RuntimeError("ast parsing is blocked in this run")
_compile = builtins.compile
def _compile_without_ast(source, filename, mode, flags=0, *args, **kwargs):
    if flags & ast.PyCF_ONLY_AST:
        raise RuntimeError("ast parsing is blocked in this run")
    return _compile(source, filename, mode, flags, *args, **kwargs)
ast.parse = _no_ast
builtins.compile = _compile_without_ast
from analyzer.frontends.cli import main
sys.argv = ["lora-lint", *sys.argv[1:]]
main()
"""


def _lint(*prelude: str) -> subprocess.CompletedProcess:
    args = ["fixtures", "--no-cache", "--select", "LL", "--jobs", "1"]
    cmd = [sys.executable, "-c", _BLOCKED, *args] if prelude else [sys.executable, "-m", "analyzer", *args]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)


def test_findings_on_the_fixtures_do_not_depend_on_ast():
    normal = _lint()
    blocked = _lint("blocked")
    assert "blocked" not in blocked.stderr, blocked.stderr
    assert normal.returncode == blocked.returncode == 1, (normal.stderr, blocked.stderr)
    assert normal.stdout.count("\n") > 50
    assert blocked.stdout == normal.stdout
