"""Fixes end to end on files: exact expected output, idempotence, bytes kept, atomic and safe writes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from analyzer import fixes
from analyzer.engine import lint_source
from analyzer.fixes import fix_files

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "fixes"
CASES = sorted(p for p in FIXTURES.glob("*.py") if not p.name.endswith(".fixed.py"))


def _fix(path: Path, unsafe: bool = True, write: bool = True):
    raw = path.read_bytes()
    return fix_files(lint_source(raw, str(path)), {str(path): raw}, unsafe=unsafe, write=write)


@pytest.mark.parametrize("case", CASES, ids=[p.name for p in CASES])
def test_fix_matches_expected_file_and_is_idempotent(case: Path, tmp_path: Path):
    work = tmp_path / case.name
    shutil.copy(case, work)
    out = _fix(work)
    assert out.written == [str(work)]
    assert work.read_bytes() == case.with_suffix("").with_suffix(".fixed.py").read_bytes()
    again = _fix(work)
    assert again.written == [] and again.diff == ""


def test_seed_fix_is_unsafe_so_not_applied_without_the_flag(tmp_path: Path):
    work = tmp_path / "seed.py"
    shutil.copy(FIXTURES / "seed_bias.py", work)
    before = work.read_bytes()
    out = _fix(work, unsafe=False)
    assert out.written == [] and work.read_bytes() == before
    assert any("did you mean `base_layer.bias`" in d.message for d in out.remaining)


def test_diff_only_previews(tmp_path: Path):
    work = tmp_path / "seed.py"
    shutil.copy(FIXTURES / "seed_bias.py", work)
    before = work.read_bytes()
    out = _fix(work, write=False)
    assert work.read_bytes() == before
    assert "-        return W, quant_state, None, None, None, bias\n" in out.diff
    assert "+        return W, quant_state, None, None, None, base_layer.bias\n" in out.diff


def test_crlf_latin1_and_mode_are_kept(tmp_path: Path):
    work = tmp_path / "crlf.py"
    src = "# -*- coding: latin-1 -*-\r\n# caf\xe9\r\ndef f(n):\r\n    return n in ('q_proj')\r\n"
    work.write_bytes(src.encode("latin-1"))
    os.chmod(work, 0o750)
    out = _fix(work)
    assert out.written == [str(work)]
    assert work.read_bytes() == src.replace("('q_proj')", "('q_proj',)").encode("latin-1")
    assert os.stat(work).st_mode & 0o777 == 0o750


def test_file_changed_since_read_is_left_alone(tmp_path: Path):
    work = tmp_path / "seed.py"
    shutil.copy(FIXTURES / "lora_targets.py", work)
    raw = work.read_bytes()
    diags = lint_source(raw, str(work))
    work.write_bytes(raw + b"# edited meanwhile\n")
    out = fix_files(diags, {str(work): raw}, unsafe=True, write=True)
    assert out.written == [] and out.problems
    assert work.read_bytes().endswith(b"# edited meanwhile\n")


def test_failed_write_leaves_original_and_no_temp_file(tmp_path: Path, monkeypatch):
    work = tmp_path / "seed.py"
    shutil.copy(FIXTURES / "lora_targets.py", work)
    before = work.read_bytes()

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(fixes.os, "replace", boom)
    out = _fix(work)
    assert out.written == [] and "disk full" in out.problems[0]
    assert work.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seed.py"]


# characters before the flagged expression that UTF-8 spells in several bytes: every column of
# the finding and of its fix counts characters
NON_ASCII = {
    "ll103": ('note = "ééé"; TARGETS = [m for m in ("q_proj")]\n',
              'note = "ééé"; TARGETS = [m for m in ("q_proj",)]\n', "LL103", 38),
    "ll201": ('def get(base_layer, disabled):\n'
              '    if disabled:\n'
              '        return base_layer.weight, "é—é", bias\n'
              '    return base_layer.weight, "é—é", base_layer.bias\n',
              'def get(base_layer, disabled):\n'
              '    if disabled:\n'
              '        return base_layer.weight, "é—é", base_layer.bias\n'
              '    return base_layer.weight, "é—é", base_layer.bias\n', "LL201", 42),
}


@pytest.mark.parametrize("src,fixed,code,column", NON_ASCII.values(), ids=NON_ASCII.keys())
def test_findings_and_fixes_on_non_ascii_lines(tmp_path: Path, src, fixed, code, column):
    work = tmp_path / "m.py"
    work.write_text(src, encoding="utf-8")
    found = lint_source(work.read_bytes(), str(work))
    assert [(d.code, d.column) for d in found] == [(code, column)], found
    _fix(work)
    assert work.read_text(encoding="utf-8") == fixed
