"""Suppression comments: `# noqa` (flake8's syntax, with rule aliases) and type checkers' ignores
for the same defect. Front-ends and the engine ask here whether a finding on a line is silenced."""

from __future__ import annotations

import re
from typing import Optional

from analyzer.diagnostics import Diagnostic
from analyzer.rules import rule_by_code
from analyzer.source import SourceText

__all__ = ["noqa_codes", "noqa_silences", "alias_silenced", "checker_ignored", "checker_ignored_at", "suppressed"]

_NOQA = re.compile(r"#\s*noqa(?::[\s]*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)


def noqa_codes(line: str) -> Optional[set[str]]:
    """None: no noqa; empty set: blanket noqa; else the listed codes."""
    if "noqa" not in line.lower():
        return None
    m = _NOQA.search(line)
    if m is None:
        return None
    codes = m.group("codes")
    if not codes:
        return set()
    return {c.upper() for c in re.split(r"[,\s]+", codes) if c}


def noqa_silences(codes: Optional[set[str]], code: str) -> bool:
    """Whether a line's noqa codes (`noqa_codes`) silence `code`.

    Listed codes match as prefixes, as in flake8 (`# noqa: LL2`). A rule's `noqa_aliases` count
    too: a line already silenced for pyflakes' undefined-name codes (`# noqa: F821`) is a decision
    the author made about this very defect, and re-flagging it would make users add a second
    comment for the same thing."""
    if codes is None:
        return False
    if not codes:
        return True
    names = (code,) + _aliases(code)
    return any(n.startswith(c) for c in codes for n in names)


def alias_silenced(line: str, code: str, above: str = "") -> bool:
    """Silenced by one of `code`'s aliases or type-checker codes only (for front-ends that apply
    their own noqa); `above` is the line before, where pyrefly may put its ignore."""
    codes = noqa_codes(line)
    if codes and any(a.startswith(c) for c in codes for a in _aliases(code)):
        return True
    return checker_ignored_at(line, above, code)


_CHECKER_IGNORE = re.compile(r"#\s*(?:type|pyright|pyrefly)\s*:\s*ignore\s*\[(?P<codes>[^\]]*)\]")


def checker_ignored(line: str, code: str) -> bool:
    """A type checker's ignore for the same defect on the line (`# type: ignore[possibly-undefined]`,
    `# pyright: ignore[reportPossiblyUnbound]`, `# pyrefly: ignore [unbound-name]`): the author
    already looked at this read. A bare `# type: ignore` is about types and silences nothing here."""
    if "ignore" not in line:
        return False
    wanted = _rule_attr(code, "checker_ignores")
    if not wanted:
        return False
    for m in _CHECKER_IGNORE.finditer(line):
        if any(c.strip() in wanted for c in m.group("codes").split(",")):
            return True
    return False


def checker_ignored_at(line: str, above: str, code: str) -> bool:
    """`checker_ignored` on the line, or on a comment line of its own just above it, where pyrefly
    takes its ignores from."""
    if checker_ignored(line, code):
        return True
    return above.lstrip().startswith("#") and "pyrefly" in above and checker_ignored(above, code)


def _aliases(code: str) -> tuple[str, ...]:
    return _rule_attr(code, "noqa_aliases")


def _rule_attr(code: str, attr: str) -> tuple[str, ...]:
    """A rule's tuple-valued class attribute, by code (empty for engine codes)."""
    rule = rule_by_code(code)
    return () if rule is None else tuple(getattr(rule, attr))


def suppressed(source: SourceText, d: Diagnostic) -> bool:
    """Whether `d` is silenced by a comment on its line (or a checker's ignore just above)."""
    line = source.line(d.line)
    return noqa_silences(noqa_codes(line), d.code) or checker_ignored_at(line, source.line(d.line - 1), d.code)
