"""lora-lint as a Fixit rule pack: `[tool.fixit] enable = ["analyzer.fixit"]`.

One Fixit rule per lora-lint rule that is on by default, named as the rule's class in
`analyzer.rules`, with its documentation and examples; messages start with the code. The opt-in
LL204 is in `analyzer.fixit.extra` (Fixit does not load a pack's sub-packages unless named), as
Fixit keeps its own opt-in rules in `fixit.rules.extra`. Needs `fixit` (`pip install
lora-lint[fixit]`); the machinery is in `analyzer.frontends.fixit_bridge`.
"""

from __future__ import annotations

from fixit import LintRule

from analyzer.frontends.fixit_bridge import LoraLintRule
from analyzer.rules import ENGINE_CODES

__all__ = [
    "ReturnShapeMismatch", "TupleOrImplicitNone", "ParenthesizedNotTuple", "UndefinedName", "PossiblyUnbound",
    "ReturnSlotResolvesElsewhere", "UnpackCountMismatch", "BackwardGradCount", "SavedTensorsCount",
    "BackwardArity", "AnalysisFailed",
]


class ReturnShapeMismatch(LoraLintRule, LintRule):
    CODE = "LL101"


class TupleOrImplicitNone(LoraLintRule, LintRule):
    CODE = "LL102"


class ParenthesizedNotTuple(LoraLintRule, LintRule):
    CODE = "LL103"


class UndefinedName(LoraLintRule, LintRule):
    CODE = "LL201"


class PossiblyUnbound(LoraLintRule, LintRule):
    CODE = "LL202"


class ReturnSlotResolvesElsewhere(LoraLintRule, LintRule):
    CODE = "LL203"


class UnpackCountMismatch(LoraLintRule, LintRule):
    """LL301 within the module; calls into other files need the `lora-lint` CLI, which sees the
    whole project."""

    CODE = "LL301"


class BackwardGradCount(LoraLintRule, LintRule):
    CODE = "LL401"


class SavedTensorsCount(LoraLintRule, LintRule):
    CODE = "LL402"


class BackwardArity(LoraLintRule, LintRule):
    CODE = "LL403"


class AnalysisFailed(LoraLintRule, LintRule):
    """lora-lint could not analyse the module (LL000 internal error, LL001 nesting too deep for
    the parser): reported, so that a failure never passes for a clean file."""

    CODE = "LL000"
    CODES = frozenset(ENGINE_CODES)
