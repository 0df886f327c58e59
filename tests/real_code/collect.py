"""Shared by the real-code test and the script that regenerates its list."""

from __future__ import annotations

import importlib
from pathlib import Path

from analyzer.discovery import discover, read_source
from analyzer.engine import lint_source

PACKAGES = ("peft", "transformers")


def collect(package: str) -> dict[str, str]:
    """{"pkg/rel/path.py:line:col CODE": message} for one installed package."""
    mod = importlib.import_module(package)
    root = Path(mod.__file__).resolve().parent
    out: dict[str, str] = {}
    for path in discover([str(root)]):
        if not isinstance(path, str):
            continue
        raw = read_source(path)
        if not isinstance(raw, bytes):
            continue
        rel = package + "/" + str(Path(path).relative_to(root))
        for d in lint_source(raw, path):
            out[f"{rel}:{d.line}:{d.column} {d.code}"] = d.message
    return out


def read_expected(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    if not path.exists():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, _, reason = line.partition("  # ")
        out[key.strip()] = reason
    return out
