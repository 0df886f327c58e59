"""The project around the files a run lints.

`project_context` reads the rest of the project for `--project` (the pre-commit hooks): pre-commit
passes only the staged files, but a call in a staged file can break against an unchanged callee,
and a staged callee can break an unchanged caller, so the cross-file rules must see every file of
the project.
"""

from __future__ import annotations

import os
from typing import Sequence

from analyzer.config import Config
from analyzer.diagnostics import Diagnostic
from analyzer.discovery import discover, read_source

__all__ = ["project_context"]


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
