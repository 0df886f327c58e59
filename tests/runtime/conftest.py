"""Shared parts of the runtime tracer's tests: the fixture modules on sys.path, a tiny PEFT
Llama, and a tracer turned off (and emptied) after every test."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures" / "runtime"


def helper_line(func_name: str, needle: str) -> int:
    """The line of `needle` inside `func_name` in fixtures/runtime/lora_helpers.py."""
    lines = (FIXTURES / "lora_helpers.py").read_text().splitlines()
    start = next(i for i, text in enumerate(lines) if text.startswith(f"def {func_name}("))
    return next(i for i in range(start, len(lines)) if needle in lines[i]) + 1


@pytest.fixture(autouse=True)
def _tracer_off_after():
    if str(FIXTURES) not in sys.path:
        sys.path.insert(0, str(FIXTURES))
    yield
    if "analyzer.runtime" in sys.modules:
        sys.modules["analyzer.runtime"].disable(forget=True)
