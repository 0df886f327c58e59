"""Shared by the real-code test and the script that regenerates its list."""

from __future__ import annotations

import importlib
from pathlib import Path

from analyzer.discovery import discover, read_source
from analyzer.engine import project_diagnostics
from analyzer.frontends.runner import analyze_files, default_jobs
from analyzer.selection import Selection

PACKAGES = ("peft", "transformers")


def collect(package: str) -> dict[str, str]:
    """{"pkg/rel/path.py:line:col CODE": message} for one installed package."""
    mod = importlib.import_module(package)
    root = Path(mod.__file__).resolve().parent
    files = []
    for path in discover([str(root)]):
        if not isinstance(path, str):
            continue
        raw = read_source(path)
        if isinstance(raw, bytes):
            files.append((path, raw))
    # every core, as the CLI does: transformers is 1.2M lines
    analyses = analyze_files(files, Selection(), default_jobs())
    out: dict[str, str] = {}
    # the package is linted as one project, as the CLI does, so cross-module rules run too
    for d in [d for a in analyses for d in a.diagnostics] + project_diagnostics(analyses):
        rel = package + "/" + str(Path(d.path).relative_to(root))
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
