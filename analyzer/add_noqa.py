"""`--add-noqa`: silence today's findings in place with `# noqa: LLnnn` comments.

Where a comment can go is the tokenizer's call, not a guess from the text: a comment can end a
physical line only where that line ends in a NEWLINE or NL token (or already holds a COMMENT). A
line inside a multi-line string, or ending in a backslash continuation, has none, so the directive
goes on the first line at or after the finding's line that can take one: the last line of the
string, or of the continued statement. That is where ruff looks for the directive of such a line
(and flake8, which reads noqa anywhere in the logical line, finds it there too); the CLI honours
the same placement (`silenced_elsewhere`). A finding on an ordinary line of a bracketed statement
keeps its own line, where both tools honour it.

Only comments are added, at line ends: the rest of the file is left byte for byte (encoding, BOM,
line endings, mode), and the file is replaced atomically.
"""

from __future__ import annotations

import io
import os
import re
import tokenize
from dataclasses import dataclass, field
from typing import Optional, Sequence

from analyzer.diagnostics import Diagnostic
from analyzer.rules import ENGINE_CODES
from analyzer.fileio import replace_file

__all__ = ["NoqaOutcome", "add_noqa", "comment_lines", "silenced_elsewhere"]

# the directive as flake8 reads it: `# noqa`, or `# noqa: A1, B2` (codes separated by commas or spaces)
_NOQA = re.compile(r"#\s*noqa(?::[ \t]*(?P<codes>[A-Z]+[0-9]+(?:(?:[ \t]*,[ \t]*|[ \t]+)[A-Z]+[0-9]+)*))?",
                   re.IGNORECASE)
# LL000-LL003 (syntax errors, unreadable files) are not findings a comment can silence
_NOT_SILENCEABLE = tuple(ENGINE_CODES)


@dataclass
class NoqaOutcome:
    added: int = 0  # directives written or extended, one per code and line
    written: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass
class _Source:
    text: str
    lines: list[str]  # with their line endings
    encoding: str
    bom: bool
    capable: list[int]  # sorted line numbers that can end with a comment
    comments: dict[int, tuple[int, str]]  # line -> (column, comment text)


def _decode(raw: bytes) -> tuple[str, str, bool]:
    encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    bom = encoding == "utf-8-sig"
    text = raw.decode("utf-8" if bom else encoding)
    return (text[1:] if bom and text.startswith("\ufeff") else text), ("utf-8" if bom else encoding), bom


def _read(raw: bytes) -> _Source:
    """Raises SyntaxError/UnicodeDecodeError/tokenize.TokenError for a file that does not tokenize."""
    text, encoding, bom = _decode(raw)
    # newline="": keep "\r\n" and "\r" as they are; split only where the tokenizer would
    lines = io.StringIO(text, newline="").readlines()
    capable: set[int] = set()
    comments: dict[int, tuple[int, str]] = {}
    for tok in tokenize.generate_tokens(iter(lines).__next__):
        if tok.type in (tokenize.NEWLINE, tokenize.NL):
            capable.add(tok.start[0])
        elif tok.type == tokenize.COMMENT:
            capable.add(tok.start[0])
            comments[tok.start[0]] = (tok.start[1], tok.string)
    return _Source(text, lines, encoding, bom, sorted(capable), comments)


def comment_lines(raw: bytes, lines: Sequence[int]) -> dict[int, int]:
    """For each finding line, the line whose end can take its comment (see the module docstring).
    Raises what `tokenize` raises on a file it cannot read."""
    return _targets(_read(raw), lines)


def _targets(src: _Source, lines: Sequence[int]) -> dict[int, int]:
    import bisect

    out = {}
    for line in lines:
        i = bisect.bisect_left(src.capable, line)
        out[line] = src.capable[i] if i < len(src.capable) else line
    return out


def _codes_in(comment: str) -> Optional[list[str]]:
    """None: no directive; []: a blanket `# noqa`; else its codes, in order."""
    m = _NOQA.search(comment)
    if m is None:
        return None
    if not m.group("codes"):
        return []
    return [c.upper() for c in re.split(r"[\s,]+", m.group("codes")) if c]


def _silences(codes: Optional[list[str]], code: str) -> bool:
    # listed codes match as prefixes, as in flake8 (`# noqa: LL2`)
    return codes is not None and (not codes or any(code.startswith(c) for c in codes))


