"""`--baseline FILE`: record today's findings once, then report only new ones.

A team adopting the linter on a large codebase records the backlog and turns the hook on at once;
the baseline shrinks as findings are fixed (`--write-baseline` records the smaller set).

A finding is matched by code, path (relative to the baseline file's folder, so the file can be
committed), the qualified name of the function or class around it, and its message with line
numbers taken out, never by its line: code added above a recorded finding must not make it new.
Several findings with one key are counted: a third one where two were recorded is reported
(the one furthest down in the file, as the likeliest addition).
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import dataclass
from typing import Optional, Sequence

import libcst as cst

from analyzer import tree as T
from analyzer.diagnostics import Diagnostic
from analyzer.rules import ENGINE_CODES
from analyzer.fileio import replace_file

__all__ = ["BaselineError", "BaselineResult", "apply_baseline", "write_baseline", "enclosing_scopes"]

_FORMAT = 1
_LINE_REFS = re.compile(r"\b(lines?) \d+(?:(?:, and |, | and |-)\d+)*")
_FILE_REFS = re.compile(r"(\.pyi?):\d+(?::\d+)?")
_ENGINE_CODES = tuple(ENGINE_CODES)


class BaselineError(Exception):
    """The baseline file cannot be read or written; the message names it and says why."""


@dataclass
class BaselineResult:
    new: list[Diagnostic]
    matched: int  # findings the baseline holds back
    fixed: int  # recorded findings no longer found (the baseline can shrink)


def _message_key(message: str) -> str:
    return _FILE_REFS.sub(r"\1", _LINE_REFS.sub(r"\1 N", message))


def enclosing_scopes(text: str, lines: Sequence[int]) -> dict[int, str]:
    """For each line, the dotted name of the innermost function or class holding it (decorators
    included), "" at module level or when the file does not parse."""
    spans: list[tuple[int, int, str]] = []
    try:
        _module, tree = T.parse(text)
    except (cst.ParserSyntaxError, T.TooDeep, RecursionError, MemoryError):
        return {line: "" for line in lines}
    stack: list[tuple[T.AST, str]] = [(tree, "")]
    while stack:
        node, prefix = stack.pop()
        for child in T.iter_child_nodes(node):
            if isinstance(child, (T.FunctionDef, T.AsyncFunctionDef, T.ClassDef)):
                name = f"{prefix}.{child.name}" if prefix else child.name
                start = min([child.lineno] + [d.lineno for d in child.decorator_list])
                spans.append((start, child.end_lineno or child.lineno, name))
                stack.append((child, name))
            else:
                stack.append((child, prefix))
    out = {}
    for line in lines:
        inner = [s for s in spans if s[0] <= line <= s[1]]
        # the innermost span is the one starting last
        out[line] = max(inner)[2] if inner else ""
    return out


def _decode(raw: bytes) -> str:
    import io
    import tokenize

    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        return raw.decode(encoding, errors="replace")
    except (SyntaxError, LookupError):
        return raw.decode("utf-8", errors="replace")


def _keys(diagnostics: Sequence[Diagnostic], originals: dict[str, bytes], base: str) -> list[tuple[str, ...]]:
    scopes: dict[str, dict[int, str]] = {}
    for path in {d.path for d in diagnostics}:
        raw = originals.get(path)
        lines = [d.line for d in diagnostics if d.path == path]
        scopes[path] = enclosing_scopes(_decode(raw), lines) if raw is not None else {ln: "" for ln in lines}
    out = []
    for d in diagnostics:
        rel = os.path.relpath(os.path.abspath(d.path), base).replace(os.sep, "/")
        out.append((rel, d.code, scopes[d.path][d.line], _message_key(d.message)))
    return out


def _load(path: str) -> Counter:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read the baseline: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f"{path}:{exc.lineno}:{exc.colno}" if isinstance(exc, json.JSONDecodeError) else path
        raise BaselineError(f"{where}: not a lora-lint baseline (invalid JSON: {getattr(exc, 'msg', exc)})") from None
    if not isinstance(data, dict) or data.get("lora-lint-baseline") != _FORMAT or not isinstance(
            data.get("findings"), list):
        raise BaselineError(f"{path}: not a lora-lint baseline (expected an object with "
                            f'"lora-lint-baseline": {_FORMAT} and a "findings" list; written by --write-baseline)')
    counts: Counter = Counter()
    for i, item in enumerate(data["findings"]):
        try:
            key = (item["path"], item["code"], item["scope"], item["message"])
            count = item.get("count", 1)
            if not all(isinstance(k, str) for k in key) or not isinstance(count, int) or count < 1:
                raise TypeError
        except (KeyError, TypeError, AttributeError):
            raise BaselineError(f"{path}: finding #{i + 1} needs string path, code, scope and message and a "
                                f"count >= 1, got {item!r}") from None
        counts[key] += count
    return counts


def write_baseline(path: str, diagnostics: Sequence[Diagnostic], originals: dict[str, bytes]) -> int:
    """Record `diagnostics` (engine failures excluded: a file that could not be read is not a
    backlog item) in `path`; returns how many were recorded."""
    kept = [d for d in diagnostics if d.code not in _ENGINE_CODES]
    base = os.path.dirname(os.path.abspath(path))
    counts = Counter(_keys(kept, originals, base))
    findings = [{"path": p, "code": c, "scope": s, "message": m, "count": n}
                for (p, c, s, m), n in sorted(counts.items())]
    text = json.dumps({"lora-lint-baseline": _FORMAT, "findings": findings}, indent=2, ensure_ascii=False) + "\n"
    try:
        replace_file(path, text.encode("utf-8"), durable=True)
    except OSError as exc:
        raise BaselineError(f"{path}: cannot write the baseline: {exc.strerror or exc}") from None
    return len(kept)


def apply_baseline(path: str, diagnostics: Sequence[Diagnostic], originals: dict[str, bytes],
                   linted: Optional[set[str]] = None) -> BaselineResult:
    """The findings `path` does not account for. `linted` (relative keys' paths) limits the
    count of fixed entries to the files of this run."""
    recorded = _load(path)
    base = os.path.dirname(os.path.abspath(path))
    order = sorted(range(len(diagnostics)), key=lambda i: (diagnostics[i].path, diagnostics[i].line,
                                                           diagnostics[i].column))
    keys = _keys(diagnostics, originals, base)
    left = Counter(recorded)
    new: list[Diagnostic] = []
    matched = 0
    for i in order:
        d, key = diagnostics[i], keys[i]
        if d.code not in _ENGINE_CODES and left[key] > 0:
            left[key] -= 1
            matched += 1
        else:
            new.append(d)
    if linted is not None:
        rel = {os.path.relpath(os.path.abspath(p), base).replace(os.sep, "/") for p in linted}
        fixed = sum(n for key, n in left.items() if key[0] in rel)
    else:
        fixed = sum(left.values())
    new.sort(key=lambda d: (d.path, d.line, d.column, d.code, d.message))
    return BaselineResult(new, matched, fixed)
