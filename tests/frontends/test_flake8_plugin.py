"""The flake8 plugin, through the real `flake8` executable: same findings as `lora-lint`, and
flake8's own selection, noqa, per-file-ignores and default-ignore mechanisms apply."""

from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path


from analyzer.frontends.cli import run
from tests.frontends.conftest import REPO, copy_data, flake8, lora_lint, run_tool

SEED_LINE = ("4:59: LL201 undefined name `bias`: nothing in `get_lora_parameters`, the module or builtins binds it; "
             "did you mean `base_layer.bias`, as returned at line 7?")


def _ll_lines(stdout: bytes) -> list[str]:
    return sorted(line for line in stdout.decode().splitlines() if ": LL" in line)


def _lora_lint_per_file(paths: list[Path], *args: str) -> list[str]:
    """What `lora-lint FILE` prints for each file alone (flake8 sees one file at a time)."""
    lines = []
    for p in paths:
        out = io.StringIO()
        run([str(p), "--no-cache", "--jobs", "1", "--isolated", *args], out=out)
        lines.extend(out.getvalue().splitlines())
    return sorted(lines)


def test_plugin_is_registered():
    proc = flake8("--version")
    assert proc.returncode == 0
    assert b"lora-lint: 0." in proc.stdout


def test_seed_bug_is_reported_as_ll201_at_the_same_place_as_lora_lint(data_copy: Path):
    rel = "data/seed_bug.py"
    proc = flake8("--select", "LL", rel, cwd=data_copy.parent)
    assert proc.returncode == 1
    assert proc.stdout.decode().splitlines() == [f"{rel}:{SEED_LINE}"]
    assert lora_lint(rel, "--no-cache", cwd=data_copy.parent).stdout == proc.stdout


def test_same_findings_as_lora_lint_on_every_fixture(tmp_path: Path):
    copy_data(tmp_path / "data")
    shutil.copytree(REPO / "fixtures", tmp_path / "fixtures")
    files = sorted(tmp_path.rglob("*.py"))
    selected = flake8("--select", "LL", *map(str, files), cwd=tmp_path)
    # default selection: the plugin's default-on codes are in it
    plain = flake8("--isolated", *map(str, files), cwd=tmp_path)
    expected = _lora_lint_per_file(files)
    # the comparison must cover many codes and positions
    assert len(expected) > 30 and len({line.split(": ")[1].split()[0] for line in expected}) >= 6
    assert _ll_lines(plain.stdout) == expected
    # `flake8 --select LL` (how flake8 users turn a plugin's prefix on) gives the default rules,
    # exactly what `lora-lint` reports; an opt-in rule is named by its full code
    assert _ll_lines(selected.stdout) == expected
    everything = _lora_lint_per_file(files, "--select", "LL")
    opted = flake8("--select", "LL", "--extend-select", "LL204", *map(str, files), cwd=tmp_path)
    assert _ll_lines(opted.stdout) == everything and len(everything) > len(expected)


def test_noqa_is_respected(data_copy: Path):
    lines = _ll_lines(flake8("--select", "LL", "noqa.py", cwd=data_copy).stdout)
    # E501 does not cover LL201; F821 (its pyflakes twin) and LL2 do; type: ignore[possibly-undefined] covers LL202
    assert sorted(line.split(": ")[0].split(":", 1)[1] for line in lines) == ["46:26", "9:29"]


def test_select_and_extend_ignore(data_copy: Path):
    def codes(proc) -> list[str]:
        return sorted(line.split(": ")[1].split()[0] for line in _ll_lines(proc.stdout))

    assert codes(flake8("--select", "LL2", "mixed.py", cwd=data_copy)) == ["LL201", "LL202"]
    assert codes(flake8("--select", "LL", "--extend-ignore", "LL202,LL103", "mixed.py", cwd=data_copy)) == [
        "LL101", "LL201"]
    assert codes(flake8("--select", "LL101", "mixed.py", cwd=data_copy)) == ["LL101"]


def test_per_file_ignores_from_a_flake8_config(data_copy: Path):
    (data_copy / ".flake8").write_text("[flake8]\nselect = LL\nper-file-ignores =\n    seed_bug.py: LL201\n"
                                       "    mixed.py: LL1\n")
    proc = run_tool([sys.executable, "-m", "flake8", "seed_bug.py", "mixed.py"], cwd=data_copy)
    codes = sorted(line.split(": ")[1].split()[0] for line in _ll_lines(proc.stdout))
    assert codes == ["LL201", "LL202"]  # mixed.py's LL201 and LL202 only


def test_default_off_rule_uses_flakes_default_ignore(data_copy: Path):
    """A rule with `default_enabled = False` is silent in plain flake8 and shown when named by its
    code, as lora-lint treats it (a helper turns LL202 into such a rule for this test)."""
    rel = str(data_copy / "mixed.py")
    helper = str(Path(__file__).with_name("default_off.py"))

    def codes(tool: str, *args: str) -> list[str]:
        proc = run_tool([sys.executable, helper, tool, *args, rel], cwd=REPO)
        return sorted(line.split(": ")[1].split()[0] for line in _ll_lines(proc.stdout))

    assert codes("flake8", "--isolated") == ["LL101", "LL103", "LL201"]
    assert codes("lora-lint", "--isolated", "--no-cache") == codes("flake8", "--isolated")
    for flags in (["--extend-select", "LL202"], ["--select", "LL202"]):
        assert codes("flake8", "--isolated", *flags) == codes("lora-lint", "--isolated", "--no-cache", *flags), flags
    assert "LL202" in codes("flake8", "--isolated", "--extend-select", "LL202")
    # a prefix is how flake8 users switch a plugin on: it keeps the opt-in rule off
    assert codes("flake8", "--isolated", "--select", "LL") == ["LL101", "LL103", "LL201"]
    assert codes("flake8", "--isolated", "--select", "LL2") == ["LL201"]


def test_disable_noqa_shows_silenced_findings(data_copy: Path):
    lines = _ll_lines(flake8("--select", "LL", "--disable-noqa", "noqa.py", cwd=data_copy).stdout)
    assert len(lines) == 8
