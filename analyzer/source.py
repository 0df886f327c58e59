"""Reading source files: bytes to text with PEP 263 decoding, and positions as users count them."""

from __future__ import annotations

import codecs
import io
import re
import tokenize
from dataclasses import dataclass

__all__ = ["DecodeFailure", "SourceText", "decode_source"]

# ast numbers lines by \r\n, \r and \n only (str.splitlines also splits on form feeds etc.)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class DecodeFailure:
    line: int
    column: int
    reason: str


class SourceText:
    """Decoded source plus the conversions between ast's byte columns and character columns."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = _LINE_BREAK.split(text)

    def line(self, lineno: int) -> str:
        if 1 <= lineno <= len(self.lines):
            return self.lines[lineno - 1]
        return ""

    def char_col(self, lineno: int, byte_col: int) -> int:
        """0-based character column for ast's 0-based UTF-8 byte column."""
        line = self.line(lineno)
        if line.isascii():
            return byte_col
        return len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="replace"))


def decode_source(raw: bytes) -> "str | DecodeFailure":
    """Decode as Python does: BOM, then a coding cookie in the first two lines, else UTF-8."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError as exc:
        return DecodeFailure(getattr(exc, "lineno", None) or 1, 1, str(exc.msg if hasattr(exc, "msg") else exc))
    try:
        codecs.lookup(encoding)
    except LookupError:
        return DecodeFailure(1, 1, f"unknown encoding {encoding!r}")
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        col = len(raw[line_start:exc.start].decode(encoding, errors="replace")) + 1
        return DecodeFailure(line, col, f"cannot decode byte 0x{raw[exc.start]:02x} as {encoding}")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text
