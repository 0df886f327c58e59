"""Finding the files to lint and reading them without ever hanging or raising."""

from __future__ import annotations

import fnmatch
import os
import stat
from dataclasses import dataclass
from typing import Iterator, Union

from analyzer.diagnostics import Diagnostic

__all__ = ["discover", "read_source", "MAX_FILE_BYTES"]

MAX_FILE_BYTES = 32 * 1024 * 1024
_SKIP_DIRS = {"__pycache__", "node_modules", "site-packages", "dist-packages"}
_EXTENSIONS = (".py", ".pyi")


@dataclass(frozen=True)
class _IgnoreRule:
    base: str  # folder holding the .gitignore
    pattern: str
    negate: bool
    dir_only: bool
    anchored: bool


def _read_gitignore(folder: str) -> list[_IgnoreRule]:
    path = os.path.join(folder, ".gitignore")
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return []
    rules = []
    for raw in lines:
        line = raw.rstrip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        if negate:
            line = line[1:]
        dir_only = line.endswith("/")
        line = line.rstrip("/")
        anchored = "/" in line
        line = line.lstrip("/")
        if line:
            rules.append(_IgnoreRule(folder, line, negate, dir_only, anchored))
    return rules


def _ignored(path: str, is_dir: bool, rules: list[_IgnoreRule]) -> bool:
    result = False
    for r in rules:
        if r.dir_only and not is_dir:
            continue
        rel = os.path.relpath(path, r.base).replace(os.sep, "/")
        if rel.startswith(".."):
            continue
        if r.anchored:
            hit = fnmatch.fnmatchcase(rel, r.pattern) or fnmatch.fnmatchcase(rel, r.pattern.replace("**/", ""))
        else:
            hit = fnmatch.fnmatchcase(os.path.basename(path), r.pattern)
        if hit:
            result = not r.negate
    return result


def _is_virtualenv(folder: str) -> bool:
    return os.path.exists(os.path.join(folder, "pyvenv.cfg")) or os.path.exists(
        os.path.join(folder, "conda-meta"))


def _parent_gitignores(folder: str) -> list[_IgnoreRule]:
    """.gitignore files of the folders above `folder`, up to the repository root."""
    chain = []
    cur = os.path.abspath(folder)
    while True:
        parent = os.path.dirname(cur)
        if parent == cur:
            break
        cur = parent
        chain.append(cur)
        if os.path.isdir(os.path.join(cur, ".git")):
            break
    rules: list[_IgnoreRule] = []
    for folder_above in reversed(chain):
        rules.extend(_read_gitignore(folder_above))
    return rules


def discover(paths: list[str]) -> Iterator[Union[str, Diagnostic]]:
    """Files to lint, in a stable order. A path named explicitly is always linted; exclusions
    (hidden folders, caches, virtualenvs, .gitignore) apply to what the walk finds."""
    for path in paths:
        try:
            st = os.stat(path)
        except OSError as exc:
            yield Diagnostic(path, 1, 1, "LL003", f"cannot read path: {exc.strerror or exc}")
            continue
        if stat.S_ISDIR(st.st_mode):
            yield from _walk(path)
        else:
            yield path


def _walk(root: str) -> Iterator[Union[str, Diagnostic]]:
    base_rules = _parent_gitignores(root)
    seen_dirs: set[tuple[int, int]] = set()
    errors: list[Diagnostic] = []

    def onerror(exc: OSError) -> None:
        errors.append(Diagnostic(exc.filename or root, 1, 1, "LL003", f"cannot read folder: {exc.strerror or exc}"))

    rules_at: dict[str, list[_IgnoreRule]] = {}
    for folder, dirs, files in os.walk(root, onerror=onerror, followlinks=False):
        try:
            st = os.stat(folder)
            key = (st.st_dev, st.st_ino)
            if key in seen_dirs:
                dirs[:] = []
                continue
            seen_dirs.add(key)
        except OSError:
            pass
        parent = os.path.dirname(folder)
        rules = rules_at.get(parent, base_rules) + _read_gitignore(folder)
        rules_at[folder] = rules
        keep = []
        for d in sorted(dirs):
            full = os.path.join(folder, d)
            if d.startswith(".") or d in _SKIP_DIRS or _is_virtualenv(full) or d.endswith(".egg-info"):
                continue
            if _ignored(full, True, rules):
                continue
            keep.append(d)
        dirs[:] = keep
        for f in sorted(files):
            if not f.endswith(_EXTENSIONS):
                continue
            full = os.path.join(folder, f)
            if _ignored(full, False, rules):
                continue
            yield full
    yield from errors


def read_source(path: str) -> Union[bytes, Diagnostic]:
    """The file's bytes, or an LL003 diagnostic saying why it cannot be read."""
    try:
        st = os.stat(path)
    except OSError as exc:
        return Diagnostic(path, 1, 1, "LL003", f"cannot read file: {exc.strerror or exc}")
    if stat.S_ISDIR(st.st_mode):
        return Diagnostic(path, 1, 1, "LL003", "is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        # a FIFO or device would block or never end
        return Diagnostic(path, 1, 1, "LL003", "not a regular file (FIFO, socket or device): skipped")
    if st.st_size > MAX_FILE_BYTES:
        return Diagnostic(path, 1, 1, "LL003",
                          f"file is {st.st_size // (1024 * 1024)} MiB, over the {MAX_FILE_BYTES // (1024 * 1024)} MiB limit: skipped")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            with os.fdopen(fd, "rb") as fh:
                return fh.read()
        except BaseException:
            raise
    except OSError as exc:
        return Diagnostic(path, 1, 1, "LL003", f"cannot read file: {exc.strerror or exc}")
