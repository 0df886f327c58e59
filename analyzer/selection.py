"""Which rules run: `--select` / `--ignore` codes and prefixes against the rule registry."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from analyzer import rules as registry
from analyzer.rules import ENGINE_CODES
from analyzer.rules.base import Rule

__all__ = ["Selection", "is_selected", "rules_for", "parse_target_version", "SUPPORTED_VERSIONS"]

# the versions whose syntax and builtins the analysis knows apart
SUPPORTED_VERSIONS = tuple(f"3.{minor}" for minor in range(8, 15))
_VERSION = re.compile(r"^(?:py3(\d{1,2})|3\.(\d{1,2}))$")


def parse_target_version(text: str) -> Optional[str]:
    """"py310" (ruff's spelling) or "3.10" -> "3.10"; None when it is not a supported version."""
    m = _VERSION.match(text.strip().lower())
    if m is None:
        return None
    version = f"3.{int(m.group(1) or m.group(2))}"
    return version if version in SUPPORTED_VERSIONS else None


@dataclass(frozen=True)
class Selection:
    """Which codes run. Codes and prefixes (`LL2`) are accepted in both lists; the longest
    matching entry wins, so `--select LL2 --ignore LL202` runs LL201 only."""

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    # the Python the linted code runs on, "3.10" (None: the newest LibCST reads). It travels with
    # the codes because it changes findings too, and so belongs in every cache key they are in.
    target_version: Optional[str] = None

    def enabled(self, code: str, default: bool = True) -> bool:
        best_sel = max((len(p) for p in self.select if code.startswith(p)), default=-1)
        best_ign = max((len(p) for p in self.ignore if code.startswith(p)), default=-1)
        if best_sel < 0 and best_ign < 0:
            return default if not self.select else False
        return best_sel > best_ign


def is_selected(selection: Selection, code: str) -> bool:
    """Whether `code` is reported; the engine's own codes (a file not analysed) always are."""
    if code in ENGINE_CODES:
        return True
    return selection.enabled(code)


def rules_for(selection: Selection) -> list[Rule]:
    """One instance of each selected rule, in registry order."""
    return [r() for r in registry.ALL_RULES if selection.enabled(r.code, r.default_enabled)]
