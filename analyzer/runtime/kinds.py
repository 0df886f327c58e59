"""Kind contracts for the slots of a watched function's tuple: what sort of value each slot holds.

A right-sized tuple can still carry a wrong value: the disabled-adapter branch of a parameter
helper that returns a stale module-level flag where the other branch returns `base_layer.bias`.
Each slot's kinds are learned from the calls (None, bool, number, str, Tensor on a device type,
container, other object), with one fact from the static pass: which slots some return fills
with a literal None. The rules:

- a slot that has held one non-None kind may not receive another (a Tensor slot gets a bool);
- in a slot that no return fills with a literal None, None comes from an expression such as
  `base_layer.bias`: an optional object. Such a slot may not also hold a bool, int or str (the
  kinds a stale loop variable or flag has), in either order.

Metadata only: types and `tensor.device.type` are read, never a tensor's values, and no value is
kept (kinds are strings). After a call's type signature has been seen clean once, a call with
the same signature costs one tuple of types and a set lookup.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Optional

__all__ = ["SlotKinds", "kind_of", "describe_value"]

__tracebackhide__ = True

# kinds a stale loop variable or a flag has; an optional object is none of them
SCALARS = frozenset({"bool", "int", "str"})
_MAX_SIGNATURES = 64  # past this many distinct type signatures, every call takes the full check
_tensor_type: Optional[type] = None


def _tensor() -> type:
    global _tensor_type
    if _tensor_type is None:
        import torch

        _tensor_type = torch.Tensor
    return _tensor_type


def kind_of(value: Any) -> str:
    """The kind of a value, as a short string: "None", "bool", "int", "float", "str",
    "Tensor on cuda", "container", "object"."""
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, _tensor()):
        return f"Tensor on {value.device.type}"
    if isinstance(value, (tuple, list, dict, set, frozenset)):
        return "container"
    return "object"


def describe_value(value: Any) -> str:
    """A value in words, without reading a tensor: "a bool (True)", "a Tensor (float32, cuda)"."""
    kind = kind_of(value)
    if kind == "None":
        return "None"
    if kind in ("bool", "int", "float"):
        return f"a {kind} ({value!r})"
    if kind == "str":
        return f"a str ({value[:40]!r})"
    if kind.startswith("Tensor"):
        return f"a Tensor ({str(value.dtype).replace('torch.', '')}, {value.device.type})"
    return f"a {type(value).__name__}"


def _compatible(old: str, new: str) -> bool:
    # an int where a float was (a scaling of 2 vs 2.0) is not a drift worth stopping a run for
    return {old, new} == {"int", "float"}


class SlotKinds:
    """The kinds seen in each slot of one function's `arity`-tuples, and the check."""

    __slots__ = ("name", "arity", "literal_none", "seen", "signatures", "lock", "explain")

    def __init__(self, name: str, arity: int, literal_none: frozenset[int],
                 explain: Optional[Callable[[int, Any], str]] = None) -> None:
        self.name = name
        self.arity = arity
        self.literal_none = literal_none
        self.seen: list[dict[str, int]] = [{} for _ in range(arity)]  # slot -> kind -> first call
        self.signatures: set[tuple[type, ...]] = set()
        self.lock = threading.Lock()
        self.explain = explain  # (slot, value) -> extra words about where the value came from

    def check(self, out: tuple, call: int, report: Callable[[str, str], None]) -> None:
        signature = tuple(map(type, out))
        if signature in self.signatures:
            return
        clean = True
        with self.lock:
            for slot, value in enumerate(out):
                problem = self._judge(slot, kind_of(value))
                if problem is None:
                    continue
                clean = False
                report(f"{self.name}:kind:{slot}", self._message(slot, value, call, problem))
            if clean:
                for slot, value in enumerate(out):
                    self.seen[slot].setdefault(kind_of(value), call)
                if len(self.signatures) < _MAX_SIGNATURES:
                    self.signatures.add(signature)

    def _judge(self, slot: int, kind: str) -> Optional[str]:
        seen = self.seen[slot]
        if kind in seen:
            return None
        others = [k for k in seen if k != "None"]
        optional = slot not in self.literal_none
        if kind == "None":
            if optional and any(k in SCALARS for k in others):
                return "optional"
            return None
        if others and not all(_compatible(k, kind) for k in others):
            return "drift"
        if optional and "None" in seen and kind in SCALARS:
            return "optional"
        return None

    def _message(self, slot: int, value: Any, call: int, problem: str) -> str:
        seen = self.seen[slot]
        before = ", ".join(f"{k} (from call {c})" for k, c in sorted(seen.items(), key=lambda kc: kc[1]))
        text = (f"{self.name} returned {describe_value(value)} in slot {slot} on call {call}; "
                f"earlier calls returned {before} there")
        if problem == "optional":
            text += (f". No return of {self.name} writes a literal None in slot {slot}, so its None comes from an "
                     f"optional object (such as a layer's bias), which is never a bool, int or str")
        if self.explain is not None:
            extra = self.explain(slot, value)
            if extra:
                text += f". {extra}"
        return text
