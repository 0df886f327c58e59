"""Shared helpers: the real executables of this virtualenv, run in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"
REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def tool_env() -> dict[str, str]:
    """The environment for a subprocess: this venv's scripts first, no network proxy reachable."""
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.pop("PYTHONPATH", None)
    return env


def run_tool(args: list[str], cwd: Path, input: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=tool_env(), input=input, capture_output=True, timeout=120)


def flake8(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return run_tool([sys.executable, "-m", "flake8", *args], cwd)


def lora_lint(*args: str, cwd: Path = REPO, input: bytes | None = None) -> subprocess.CompletedProcess:
    return run_tool([str(BIN / "lora-lint"), *args], cwd, input)


def copy_data(dst: Path) -> Path:
    """tests/frontends/data/*.py.txt copied into `dst` as .py files. The samples are kept as .txt
    so that the repository's own lint runs (and pyflakes) do not see their deliberate bugs."""
    dst.mkdir(parents=True, exist_ok=True)
    for src in sorted(DATA.glob("*.py.txt")):
        (dst / src.name[:-4]).write_bytes(src.read_bytes())
    return dst


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A private folder of the sample files, as .py."""
    return copy_data(tmp_path / "data")
