"""`target-version`: the Python the linted code runs on. LibCST reads every grammar up to 3.14
under any interpreter; the target decides which statements are too new, and which builtins exist."""

from __future__ import annotations

import sys

import pytest

from analyzer.engine import lint_source
from analyzer.selection import Selection, parse_target_version
from analyzer.flow.names import builtins_for
from tests.frontends.conftest import lora_lint

# PEP 695 generics, a `type` alias and a nested f-string quote: 3.12 syntax
PY312 = '''\
type Pair[T] = tuple[T, T]


def first[T](p: Pair[T]) -> T:
    names = {"a": 1}
    label = f"{names["a"]}"
    return p[0] if label else p[1]
'''

MATCH = '''\
def kind(x):
    match x:
        case 1:
            return "one"
    return "other"
'''


def test_newer_syntax_than_the_interpreter_is_analysed_not_a_syntax_error():
    found = lint_source(PY312, "py312.py")
    assert [d for d in found if d.code == "LL001"] == []
    # and the analysis really ran: a bug in the same file is found
    found = lint_source(PY312 + "\n\ndef g(x):\n    if x:\n        y = x\n    return y\n", "py312.py")
    assert [(d.code, d.line) for d in found if d.code != "LL201"] == [("LL202", 13)], found


def test_type_parameters_are_bound_in_their_scope():
    found = lint_source(PY312, "py312.py")
    assert found == [], found


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="checks a grammar newer than the interpreter")
def test_the_interpreter_itself_cannot_parse_that_file():
    with pytest.raises(SyntaxError):
        compile(PY312, "py312.py", "exec")


@pytest.mark.parametrize("target,expected", [("3.9", [("LL001", 2, 5)]), ("3.10", []), (None, [])])
def test_match_needs_310(target, expected):
    found = lint_source(MATCH, "m.py", Selection(target_version=target))
    assert [(d.code, d.line, d.column) for d in found] == expected
    if expected:
        assert found[0].message == "syntax error: `match` statements need Python 3.10; target-version is 3.9"


def test_type_alias_and_generics_need_312():
    found = lint_source(PY312, "py312.py", Selection(target_version="3.11"))
    assert [(d.code, d.line) for d in found] == [("LL001", 1)]
    assert "`type` aliases need Python 3.12" in found[0].message


@pytest.mark.parametrize("text,version", [("py310", "3.10"), ("3.12", "3.12"), ("PY38", "3.8"), ("py27", None),
                                          ("3.99", None), ("latest", None)])
def test_versions_are_spelled_as_ruff_or_as_numbers(text, version):
    assert parse_target_version(text) == version


def test_builtins_follow_the_target():
    assert "ExceptionGroup" not in builtins_for("3.10")
    assert "ExceptionGroup" in builtins_for("3.11")
    assert "PythonFinalizationError" in builtins_for(None)
    assert "print" in builtins_for("3.8")
    src = "def f():\n    raise ExceptionGroup('x', [])\n"
    assert [d.code for d in lint_source(src, "e.py", Selection(target_version="3.10"))] == ["LL201"]
    assert lint_source(src, "e.py", Selection(target_version="3.11")) == []
    assert lint_source(src, "e.py") == []


def test_cli_flag_and_config(tmp_path):
    (tmp_path / "m.py").write_text(MATCH)
    run = lora_lint("--no-cache", "--target-version", "py39", "m.py", cwd=tmp_path)
    assert run.returncode == 2 and b"m.py:2:5: LL001" in run.stdout, run.stdout + run.stderr
    (tmp_path / "pyproject.toml").write_text('[tool.lora-lint]\ntarget-version = "py39"\n')
    run = lora_lint("--no-cache", "m.py", cwd=tmp_path)
    assert run.returncode == 2 and b"LL001" in run.stdout, run.stdout + run.stderr
    # the flag wins over the file
    run = lora_lint("--no-cache", "--target-version", "py311", "m.py", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize("value", ['"py2"', '3.10', '"newest"'])
def test_a_bad_target_version_is_a_config_error(tmp_path, value):
    (tmp_path / "m.py").write_text("x = 1\n")
    (tmp_path / "pyproject.toml").write_text(f"[tool.lora-lint]\ntarget-version = {value}\n")
    run = lora_lint("--no-cache", "m.py", cwd=tmp_path)
    assert run.returncode == 2 and b"target-version" in run.stderr, run.stderr
