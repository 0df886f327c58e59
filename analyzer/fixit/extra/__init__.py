"""lora-lint's opt-in rules for Fixit: `[tool.fixit] enable = ["analyzer.fixit.extra"]`."""

from __future__ import annotations

from fixit import LintRule

from analyzer.frontends.fixit_bridge import LoraLintRule

__all__ = ["PossiblyUnboundByContract"]


class PossiblyUnboundByContract(LoraLintRule, LintRule):
    CODE = "LL204"
