"""The rule registry. Rules are listed explicitly: a rule that fails to import fails loudly."""

from __future__ import annotations

from analyzer.rules.base import Rule
from analyzer.rules.ll101_return_shape_mismatch import ReturnShapeMismatch
from analyzer.rules.ll102_tuple_or_implicit_none import TupleOrImplicitNone
from analyzer.rules.ll103_parenthesized_not_tuple import ParenthesizedNotTuple
from analyzer.rules.ll201_undefined_name import UndefinedName
from analyzer.rules.ll202_possibly_unbound import PossiblyUnbound
from analyzer.rules.ll203_return_slot_resolves_elsewhere import ReturnSlotResolvesElsewhere
from analyzer.rules.ll204_possibly_unbound_by_contract import PossiblyUnboundByContract
from analyzer.rules.ll301_unpack_count_mismatch import UnpackCountMismatch
from analyzer.rules.ll401_backward_grad_count import BackwardGradCount
from analyzer.rules.ll402_saved_tensors_count import SavedTensorsCount
from analyzer.rules.ll403_backward_arity import BackwardArity

__all__ = ["ALL_RULES", "ENGINE_CODES", "rule_by_code"]

ALL_RULES: tuple[type[Rule], ...] = (
    ReturnShapeMismatch,
    TupleOrImplicitNone,
    ParenthesizedNotTuple,
    UndefinedName,
    PossiblyUnbound,
    ReturnSlotResolvesElsewhere,
    PossiblyUnboundByContract,
    UnpackCountMismatch,
    BackwardGradCount,
    SavedTensorsCount,
    BackwardArity,
)

# Diagnostics the engine itself emits about files it could not analyse.
ENGINE_CODES = {
    "LL000": "internal error: a rule or the flow analysis failed on this file (please report it)",
    "LL001": "the file is not valid Python (syntax error)",
    "LL002": "the file cannot be decoded (bad encoding or bytes)",
    "LL003": "the path cannot be read",
}


def rule_by_code(code: str) -> type[Rule] | None:
    for rule in ALL_RULES:
        if rule.code == code:
            return rule
    return None
