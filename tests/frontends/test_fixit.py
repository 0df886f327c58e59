"""The Fixit rule pack, through the real `fixit` executable in a virtualenv of its own.

Fixit pins `click<8.2` and huggingface-hub (from the dev extras' transformers and peft) needs a
newer click, so Fixit cannot share the dev environment: the test builds a clean virtualenv once per
session with `pip install -e .[fixit]` (which also shows that the pack needs neither torch, triton
nor peft). A failed install fails the tests; it is not a reason to skip them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from analyzer.engine import lint_source
from analyzer.fixes import apply_fixes, select_fixes
from analyzer.rules import ALL_RULES
from tests.frontends.conftest import REPO

SEED = REPO / "fixtures" / "bugs" / "01_get_lora_parameters_bias.py"
# Fixit's built-in rules are switched off so that every report is the pack's
CONFIG = '[tool.fixit]\nroot = true\nenable = ["analyzer.fixit"]\ndisable = ["fixit.rules"]\n'
TEMPLATE = "{path}|{start_line}|{start_col}|{rule_name}|{message}"


def _run(args: list[str], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def fixit_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `bin` folder of a clean virtualenv holding lora-lint[fixit], built once per session."""
    venv = tmp_path_factory.mktemp("fixit") / "venv"
    made = _run([sys.executable, "-m", "venv", str(venv)], cwd=venv.parent)
    assert made.returncode == 0, made.stderr
    bin_dir = venv / "bin"
    installed = _run([str(bin_dir / "python"), "-m", "pip", "install", "-q", "-e", f"{REPO}[fixit]"], cwd=venv.parent)
    assert installed.returncode == 0, f"pip install -e .[fixit] failed:\n{installed.stdout}\n{installed.stderr}"
    return bin_dir


def _project(tmp_path: Path, *files: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(CONFIG)
    for f in files:
        shutil.copy(f, tmp_path / f.name)
    return tmp_path


def _reports(stdout: str) -> list[tuple[str, int, int, str, str, bool]]:
    """(file name, line, column, rule, message, has an autofix) for each report Fixit printed."""
    out = []
    for line in stdout.splitlines():
        parts = line.split("|", 4)
        if len(parts) == 5:
            message = parts[4].removesuffix(" (has autofix)")
            out.append((Path(parts[0]).name, int(parts[1]), int(parts[2]), parts[3], message, message != parts[4]))
    return sorted(out)


def test_pack_installs_without_torch_and_covers_every_rule(fixit_bin: Path, tmp_path: Path):
    probe = ("import importlib.util, analyzer.fixit as pack, analyzer.fixit.extra as extra\n"
             "from fixit.config import walk_module\n"
             "print(sorted(r.CODE for r in walk_module(pack).values()), sorted(walk_module(extra)))\n"
             "print([m for m in ('torch', 'triton', 'peft') if importlib.util.find_spec(m)])\n")
    proc = _run([str(fixit_bin / "python"), "-c", probe], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    default_on = sorted(r.code for r in ALL_RULES if r.default_enabled)
    assert proc.stdout.splitlines() == [f"{sorted(default_on + ['LL000'])} ['PossiblyUnboundByContract']", "[]"]


def test_fixit_lint_reports_the_seed_bug_as_lora_lint_does(fixit_bin: Path, tmp_path: Path):
    project = _project(tmp_path, SEED)
    proc = _run([str(fixit_bin / "fixit"), "-o", "custom", "--output-template", TEMPLATE, "lint", SEED.name],
                cwd=project)
    assert proc.returncode == 1, proc.stderr
    [want] = lint_source(SEED.read_bytes(), SEED.name)
    # Fixit prints LibCST's 0-based columns
    assert _reports(proc.stdout) == [
        (SEED.name, want.line, want.column - 1, "UndefinedName", f"LL201 {want.message}", True)]
    assert "did you mean `base_layer.bias`" in want.message


def test_fixit_fix_applies_the_slot_fix(fixit_bin: Path, tmp_path: Path):
    project = _project(tmp_path, SEED)
    proc = _run([str(fixit_bin / "fixit"), "fix", "--automatic", SEED.name], cwd=project)
    assert proc.returncode == 0, proc.stderr
    fixed = (project / SEED.name).read_text()
    original = SEED.read_text()
    # the same edit as `lora-lint --fix --unsafe-fixes`
    assert fixed == apply_fixes(original, select_fixes(lint_source(original, SEED.name), unsafe=True)).text
    assert "return W, quant_state, None, None, None, base_layer.bias" in fixed and fixed != original
    again = _run([str(fixit_bin / "fixit"), "lint", SEED.name], cwd=project)
    assert again.returncode == 0, again.stdout


def test_same_findings_as_lora_lint_on_every_fixture(fixit_bin: Path, tmp_path: Path):
    files = sorted(p for sub in ("bugs", "clean") for p in (REPO / "fixtures" / sub).glob("*.py"))
    project = _project(tmp_path, *files)
    proc = _run([str(fixit_bin / "fixit"), "-o", "custom", "--output-template", TEMPLATE, "lint", "."], cwd=project)
    assert proc.returncode == 1, proc.stderr
    expected = sorted((p.name, d.line, d.column - 1, d.code, d.message, d.fix is not None)
                      for p in files for d in lint_source(p.read_bytes(), p.name))
    got = sorted((name, line, col, *msg.split(" ", 1), fixable) for name, line, col, _, msg, fixable in
                 _reports(proc.stdout))
    # the comparison covers many codes, positions and fixes
    assert len(expected) > 30 and len({e[3] for e in expected}) >= 8 and sum(e[5] for e in expected) >= 3
    assert got == expected


def test_fixit_test_runs_every_example_of_every_rule(fixit_bin: Path, tmp_path: Path):
    tested = _run([str(fixit_bin / "fixit"), "test", "analyzer.fixit", "analyzer.fixit.extra"], cwd=tmp_path)
    assert tested.returncode == 0, tested.stderr[-3000:]
    ran = re.search(r"Ran (\d+) tests", tested.stderr)
    examples = sum(len(r.VALID) + len(r.INVALID) for r in ALL_RULES)
    assert ran is not None and int(ran.group(1)) == examples


def test_lint_ignore_silences_a_finding(fixit_bin: Path, tmp_path: Path):
    project = _project(tmp_path)
    source = SEED.read_text().replace("bias  # LL201:50", "bias  # lint-ignore: UndefinedName")
    assert "lint-ignore" in source
    (project / "seed.py").write_text(source)
    proc = _run([str(fixit_bin / "fixit"), "lint", "seed.py"], cwd=project)
    assert proc.returncode == 0, proc.stdout
