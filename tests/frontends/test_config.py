"""[tool.lora-lint] in pyproject.toml: found by walking up, validated strictly, overridden by flags."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from analyzer.config import RuleLayer, resolve_selection
from analyzer.frontends import cli
from analyzer.rules import ALL_RULES
from tests.frontends.conftest import copy_data


def _lint(*args: str) -> tuple[int, list[tuple[str, str]]]:
    """(exit code, [(file name, code)]) of an in-process run."""
    out = io.StringIO()
    rc = cli.run([*args, "--no-cache", "--jobs", "1"], out=out)
    found = []
    for line in out.getvalue().splitlines():
        path, _, rest = line.partition(": ")
        found.append((Path(path.split(":")[0]).name, rest.split()[0]))
    return rc, sorted(found)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """tmp/proj/{pyproject.toml, src/*.py}; each test writes its own [tool.lora-lint]."""
    copy_data(tmp_path / "proj" / "src")
    return tmp_path / "proj"


def _config(project: Path, body: str) -> None:
    (project / "pyproject.toml").write_text(f"[project]\nname = 'x'\n\n[tool.lora-lint]\n{body}\n")


def test_config_found_by_walking_up_from_the_paths(project: Path):
    _config(project, 'ignore = ["LL202", "LL103"]')
    rc, found = _lint(str(project / "src" / "mixed.py"))
    assert found == [("mixed.py", "LL101"), ("mixed.py", "LL201")]
    assert rc == 1


def test_pyproject_without_the_table_is_passed_over(project: Path):
    _config(project, 'select = ["LL101"]')
    (project / "src" / "pyproject.toml").write_text("[tool.black]\nline-length = 100\n")
    assert _lint(str(project / "src" / "mixed.py"))[1] == [("mixed.py", "LL101")]


def test_command_line_overrides_the_file(project: Path):
    _config(project, 'select = ["LL101"]\nignore = ["LL2"]')
    mixed = str(project / "src" / "mixed.py")
    assert _lint(mixed)[1] == [("mixed.py", "LL101")]
    # --select starts afresh: the file's ignore no longer applies
    assert _lint(mixed, "--select", "LL2")[1] == [("mixed.py", "LL201"), ("mixed.py", "LL202")]
    assert _lint(mixed, "--extend-select", "LL103")[1] == [("mixed.py", "LL101"), ("mixed.py", "LL103")]
    assert _lint(mixed, "--extend-ignore", "LL101")[1] == []
    assert _lint(mixed, "--isolated")[1] == [("mixed.py", c) for c in ("LL101", "LL103", "LL201", "LL202")]


def test_extend_select_and_explicit_config_file(project: Path, tmp_path: Path):
    other = tmp_path / "other.toml"
    other.write_text('[tool.lora-lint]\nselect = ["LL1"]\nextend-select = ["LL201"]\nextend-ignore = ["LL103"]\n')
    assert _lint(str(project / "src" / "mixed.py"), "--config", str(other))[1] == [
        ("mixed.py", "LL101"), ("mixed.py", "LL201")]


def test_exclude_and_per_file_ignores(project: Path):
    (project / "src" / "generated").mkdir()
    (project / "src" / "generated" / "bad.py").write_text("def f():\n    return undefined_name\n")
    _config(project, 'exclude = ["generated", "src/noqa.py"]\n'
                     '[tool.lora-lint.per-file-ignores]\n"src/mixed.py" = ["LL2", "LL103"]\n"seed_*.py" = ["LL201"]')
    rc, found = _lint(str(project / "src"))
    assert found == [("mixed.py", "LL101")]
    # ruff's convention: a file named on the command line is linted although excluded...
    noqa = str(project / "src" / "noqa.py")
    assert _lint(noqa)[1] == [("noqa.py", "LL201"), ("noqa.py", "LL202")]
    # ...unless --force-exclude (the pre-commit hooks pass it) or `force-exclude = true`
    assert _lint(noqa, "--force-exclude") == (0, [])


def test_force_exclude_in_the_file(project: Path):
    _config(project, 'exclude = ["src/noqa.py"]\nforce-exclude = true')
    assert _lint(str(project / "src" / "noqa.py")) == (0, [])
    _config(project, 'force-exclude = "yes"')
    assert _lint(str(project / "src" / "noqa.py"))[0] == 2


def test_jobs_and_cache_dir_from_the_file(project: Path, monkeypatch):
    _config(project, 'jobs = 3\ncache-dir = "build/lint-cache"')
    seen = {}

    def fake_lint_files(files, selection, jobs, cache):
        seen.update(jobs=jobs, cache=cache.directory if cache else None)
        return []

    monkeypatch.setattr(cli, "lint_files", fake_lint_files)
    assert cli.run([str(project / "src")], out=io.StringIO()) == 0
    assert seen == {"jobs": 3, "cache": str(project / "build" / "lint-cache")}
    assert cli.run([str(project / "src"), "--jobs", "1", "--cache-dir", str(project / "c")], out=io.StringIO()) == 0
    assert seen == {"jobs": 1, "cache": str(project / "c")}


@pytest.mark.parametrize("body,reason", [
    ('selct = ["LL1"]', "unknown key(s) in [tool.lora-lint]: selct"),
    ('select = ["LL999"]', "unknown rule code or prefix 'LL999'"),
    ('ignore = "LL202"', "expected a list of strings"),
    ('extend-select = ["E501"]', "unknown rule code or prefix 'E501'"),
    ("jobs = 0", "expected a whole number of processes >= 1"),
    ('jobs = "4"', "expected a whole number of processes >= 1"),
    ('per-file-ignores = { "tests/*" = ["LL2O2"] }', "unknown rule code or prefix 'LL2O2'"),
    ("select = [", "not valid TOML"),
])
def test_bad_configuration_exits_2_with_the_reason(project: Path, capsys, body: str, reason: str):
    _config(project, body)
    out = io.StringIO()
    assert cli.run([str(project / "src")], out=out) == 2
    err = capsys.readouterr().err
    assert reason in err and "pyproject.toml" in err
    assert out.getvalue() == ""  # nothing linted with a partial configuration


def test_unknown_code_on_the_command_line_exits_2(capsys, project: Path):
    assert cli.run([str(project / "src"), "--extend-select", "LL9x"], out=io.StringIO()) == 2
    assert "unknown rule code or prefix 'LL9X'" in capsys.readouterr().err


def test_without_a_toml_reader_a_config_section_is_an_error(project: Path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tomllib", None)
    monkeypatch.setitem(sys.modules, "tomli", None)
    _config(project, 'select = ["LL1"]')
    assert cli.run([str(project / "src")], out=io.StringIO()) == 2
    assert "needs Python 3.11 or the `tomli` package" in capsys.readouterr().err
    # a pyproject.toml that does not configure lora-lint is no reason to fail
    (project / "pyproject.toml").write_text("[tool.black]\nline-length = 100\n")
    assert cli.run([str(project / "src"), "--no-cache"], out=io.StringIO()) == 1


def test_layers_follow_the_longest_match():
    codes = [r.code for r in ALL_RULES]
    assert resolve_selection().select == tuple(r.code for r in ALL_RULES if r.default_enabled)
    assert resolve_selection(RuleLayer(select=("LL2",), ignore=("LL202",))).select == ("LL201", "LL203", "LL204")
    assert resolve_selection(RuleLayer(ignore=("LL",))).enabled("LL201") is False
    assert resolve_selection(RuleLayer(ignore=("LL2",)), RuleLayer(extend_select=("LL202",))).select == tuple(
        c for c in codes if c not in ("LL201", "LL203", "LL204"))
