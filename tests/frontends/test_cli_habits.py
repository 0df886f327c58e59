"""ruff's command-line habits, each through the real `lora-lint` executable."""

from __future__ import annotations

import json
import os
import pty
import subprocess
from pathlib import Path

from tests.frontends.conftest import BIN, lora_lint, tool_env


def _text(proc: subprocess.CompletedProcess) -> tuple[int, str, str]:
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def test_diff_exits_1_while_fixes_are_pending(data_copy: Path):
    rc, out, err = _text(lora_lint("mixed.py", "--diff", "--no-cache", cwd=data_copy))
    assert rc == 1 and '+    if name in ("lora_A",):' in out
    assert "would fix 1 finding(s)" in err
    assert _text(lora_lint("clean.py", "--diff", "--no-cache", cwd=data_copy)) == (0, "", "")


def test_fix_with_diff_shows_the_diff_and_writes_nothing(data_copy: Path):
    before = (data_copy / "mixed.py").read_bytes()
    rc, out, _ = _text(lora_lint("mixed.py", "--fix", "--diff", "--no-cache", cwd=data_copy))
    assert rc == 1 and out.startswith("--- mixed.py\n+++ mixed.py\n")
    assert (data_copy / "mixed.py").read_bytes() == before


def test_unsafe_fixes_alone_says_what_it_needs(data_copy: Path):
    before = (data_copy / "seed_bug.py").read_bytes()
    rc, out, err = _text(lora_lint("seed_bug.py", "--unsafe-fixes", "--no-cache", cwd=data_copy))
    assert rc == 1 and "LL201" in out
    assert "--unsafe-fixes changes only what --fix and --diff apply; add --fix to apply the 1 unsafe fix(es)" in err
    assert (data_copy / "seed_bug.py").read_bytes() == before


def test_an_empty_folder_warns(tmp_path: Path):
    (tmp_path / "empty").mkdir()
    rc, out, err = _text(lora_lint("empty", "--no-cache", cwd=tmp_path))
    assert (rc, out) == (0, "")
    assert err == "lora-lint: warning: No Python files found under the given path(s)\n"


def test_an_excluded_file_named_is_linted_unless_force_exclude(data_copy: Path):
    (data_copy / "pyproject.toml").write_text('[tool.lora-lint]\nexclude = ["seed_bug.py"]\n')
    rc, out, _ = _text(lora_lint("seed_bug.py", "--no-cache", cwd=data_copy))
    assert rc == 1 and out.startswith("seed_bug.py:4:59: LL201")
    rc, out, err = _text(lora_lint("seed_bug.py", "--force-exclude", "--no-cache", cwd=data_copy))
    assert (rc, out) == (0, "") and "No Python files found" in err
    # a folder walk skips it either way
    assert "seed_bug.py" not in lora_lint(".", "--no-cache", cwd=data_copy).stdout.decode()


def _on_a_terminal(*args: str, cwd: Path) -> str:
    """stdout of `lora-lint ARGS` written to a pseudo-terminal, as a user sees it."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([str(BIN / "lora-lint"), *args], cwd=cwd, env=tool_env(), stdout=slave,
                            stderr=subprocess.DEVNULL)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert proc.wait(timeout=120) in (0, 1)
    return b"".join(chunks).decode().replace("\r\n", "\n")


def test_summary_line_on_a_terminal_only(data_copy: Path):
    shown = _on_a_terminal("mixed.py", "seed_bug.py", "--no-cache", cwd=data_copy)
    assert shown.endswith("\nFound 5 findings (1 fixable with --fix; 1 more with --fix --unsafe-fixes).\n"), shown
    assert _on_a_terminal("seed_bug.py", "mixed.py", "--unsafe-fixes", "--no-cache", cwd=data_copy).endswith(
        "\nFound 5 findings (2 fixable with --fix --unsafe-fixes).\n")
    assert _on_a_terminal("clean.py", "--no-cache", cwd=data_copy) == "All checks passed!\n"
    piped = lora_lint("mixed.py", "seed_bug.py", "--no-cache", cwd=data_copy).stdout.decode()
    assert "Found" not in piped and len(piped.splitlines()) == 5


def test_a_malformed_table_header_is_a_located_error(data_copy: Path):
    (data_copy / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.lora-lint\nselect = ["LL1"]\n')
    rc, out, err = _text(lora_lint(".", "--no-cache", cwd=data_copy))
    assert (rc, out) == (2, "")
    assert f"lora-lint: error: {data_copy / 'pyproject.toml'}:4:16: not valid TOML: " in err, err


def test_every_format_names_a_file_the_same_way(data_copy: Path):
    def paths(fmt: str) -> set[str]:
        out = lora_lint(".", "--format", fmt, "--no-cache", cwd=data_copy).stdout.decode()
        if fmt == "text":
            return {line.split(":")[0] for line in out.splitlines()}
        if fmt == "github":
            return {line.split("file=")[1].split(",")[0] for line in out.splitlines()}
        if fmt == "json":
            return {item["path"] for item in json.loads(out)}
        return {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                for r in json.loads(out)["runs"][0]["results"]}

    expected = {"mixed.py", "noqa.py", "seed_bug.py"}
    assert {fmt: paths(fmt) for fmt in ("text", "json", "github", "sarif")} == dict.fromkeys(
        ("text", "json", "github", "sarif"), expected)


def test_python_dash_m_analyzer_is_the_cli(data_copy: Path):
    proc = subprocess.run([str(BIN / "python"), "-m", "analyzer", "seed_bug.py", "--no-cache"], cwd=data_copy,
                          env=tool_env(), capture_output=True, timeout=120)
    assert proc.returncode == 1 and proc.stdout.decode().startswith("seed_bug.py:4:59: LL201")
    version = subprocess.run([str(BIN / "python"), "-m", "analyzer", "--version"], env=tool_env(),
                             capture_output=True, timeout=120)
    assert version.stdout.decode().startswith("lora-lint ")
