"""Reading source files: bytes to text with PEP 263 decoding, and positions as users count them."""

from __future__ import annotations

import codecs
import io
import re
import tokenize
from dataclasses import dataclass

__all__ = ["DecodeFailure", "SourceText", "decode_source"]

# Python numbers lines by \r\n, \r and \n only (str.splitlines also splits on form feeds etc.)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_BYTE_LINE_BREAK = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True)
class DecodeFailure:
    line: int
    column: int
    reason: str


class SourceText:
    """Decoded source split into lines as Python counts them (columns are characters throughout)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = _LINE_BREAK.split(text)

    def line(self, lineno: int) -> str:
        if 1 <= lineno <= len(self.lines):
            return self.lines[lineno - 1]
        return ""


def decode_source(raw: bytes) -> "str | DecodeFailure":
    """Decode as Python does: BOM, then a coding cookie in the first two lines, else UTF-8."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError as exc:
        reason = str(exc.msg if hasattr(exc, "msg") else exc)
        if reason.startswith("invalid or missing encoding declaration"):
            # no cookie and the first two lines are not UTF-8: point at the first bad byte
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as bad:
                return _undecodable(raw, bad, "utf-8")
        return DecodeFailure(getattr(exc, "lineno", None) or 1, 1, reason)
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        return DecodeFailure(1, 1, f"unknown encoding {encoding!r}")
    if not getattr(info, "_is_text_encoding", True):
        # `# coding: rot13`, `hex`, `zlib`...: bytes.decode refuses these (LookupError), as Python does
        return DecodeFailure(1, 1, f"{encoding!r} is not a text encoding")
    body = raw
    if info.name == "utf-8-sig" and raw.startswith(codecs.BOM_UTF8):
        # utf-8-sig reports error offsets counted without the BOM: decode the rest as UTF-8
        body, encoding = raw[len(codecs.BOM_UTF8):], "utf-8"
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as exc:
        return _undecodable(body, exc, encoding)
    except (LookupError, UnicodeError, ValueError, TypeError) as exc:  # any other codec failure
        return DecodeFailure(1, 1, f"cannot decode as {encoding}: {exc}")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def _undecodable(raw: bytes, exc: UnicodeDecodeError, encoding: str) -> DecodeFailure:
    """The failure located at the first bad byte (lines broken as Python breaks them)."""
    breaks = list(_BYTE_LINE_BREAK.finditer(raw, 0, exc.start))
    line_start = breaks[-1].end() if breaks else (3 if raw.startswith(codecs.BOM_UTF8) else 0)
    try:
        col = len(raw[line_start:exc.start].decode(encoding, errors="replace")) + 1
    except (LookupError, UnicodeError, ValueError):
        col = exc.start - line_start + 1
    return DecodeFailure(len(breaks) + 1, col, f"cannot decode byte 0x{raw[exc.start]:02x} as {encoding}")
