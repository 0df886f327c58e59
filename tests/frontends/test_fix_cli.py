"""`--fix`, `--unsafe-fixes` and `--diff` on the command line (the fixes themselves are the
engine's, tested in tests/test_fixes.py)."""

from __future__ import annotations

import io
from pathlib import Path

from analyzer.frontends import cli


def _run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    rc = cli.run([*args, "--isolated", "--no-cache", "--jobs", "1"], out=out)
    return rc, out.getvalue()


def test_fix_applies_safe_fixes_and_reports_the_rest(data_copy: Path, capsys):
    mixed = data_copy / "mixed.py"
    before = mixed.read_text(encoding="utf-8")
    rc, text = _run(str(mixed), "--fix")
    after = mixed.read_text(encoding="utf-8")
    assert after == before.replace('("lora_A")', '("lora_A",)')
    assert rc == 1 and "LL103" not in text and "LL202" in text
    assert f"fixed 1 file(s): {mixed}" in capsys.readouterr().err
    assert _run(str(mixed), "--fix") == (rc, text)  # idempotent


def test_unsafe_fixes_only_when_asked(data_copy: Path):
    seed = data_copy / "seed_bug.py"
    before = seed.read_bytes()
    rc, text = _run(str(seed), "--fix")
    assert seed.read_bytes() == before and rc == 1 and "LL201" in text
    rc, text = _run(str(seed), "--fix", "--unsafe-fixes")
    assert b"None, None, base_layer.bias\n" in seed.read_bytes()
    assert (rc, text) == (0, "")


def test_diff_changes_nothing_and_exits_1_with_fixes_pending(data_copy: Path):
    seed = data_copy / "seed_bug.py"
    before = seed.read_bytes()
    rc, text = _run(str(seed), "--diff", "--unsafe-fixes")
    assert rc == 1 and seed.read_bytes() == before  # ruff: a pending fix fails --diff
    assert "+        return base_layer.weight, None, None, None, None, base_layer.bias\n" in text
    assert _run(str(data_copy / "clean.py"), "--diff") == (0, "")


def test_ignored_findings_are_not_fixed(data_copy: Path):
    mixed = data_copy / "mixed.py"
    before = mixed.read_bytes()
    rc, text = _run(str(mixed), "--fix", "--ignore", "LL103")
    assert mixed.read_bytes() == before and "LL103" not in text


def test_fix_refuses_stdin(data_copy: Path):
    assert _run("-", "--fix")[0] == 2
