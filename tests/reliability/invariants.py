"""What must hold for every syntactically valid program, shared by the fuzz tests and
`benchmarks/fuzz_long.py`.

`problems(code)` lints the program (as text and as UTF-8 bytes), applies every offered fix the way
`--fix --unsafe-fixes` does, and returns what went wrong, one entry each; an empty list means the
engine behaved.
"""

from __future__ import annotations

import ast
import traceback

import libcst

from analyzer.diagnostics import Diagnostic
from analyzer.engine import lint_source
from analyzer.fixes import apply_fixes, select_fixes
from analyzer.source import SourceText

__all__ = ["problems", "fix_problems", "crash_text"]

# A valid program (hypothesmith checks it with `compile`) gives none of these.
_NEVER_ON_VALID = ("LL000", "LL001", "LL002", "LL003")


def crash_text(exc: BaseException) -> str:
    """`raised <Type>: <message>` and the innermost frames, for a report."""
    head = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return "raised " + head + "\n" + "".join(traceback.format_tb(exc.__traceback__)[-4:])


def _lint(raw: bytes | str) -> tuple[list[Diagnostic], str]:
    try:
        return lint_source(raw, "fuzz.py"), ""
    except Exception as exc:  # the engine promises never to raise
        return [], crash_text(exc)


def problems(code: str) -> list[str]:
    """Everything the engine did wrong on one valid program (empty: nothing)."""
    out: list[str] = []
    as_text, crash = _lint(code)
    if crash:
        return [crash]
    as_bytes, crash = _lint(code.encode("utf-8"))
    if crash:
        return ["(bytes input) " + crash]
    if as_text != as_bytes:
        out.append(f"text and bytes input disagree: {as_text} vs {as_bytes}")
    n_lines = len(SourceText(code).lines)
    for d in as_text:
        if d.code in _NEVER_ON_VALID:
            out.append(f"{d.code} on a valid program: {d.line}:{d.column} {d.message}")
        if not (1 <= d.line <= n_lines and d.column >= 1):
            out.append(f"{d.code} outside the file: {d.line}:{d.column} (file has {n_lines} lines)")
    return out + fix_problems(code, as_text)


def fix_problems(code: str, diagnostics: list[Diagnostic]) -> list[str]:
    """Every offered fix (safe and unsafe) must apply to an expression, give valid Python, and be
    idempotent: linting and fixing the fixed text changes nothing more."""
    fixes = select_fixes(diagnostics, unsafe=True)
    if not fixes:
        return []
    try:
        result = apply_fixes(code, fixes)
    except libcst.ParserSyntaxError:
        return []  # LibCST cannot parse this program: `--fix` leaves the file alone and says so
    except Exception as exc:
        return ["apply_fixes " + crash_text(exc)]
    out = [f"fix {f} matches no expression node" for f in result.skipped]
    try:
        ast.parse(result.text)
    except (SyntaxError, ValueError) as exc:
        return out + [f"fixed text is not valid Python: {exc}\n--- fixed:\n{result.text}"]
    again, crash = _lint(result.text)
    if crash:
        return out + ["linting the fixed text " + crash]
    second = select_fixes(again, unsafe=True)
    if second:
        try:
            text2 = apply_fixes(result.text, second).text
        except Exception as exc:
            return out + ["apply_fixes on the fixed text " + crash_text(exc)]
        if text2 != result.text:
            out.append(f"fixes are not idempotent: a second --fix changes the file again\n--- fixed once:\n"
                       f"{result.text}\n--- fixed twice:\n{text2}")
    return out
