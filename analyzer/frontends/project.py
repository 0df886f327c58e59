"""Which files a run lints, and the project around them.

`collect` turns the command line's paths into (path, bytes) pairs. `project_context` reads the rest
of the project for `--project` (the pre-commit hook): pre-commit passes only the staged files, but
a call in a staged file can break against an unchanged callee, and a staged callee can break an
unchanged caller, so the cross-file rules must see every file of the project.
"""

from __future__ import annotations

import os
from typing import Sequence

from analyzer.config import Config
from analyzer.diagnostics import Diagnostic
from analyzer.discovery import discover, read_source

__all__ = ["collect", "display_path", "project_context"]


def display_path(path: str) -> str:
    """The form every output format prints: `./a.py` and `a//b.py` become `a.py` and `a/b.py`, so
    text, JSON, GitHub and SARIF name a file the same way; an absolute path stays absolute."""
    if os.path.isabs(path):
        return path
    return os.path.normpath(path)


def collect(paths: Sequence[str], config: Config, force_exclude: bool) -> tuple[list[tuple[str, bytes]], list[Diagnostic]]:
    """(path, bytes) of every file to lint, and LL003 for what cannot be read.

    The config's `exclude` applies to what a folder walk finds; a file named on the command line is
    linted anyway (ruff's convention), unless `force_exclude` (`--force-exclude`, or
    `force-exclude = true`), which the pre-commit hooks pass so that a commit skips what a full
    run skips."""
    files: list[tuple[str, bytes]] = []
    failures: list[Diagnostic] = []
    seen: set[str] = set()
    for path in paths:
        for item in discover([path]):
            if isinstance(item, Diagnostic):
                failures.append(item)
                continue
            named = item == path
            item = display_path(item)
            if item in seen or ((force_exclude or not named) and config.excluded(item)):
                continue
            seen.add(item)
            raw = read_source(item)
            if isinstance(raw, Diagnostic):
                failures.append(raw)
            else:
                files.append((item, raw))
    return files, failures


def _short(path: str) -> str:
    """Relative to the current folder when inside it (how pre-commit names the staged files)."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def project_context(named: Sequence[tuple[str, bytes]], config: Config) -> list[tuple[str, bytes]]:
    """Every other Python file of the project that holds the named files, as the work tree has it.

    The project is the folder of the configuration file, else the nearest folder above the paths
    with a pyproject.toml or .git (`Config.root`). The walk skips what a full run skips (hidden
    folders, virtualenvs, .gitignore, `exclude`). A file that cannot be read is left out quietly:
    it is context, not something the user asked about."""
    taken = {os.path.realpath(path) for path, _ in named}
    out: list[tuple[str, bytes]] = []
    for item in discover([config.root]):
        if isinstance(item, Diagnostic) or config.excluded(item):
            continue
        real = os.path.realpath(item)
        if real in taken:
            continue
        taken.add(real)
        raw = read_source(item)
        if not isinstance(raw, Diagnostic):
            out.append((_short(item), raw))
    return out
