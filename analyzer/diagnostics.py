"""The one record every rule and front-end shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

__all__ = ["Diagnostic", "Fix"]


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

    def as_json(self) -> dict:
        return {
            "code": self.code,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line or self.line,
            "end_column": self.end_column or self.column,
            "message": self.message,
        }
