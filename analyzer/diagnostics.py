"""The one record every rule and front-end shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple, Optional

__all__ = ["Diagnostic", "Fix", "TraceStep"]


@dataclass(frozen=True)
class Fix:
    """A replacement of the source text between two (line, column) positions (1-based, columns in
    characters), offered with a safety level: "safe" fixes are applied by `--fix`, "unsafe" ones
    only with `--unsafe-fixes`."""

    line: int
    column: int
    end_line: int
    end_column: int
    replacement: str
    safety: str = "unsafe"


class TraceStep(NamedTuple):
    """One step of the path a finding's analysis believes: a branch taken, a condition assumed,
    and last the read itself. Line and column are 1-based, as the finding's."""

    line: int
    column: int
    message: str


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One finding. Lines are 1-based; columns are 1-based character offsets."""

    path: str
    line: int
    column: int
    code: str
    message: str
    end_line: int = 0
    end_column: int = 0
    fix: Optional[Fix] = field(default=None, compare=False)
    # the path to the finding that the analysis believes (LL202/LL204); empty when none applies
    trace: tuple = field(default=(), compare=False)

    def as_json(self) -> dict:
        out = {
            "code": self.code,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line or self.line,
            "end_column": self.end_column or self.column,
            "message": self.message,
        }
        if self.trace:
            out["trace"] = [{"line": s.line, "column": s.column, "message": s.message} for s in self.trace]
        return out