def silenced_elsewhere(diagnostics: Sequence[Diagnostic], originals: dict[str, bytes]) -> list[Diagnostic]:
    """The findings left after honouring a `# noqa` placed at the end of a multi-line string or
    backslash-continued statement that the finding's own line belongs to (where `--add-noqa`
    puts it, and ruff reads it). The finding's own line is the engine's business."""
    by_path: dict[str, list[Diagnostic]] = {}
    for d in diagnostics:
        by_path.setdefault(d.path, []).append(d)
    keep: list[Diagnostic] = []
    for path, diags in by_path.items():
        raw = originals.get(path)
        src = None
        if raw is not None and b"noqa" in raw.lower():
            try:
                src = _read(raw)
            except (SyntaxError, UnicodeDecodeError, LookupError, tokenize.TokenError):
                src = None
        if src is None:
            keep.extend(diags)
            continue
        targets = _targets(src, [d.line for d in diags])
        for d in diags:
            target = targets[d.line]
            comment = src.comments.get(target)
            if target != d.line and comment and _silences(_codes_in(comment[1]), d.code):
                continue
            keep.append(d)
    return keep


def _edit_line(line: str, comment: Optional[tuple[int, str]], new_codes: list[str]) -> tuple[str, int]:
    """`line` with `new_codes` added to its directive (or a new `  # noqa: ...`), and how many
    codes that added."""
    body = line.rstrip("\r\n")
    ending = line[len(body):]
    if comment is not None:
        col, text = comment
        m = _NOQA.search(text)
        if m is not None:
            existing = _codes_in(text) or []
            if not m.group("codes"):
                return line, 0  # a blanket noqa silences everything already
            missing = [c for c in new_codes if not _silences(existing, c)]
            if not missing:
                return line, 0
            end = col + m.end("codes")
            return body[:end] + ", " + ", ".join(missing) + body[end:] + ending, len(missing)
    stripped = body.rstrip(" \t")
    return f"{stripped}  # noqa: {', '.join(new_codes)}{ending}", len(new_codes)


def _plan(src: _Source, diags: Sequence[Diagnostic]) -> tuple[str, int]:
    """The new text and how many codes were added."""
    wanted: dict[int, list[str]] = {}
    targets = _targets(src, [d.line for d in diags])
    for d in sorted(diags, key=lambda d: (d.line, d.code)):
        codes = wanted.setdefault(targets[d.line], [])
        if d.code not in codes:
            codes.append(d.code)
    lines = list(src.lines)
    added = 0
    for target, codes in sorted(wanted.items()):
        if not 1 <= target <= len(lines):
            continue
        lines[target - 1], n = _edit_line(lines[target - 1], src.comments.get(target), sorted(codes))
        added += n
    return "".join(lines), added


def add_noqa(diagnostics: Sequence[Diagnostic], originals: dict[str, bytes]) -> NoqaOutcome:
    """Write `# noqa: CODE` for each finding into its file. Running it again adds nothing, since
    the findings it silenced are no longer reported."""
    outcome = NoqaOutcome()
    by_path: dict[str, list[Diagnostic]] = {}
    for d in diagnostics:
        if d.code not in _NOT_SILENCEABLE:
            by_path.setdefault(d.path, []).append(d)
    for path in sorted(by_path):
        raw = originals.get(path)
        if raw is None:
            continue
        try:
            src = _read(raw)
        except (SyntaxError, UnicodeDecodeError, LookupError, tokenize.TokenError) as exc:
            outcome.problems.append(f"{path}: no noqa added: the file does not tokenize ({exc})")
            continue
        text, added = _plan(src, by_path[path])
        if text == src.text:
            continue
        data = (b"\xef\xbb\xbf" if src.bom else b"") + text.encode(src.encoding)
        try:
            current = _read_bytes(path)
            if current != raw:
                outcome.problems.append(f"{path}: no noqa added: the file changed while it was linted")
                continue
            replace_file(path, data, mode=os.stat(path).st_mode & 0o7777, durable=True)
        except OSError as exc:
            outcome.problems.append(f"{path}: no noqa added: {exc.strerror or exc}")
            continue
        outcome.added += added
        outcome.written.append(path)
    return outcome


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()
