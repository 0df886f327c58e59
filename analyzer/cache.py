"""A content-hash cache of per-file analyses, shared safely by concurrent runs.

An entry holds one file's `FileAnalysis`: its per-file findings and the module summary that the
cross-file rules read. The cross-file rules themselves run on every run over all summaries, cached
or fresh, so a caller's finding follows a change in its callee even when the caller was cached.

The key hashes the file's bytes, the path as given and the module name it implies (the folders'
`__init__.py` files decide it), the tool's version and the source of the analysis code, and the
set of enabled rules. Entries are written to a temporary file in the same folder and renamed into
place, so a reader sees a whole entry or none; an unreadable or mismatched entry is a miss. The
folder is the user's own (pickle is trusted there, as any local cache).
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import sys
from typing import Optional

from analyzer import __version__
from analyzer.engine import FileAnalysis
from analyzer.selection import Selection
from analyzer.fileio import replace_file
from analyzer.flow.project import module_name_for

__all__ = ["AnalysisCache", "tool_fingerprint"]

# 2: diagnostics carry the path the analysis believes (`Diagnostic.trace`)
_FORMAT = 2


def _analysis_sources() -> list[str]:
    """The .py files whose code decides what a file's analysis is (front-ends excluded)."""
    base = os.path.dirname(os.path.abspath(__file__))
    out = []
    for folder, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if d not in ("frontends", "__pycache__"))
        out.extend(os.path.join(folder, f) for f in sorted(files) if f.endswith(".py"))
    return out


@functools.lru_cache(maxsize=None)
def tool_fingerprint() -> str:
    """Version plus a hash of the analysis code, so an edited checkout never reuses stale entries."""
    h = hashlib.sha256(f"lora-lint {__version__} format {_FORMAT} {sys.version_info[:2]}".encode())
    for path in _analysis_sources():
        h.update(os.path.relpath(path, os.path.dirname(__file__)).encode())
        try:
            with open(path, "rb") as fh:
                h.update(hashlib.sha256(fh.read()).digest())
        except OSError:
            h.update(b"unreadable")
    return h.hexdigest()


class AnalysisCache:
    """Entries under `directory`, for one tool build and one set of enabled rules."""

    def __init__(self, directory: str, selection: Selection) -> None:
        self.directory = os.path.abspath(directory)
        config = f"select={sorted(selection.select)} ignore={sorted(selection.ignore)}"
        self._salt = hashlib.sha256(f"{tool_fingerprint()}|{config}".encode()).hexdigest()
        self.hits = 0
        self.misses = 0
        self.write_error: Optional[str] = None
        self._prepared = False

    def key(self, path: str, raw: bytes) -> str:
        module, is_package = module_name_for(path)
        h = hashlib.sha256(self._salt.encode())
        for part in (path, os.path.abspath(path), module, str(is_package)):
            h.update(part.encode("utf-8", "surrogateescape") + b"\0")
        h.update(hashlib.sha256(raw).digest())
        return h.hexdigest()

    def _entry(self, key: str) -> str:
        return os.path.join(self.directory, key[:2], key[2:] + ".pickle")

    def load(self, key: str) -> Optional[FileAnalysis]:
        try:
            with open(self._entry(key), "rb") as fh:
                stored_key, analysis = pickle.load(fh)
        except Exception:  # missing, truncated by a crash, or written by another build: a miss
            self.misses += 1
            return None
        if stored_key != key or not isinstance(analysis, FileAnalysis):
            self.misses += 1
            return None
        self.hits += 1
        return analysis

    def _prepare(self) -> None:
        if self._prepared:
            return
        self._prepared = True
        os.makedirs(self.directory, exist_ok=True)
        # keep the cache out of version control and backups, as pytest and ruff do
        for name, text in ((".gitignore", "# created by lora-lint\n*\n"),
                           ("CACHEDIR.TAG", "Signature: 8a477f597d28d172789f06886806bc55\n# lora-lint cache\n")):
            target = os.path.join(self.directory, name)
            if not os.path.exists(target):
                replace_file(target, text.encode())

    def store(self, key: str, analysis: FileAnalysis) -> None:
        if self.write_error is not None:
            return
        try:
            self._prepare()
            target = self._entry(key)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            replace_file(target, pickle.dumps((key, analysis), protocol=pickle.HIGHEST_PROTOCOL))
        except OSError as exc:
            self.write_error = f"cannot write the cache in {self.directory}: {exc.strerror or exc}"

