"""What a watched function should return: from an explicit `Expect`, from the static pass (the
arities of its return statements, via `analyzer.api`), or learned from its first call; and, per
slot of the tuple, the kinds of value it holds (`kinds`).

The static pass is imported lazily, on a watched function's first checked call.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable, Optional, Union

from analyzer.runtime.kinds import SlotKinds
from analyzer.runtime.retsource import explainer

__all__ = ["Expect", "ReturnContract", "build_contract", "describe"]

__tracebackhide__ = True


@dataclass(frozen=True)
class Expect:
    """An explicit contract for `watch(expect=...)`.

    arity: the tuple length every call must return.
    not_none: slots (0-based) that must never be None, or "all": every slot except those that
    the source fills with a literal None on some path.
    """

    arity: Optional[int] = None
    not_none: Union[tuple[int, ...], str] = ()


@dataclass(frozen=True)
class StaticShape:
    """The static pass's view of one function, reduced to what the tracer checks."""

    arity: Optional[int]  # None: some return's shape is unknown, so arity is not checked
    lines: tuple[int, ...]  # the return lines that produce `arity`
    none_ok: bool  # some path returns None (or falls off the end)
    none_slots: frozenset[int]  # slots some return fills with a literal None


def static_shape(func: Callable[..., Any]) -> Optional[StaticShape]:
    """None when the source is unavailable (then the first call teaches the arity)."""
    try:
        from analyzer.api import contract_for

        contract = contract_for(func)
    except Exception:  # the static pass must never break the traced job
        return None
    if contract is None or not contract.returns:
        return None
    none_ok = contract.falls_off_end or any(r.is_none for r in contract.returns)
    tuples = [r for r in contract.returns if not r.is_none]
    if not tuples or any(r.arity is None or r.starred for r in tuples):
        # a return whose shape is decided elsewhere (a call, a starred item): no arity check,
        # rather than a guess that would raise false alarms
        return StaticShape(None, (), none_ok, contract.none_slots())
    by_arity: dict[int, list[int]] = {}
    for r in tuples:
        by_arity.setdefault(r.arity, []).append(r.line)
    # returns that disagree are the bug class itself (LL101): expect what most returns produce,
    # and on a tie the longer tuple ("added `bias` to one return and forgot the other")
    arity = max(by_arity, key=lambda a: (len(by_arity[a]), a))
    return StaticShape(arity, tuple(sorted(by_arity[arity])), none_ok, contract.none_slots())


def _lines(lines: tuple[int, ...]) -> str:
    if len(lines) == 1:
        return f"line {lines[0]}"
    return "lines " + ", ".join(map(str, lines[:-1])) + f" and {lines[-1]}"


def describe(out: Any) -> str:
    """What came back, in words: "5 values", "None", "a Tensor"."""
    if isinstance(out, tuple):
        return f"{len(out)} values"
    if out is None:
        return "None"
    return f"a {type(out).__name__}"


class ReturnContract:
    """The check run on each return of one watched function. Thread-safe: learning takes a
    lock once; afterwards the fields are read-only."""

    __slots__ = ("name", "arity", "none_ok", "not_none", "evidence", "learning", "_learn_lock", "_all_slots",
                 "_none_slots", "kinds", "func")

    def __init__(self, name: str, arity: Optional[int], none_ok: bool, evidence: str, learning: bool,
                 not_none: Union[tuple[int, ...], str], none_slots: frozenset[int],
                 func: Optional[Callable[..., Any]] = None) -> None:
        self.name = name
        self.func = func
        self.kinds: Optional[SlotKinds] = None
        self.arity = arity
        self.none_ok = none_ok
        self.evidence = evidence
        self.learning = learning
        self._learn_lock = threading.Lock()
        self._none_slots = none_slots
        self._all_slots = not_none == "all"
        self.not_none: tuple[int, ...] = () if self._all_slots else tuple(not_none)
        if self._all_slots and arity is not None:
            self.not_none = self._slots_for(arity)
        if arity is not None:
            self._start_kinds(arity)

    def _start_kinds(self, arity: int) -> None:
        explain = explainer(self.func, arity) if self.func is not None else None
        self.kinds = SlotKinds(self.name, arity, self._none_slots, explain)

    def _slots_for(self, arity: int) -> tuple[int, ...]:
        return tuple(i for i in range(arity) if i not in self._none_slots)

    def check(self, out: Any, call: int, report: Callable[[str, str], None]) -> None:
        if self.learning:
            if not self._learn(out, call):
                return
        arity = self.arity
        if arity is not None:
            if isinstance(out, tuple):
                if len(out) != arity:
                    report(f"{self.name}:arity", f"{self.name} returned {len(out)} values on call {call}; {self.evidence}")
                    return
            elif out is None and self.none_ok:
                return
            else:
                report(f"{self.name}:arity", f"{self.name} returned {describe(out)} on call {call}; {self.evidence}")
                return
        if self.not_none and isinstance(out, tuple):
            for slot in self.not_none:
                if slot < len(out) and out[slot] is None:
                    report(f"{self.name}:none:{slot}",
                           f"{self.name} returned None in slot {slot} on call {call}; {self._none_evidence()}")
        kinds = self.kinds
        if kinds is not None and isinstance(out, tuple) and len(out) == kinds.arity:
            kinds.check(out, call, report)

    def _none_evidence(self) -> str:
        if self._all_slots and self._none_slots:
            held = ", ".join(map(str, sorted(self._none_slots)))
            return f"only slot(s) {held} may be None (its source puts a literal None only there)"
        if self._all_slots:
            return "its source never returns None in any slot"
        return "watch(expect=...) says it is never None"

    def _learn(self, out: Any, call: int) -> bool:
        """Without source: the first call that returns a tuple fixes the arity. Returns whether
        `out` should be checked now. None and non-tuples are not judged: without the source,
        they may be a legitimate path."""
        if not isinstance(out, tuple):
            return False
        with self._learn_lock:
            if self.learning:
                self.arity = len(out)
                self.evidence = f"call {call} returned {len(out)} (no source, so that first call set the arity)"
                if self._all_slots:
                    self.not_none = tuple(i for i, v in enumerate(out) if v is not None)
                self._start_kinds(len(out))
                self.kinds.check(out, call, lambda site, message: None)  # the first call teaches kinds too
                self.learning = False
                return False
        return True


def build_contract(func: Callable[..., Any], name: str, expect: Optional[Expect]) -> ReturnContract:
    shape = static_shape(func)
    not_none = expect.not_none if expect is not None else ()
    none_slots = shape.none_slots if shape is not None else frozenset()
    if expect is not None and expect.arity is not None:
        none_ok = shape.none_ok if shape is not None else False
        return ReturnContract(name, expect.arity, none_ok, f"expected {expect.arity} (watch(expect=...))", False,
                              not_none, none_slots, func)
    if shape is None:
        return ReturnContract(name, None, True, "", True, not_none, none_slots, func)
    evidence = f"its returns at {_lines(shape.lines)} produce {shape.arity}" if shape.arity is not None else ""
    return ReturnContract(name, shape.arity, shape.none_ok, evidence, False, not_none, none_slots, func)
