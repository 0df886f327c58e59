"""The values of literal tokens, as the compiler computes them (LibCST keeps the source text)."""

from __future__ import annotations

import re
import unicodedata
from typing import Union

__all__ = ["string_value", "number_value", "unescape"]

_PREFIX = re.compile(r"[A-Za-z]*")
_ESCAPE = re.compile(r"\\(N\{[^}]*\}|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{1,3}|\r\n|[\s\S])")
_SIMPLE = {"\n": "", "\r\n": "", "\\": "\\", "'": "'", '"': '"', "a": "\a", "b": "\b", "f": "\f", "n": "\n",
           "r": "\r", "t": "\t", "v": "\v"}


def _unescape(m: re.Match, is_bytes: bool) -> str:
    esc = m.group(1)
    c = esc[0]
    if esc in _SIMPLE:
        return _SIMPLE[esc]
    if c in "01234567":
        return chr(int(esc, 8) & (0xFF if is_bytes else 0x1FF))
    if c == "x":
        return chr(int(esc[1:], 16))
    if not is_bytes:
        if c in "uU":
            return chr(int(esc[1:], 16))
        if c == "N":
            try:
                return unicodedata.lookup(esc[2:-1])
            except KeyError:
                return "\\" + esc
    # an unknown escape keeps its backslash, as the compiler does (with a warning)
    return "\\" + esc


def string_value(token: str) -> Union[str, bytes]:
    """The value of one string literal token (`'a'`, `rb"x"`, `'''...'''`); not f-strings."""
    prefix = _PREFIX.match(token).group().lower()
    body = token[len(prefix):]
    q = 3 if body[:3] in ('"""', "'''") else 1
    body = body[q:-q]
    is_bytes = "b" in prefix
    if "r" not in prefix and "\\" in body:
        body = unescape(body, is_bytes)
    if is_bytes:
        return body.encode("latin-1", errors="replace")
    return body


def unescape(text: str, is_bytes: bool = False) -> str:
    """`text` with its backslash escapes replaced by what they stand for."""
    return _ESCAPE.sub(lambda m: _unescape(m, is_bytes), text)


def number_value(token: str, kind: str) -> Union[int, float, complex]:
    """The value of an `Integer`, `Float` or `Imaginary` token."""
    text = token.replace("_", "")
    if kind == "Integer":
        return int(text, 0)
    if kind == "Float":
        return float(text)
    return complex(0, float(text[:-1]))
