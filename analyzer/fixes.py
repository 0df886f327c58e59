"""Applying fixes: every fix is a LibCST node replacement, all applied by one transformer.

A `Fix` names a source range (1-based lines and columns) and the replacement text; here the range
is matched to the LibCST node that spans exactly that range, and the node is replaced by the parsed
replacement. Everything else in the file is left byte for byte as it was (LibCST round-trips).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from analyzer.diagnostics import Diagnostic, Fix
from analyzer.fileio import replace_file

__all__ = ["FixResult", "FixOutcome", "apply_fixes", "fix_files", "select_fixes", "write_atomically", "FixConflict"]


class FixConflict(Exception):
    """The file changed since it was read, or a fix's range matches no node."""


@dataclass(frozen=True)
class FixResult:
    text: str
    applied: tuple[Fix, ...]
    skipped: tuple[Fix, ...]


def select_fixes(diagnostics: Iterable[Diagnostic], unsafe: bool) -> list[Fix]:
    """Fixes to apply: safe ones, plus unsafe ones when asked; overlapping ranges keep the first."""
    chosen: list[Fix] = []
    for d in sorted(diagnostics):
        f = d.fix
        if f is None or (f.safety != "safe" and not unsafe):
            continue
        if any(_overlap(f, g) for g in chosen):
            continue
        chosen.append(f)
    return chosen


def _overlap(a: Fix, b: Fix) -> bool:
    return not ((a.end_line, a.end_column) <= (b.line, b.column) or (b.end_line, b.end_column) <= (a.line, a.column))


class _Replacer(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, wanted: dict[tuple[int, int, int, int], Fix]) -> None:
        super().__init__()
        self.wanted = wanted
        self.done: set[tuple[int, int, int, int]] = set()
        self._pending: dict[int, Fix] = {}

    def _key(self, node: cst.CSTNode) -> Optional[tuple[int, int, int, int]]:
        try:
            rng: CodeRange = self.get_metadata(PositionProvider, node)
        except KeyError:
            return None
        # LibCST columns are 0-based; fixes use 1-based columns
        return rng.start.line, rng.start.column + 1, rng.end.line, rng.end.column + 1

    def on_visit(self, node: cst.CSTNode) -> bool:
        if not isinstance(node, cst.BaseExpression):
            return True
        key = self._key(node)
        if key is not None and key in self.wanted and key not in self.done:
            self._pending[id(node)] = self.wanted[key]
            self.done.add(key)
            return False
        return True

    def on_leave(self, original: cst.CSTNode, updated):
        fix = self._pending.pop(id(original), None)
        if fix is None:
            return updated
        return cst.parse_expression(fix.replacement)


def apply_fixes(text: str, fixes: Sequence[Fix]) -> FixResult:
    """`text` with every fix applied whose range is exactly one expression node."""
    if not fixes:
        return FixResult(text, (), ())
    module = cst.parse_module(text)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    wanted = {(f.line, f.column, f.end_line, f.end_column): f for f in fixes}
    replacer = _Replacer(wanted)
    new = wrapper.visit(replacer)
    applied = tuple(f for k, f in wanted.items() if k in replacer.done)
    skipped = tuple(f for k, f in wanted.items() if k not in replacer.done)
    return FixResult(new.code, applied, skipped)


def write_atomically(path: str, data: bytes, expected_old: Optional[bytes] = None) -> None:
    """Replace `path` with `data` via a temporary file in the same folder and a rename, keeping
    the file's mode. With `expected_old`, refuse (FixConflict) if the file changed meanwhile."""
    st = os.stat(path)
    if expected_old is not None:
        with open(path, "rb") as fh:
            if fh.read() != expected_old:
                raise FixConflict(f"{path} changed since it was read; not fixed")
    replace_file(path, data, mode=st.st_mode & 0o7777, durable=True)


@dataclass
class FixOutcome:
    diff: str
    written: list[str]
    problems: list[str]  # one line per file not fixed, with the reason
    remaining: list[Diagnostic]  # findings whose fix was not applied


def fix_files(diagnostics: Sequence[Diagnostic], originals: dict[str, bytes], unsafe: bool,
              write: bool) -> FixOutcome:
    """Apply the selected fixes file by file. With `write`, each file is replaced atomically
    (keeping its mode, encoding and line endings) unless it changed since it was read; always
    returns the unified diff of what was (or would be) changed."""
    import difflib

    from analyzer.source import decode_source

    by_path: dict[str, list[Diagnostic]] = {}
    for d in diagnostics:
        by_path.setdefault(d.path, []).append(d)
    outcome = FixOutcome("", [], [], [])
    diffs: list[str] = []
    for path in sorted(by_path):
        diags = by_path[path]
        fixes = select_fixes(diags, unsafe)
        raw = originals.get(path)
        if not fixes or raw is None:
            outcome.remaining.extend(diags)
            continue
        text = decode_source(raw)
        if not isinstance(text, str):
            outcome.remaining.extend(diags)
            continue
        encoding = _encoding_of(raw)
        bom = raw.startswith(b"\xef\xbb\xbf")
        try:
            result = apply_fixes(text, fixes)
        except Exception as exc:  # a fix must never cost the file
            outcome.problems.append(f"{path}: not fixed ({type(exc).__name__}: {exc})")
            outcome.remaining.extend(diags)
            continue
        applied = {(f.line, f.column, f.end_line, f.end_column) for f in result.applied}
        outcome.remaining.extend(
            d for d in diags if d.fix is None or (d.fix.line, d.fix.column, d.fix.end_line, d.fix.end_column) not in applied)
        if result.text == text:
            continue
        diffs.extend(difflib.unified_diff(text.splitlines(keepends=True), result.text.splitlines(keepends=True),
                                          fromfile=path, tofile=path))
        if write:
            data = (b"\xef\xbb\xbf" if bom else b"") + result.text.encode(encoding)
            try:
                write_atomically(path, data, expected_old=raw)
                outcome.written.append(path)
            except (OSError, FixConflict) as exc:
                outcome.problems.append(f"{path}: not fixed ({exc})")
    outcome.diff = "".join(diffs)
    return outcome


def _encoding_of(raw: bytes) -> str:
    import io
    import tokenize

    try:
        enc, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError:
        return "utf-8"
    return "utf-8" if enc == "utf-8-sig" else enc
