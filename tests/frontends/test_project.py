"""`--project`: the named files linted inside their project (what the pre-commit hooks run)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from analyzer.frontends import cli

HELPER = "def factors(layer):\n    return layer.A, layer.B\n"
CALLER = "from helper import factors\n\n\ndef step(layer):\n    a, b, s = factors(layer)\n    return a @ b * s\n"
OLD_BUG = "def unrelated():\n    return undefined_name\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (tmp_path / "helper.py").write_text(HELPER)
    (tmp_path / "train.py").write_text(CALLER)
    (tmp_path / "old.py").write_text(OLD_BUG)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _run(*args: str) -> tuple[int, list[str]]:
    out = io.StringIO()
    rc = cli.run([*args, "--no-cache", "--jobs", "1"], out=out)
    return rc, [line.split(" ")[0] + " " + line.split(" ")[1] for line in out.getvalue().splitlines()]


def test_a_named_caller_is_checked_against_the_project(project: Path):
    assert _run("train.py") == (0, [])  # alone, the callee is unknown
    assert _run("train.py", "--project") == (1, ["train.py:5:5: LL301"])


def test_a_named_callee_reports_the_callers_it_breaks_and_nothing_else(project: Path):
    assert _run("helper.py") == (0, [])
    # old.py's own finding is not about helper.py: not reported
    assert _run("helper.py", "--project") == (1, ["train.py:5:5: LL301"])


def test_project_context_is_never_fixed_or_given_noqa(project: Path):
    (project / "helper.py").write_text(HELPER + "\n\ndef names():\n    return [n for n in ('q_proj')]\n")
    before = (project / "train.py").read_bytes(), (project / "old.py").read_bytes()
    assert _run("helper.py", "--project", "--add-noqa")[0] == 0
    assert ((project / "train.py").read_bytes(), (project / "old.py").read_bytes()) == before
    assert "# noqa: LL103" in (project / "helper.py").read_text()


def test_the_project_root_is_the_configuration_folder(project: Path):
    sub = project / "pkg"
    sub.mkdir()
    os.replace(project / "train.py", sub / "train.py")
    (sub / "__init__.py").write_text("")
    # named from inside pkg/, the project is still the folder with pyproject.toml
    os.chdir(sub)
    assert _run("train.py", "--project") == (1, ["train.py:5:5: LL301"])
