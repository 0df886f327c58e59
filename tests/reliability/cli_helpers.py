"""Running the real command line on real files, for the reliability tests."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from analyzer.frontends import cli

SEED = "def f():\n    return undefined_seed\n"
SEED_FINDING = ("seed.py", 2, 12, "LL201")
SUBPROCESS_TIMEOUT = 120


@dataclass
class Run:
    code: int
    findings: list[dict]
    stderr: str

    def at(self, name: str) -> list[tuple[int, int, str, str]]:
        """(line, column, code, message) of the findings in the file or folder entry `name`."""
        return [(d["line"], d["column"], d["code"], d["message"]) for d in self.findings
                if os.path.basename(d["path"]) == name]

    def codes(self, name: str) -> list[str]:
        return [c for _, _, c, _ in self.at(name)]

    def assert_seed_reported(self) -> None:
        name, line, col, code = SEED_FINDING
        assert [(ln, c, k) for ln, c, k, _ in self.at(name)] == [(line, col, code)], self.findings

    def assert_no_traceback(self) -> None:
        assert "Traceback" not in self.stderr and "Error:" not in self.stderr, self.stderr

    def assert_unreadable(self, name: str, why: str) -> None:
        """`name` got one LL003 saying `why`, the run exited 2, and it went on: the seed file was
        still linted and nothing crashed."""
        found = self.at(name)
        assert [f[:3] for f in found] == [(1, 1, "LL003")], self.findings
        assert why in found[0][3]
        assert self.code == 2
        self.assert_seed_reported()
        self.assert_no_traceback()


def lint(capsys, *paths: Path | str) -> Run:
    """The CLI in this process: `lora-lint --format json PATH...`."""
    capsys.readouterr()
    out = io.StringIO()
    code = cli.run(["--format", "json", *map(str, paths)], out=out)
    err = capsys.readouterr().err
    return Run(code, json.loads(out.getvalue() or "[]"), err)


def lint_subprocess(*paths: Path | str, cwd: Path | None = None, extra: tuple[str, ...] = ()) -> Run:
    """`python -m analyzer.frontends.cli --format json PATH...` in a child process (with a timeout,
    so a hang fails the test instead of blocking the run)."""
    proc = subprocess.run([sys.executable, *extra, "-m", "analyzer.frontends.cli", "--format", "json", *map(str, paths)],
                          capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT, cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    return Run(proc.returncode, json.loads(proc.stdout or "[]"), proc.stderr)
