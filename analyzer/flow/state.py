"""Path-sensitive abstract state for definite assignment.

A `State` is a small set of `Path`s (disjuncts). Each path carries, as bitmasks over the scope's
locals, which names are bound on every execution it stands for (`bound`) and on some (`maybe`),
plus the branch conditions assumed on the way (`facts`). Keeping paths apart is what lets
`if flag: x = 1` ... `if flag: use(x)` pass: the path where `flag` is false never reaches the use.
When too many paths pile up, the facts about some subjects are forgotten (those the scope tests
again furthest ahead first) and the paths that differed only in them are merged; a later test of
a forgotten subject marks the path `imprecise`, and an imprecise path never produces a "may be
unbound" finding (we prefer a missed bug to a false alarm).
"""

from __future__ import annotations

from typing import Callable, Iterable, NamedTuple, Optional

from analyzer import tree as T

__all__ = ["Fact", "FactKey", "Literal", "Path", "State", "MAX_PATHS", "join", "EMPTY", "NONE_LITERAL", "after_first_pass",
           "forget_new_facts", "forget_subjects", "uncarry", "zero_pass"]

# 24 was enough for most code but merged long training functions (accelerate's cluster config,
# OpenRLHF's experience maker); 64 costs ~8% more time on peft than 32
MAX_PATHS = 64


class FactKey(NamedTuple):
    """What a branch condition tests (built by `analyzer.flow.conditions.atom`).

    kind: "truthy" (the subject is truthy; `value` is None), "eq" (the subject equals, or is, the
    literal `value`), "in" (the subject is one of the literals in the frozenset `value`), "le"
    (the subject is <= the expression whose text is `value`), "same" (the subject is the object
    held by the local named `value`: a sentinel), "falsy" (the subject's type has one falsy value,
    the literal `value`: `""` for a str argument).
    A named tuple: keys hash and compare like the plain tuples they replace.
    """

    kind: str
    subject: str
    value: object = None


class Fact(NamedTuple):
    """A condition a path assumed: `key` held (`truth` True) or did not."""

    key: FactKey
    truth: bool


class Literal(NamedTuple):
    """A literal a condition compares with: `("const", type name, value)` for a constant,
    `("name", dotted text, None)` for an enum-like constant (`Mode.TRAIN`)."""

    kind: str
    type_name: str
    value: object = None


Facts = frozenset  # of Fact


class Path(NamedTuple):
    """One disjunct of a state. A named tuple rather than a frozen dataclass: the interpreter builds
    one per bind, fact and merge (about 130,000 on installed peft), and a tuple is built in a third
    of the time; paths are only ever compared and hashed with paths, which a tuple does alike."""

    bound: int
    maybe: int
    facts: Facts
    # names whose only unbound case is the first iteration of an enclosing loop (they are bound
    # later in the loop body, so earlier iterations bind them on the way round)
    carried: int = 0
    imprecise: bool = False
    # local index -> tuple shape of the value last assigned (see analyzer.flow.shapes)
    shapes: tuple = ()
    # names unbound on this path only because a loop that binds them ran zero times
    loopzero: int = 0
    # subjects of facts dropped when paths were merged; testing one of them again makes the path
    # imprecise (the correlation it would have decided is lost)
    dropped: frozenset = frozenset()

    def bind(self, mask: int) -> "Path":
        return Path(self.bound | mask, self.maybe | mask, self.facts, self.carried & ~mask, self.imprecise,
                    self.shapes, self.loopzero & ~mask, self.dropped)

    def unbind(self, mask: int) -> "Path":
        return Path(self.bound & ~mask, self.maybe & ~mask, self.facts, self.carried & ~mask, self.imprecise,
                    self.shapes, self.loopzero & ~mask, self.dropped)

    def with_facts(self, facts: Facts) -> "Path":
        return Path(self.bound, self.maybe, facts, self.carried, self.imprecise, self.shapes, self.loopzero,
                    self.dropped)

    def with_shapes(self, shapes: tuple) -> "Path":
        return Path(self.bound, self.maybe, self.facts, self.carried, self.imprecise, shapes, self.loopzero,
                    self.dropped)


State = tuple  # tuple[Path, ...]; empty = unreachable
EMPTY: tuple = ()


def _merge_two(a: Path, b: Path, facts: Facts) -> Path:
    bound = a.bound & b.bound
    maybe = a.maybe | b.maybe
    # a name stays "carried" only if, on each side, it is either bound or carried
    carried = ((a.carried | a.bound) & (b.carried | b.bound)) & ~bound
    shapes = a.shapes if a.shapes == b.shapes else tuple(s for s in a.shapes if s in b.shapes)
    loopzero = ((a.loopzero | a.bound) & (b.loopzero | b.bound)) & ~bound
    return Path(bound, maybe, facts, carried, a.imprecise or b.imprecise, shapes, loopzero, a.dropped | b.dropped)


def join(*states: Iterable[Path], next_test: Optional[Callable[[str], float]] = None) -> tuple:
    """Union of states: paths with the same facts are merged; too many paths are widened.

    With `next_test` (where the scope next tests a subject), the facts needed furthest ahead are
    forgotten first, one subject at a time, as a cache evicts the entry used furthest in the
    future; without it, or when that is not enough, every path is merged into one."""
    paths = _group(p for st in states for p in st)
    if len(paths) > MAX_PATHS and next_test is not None:
        ranked = sorted(((next_test(s), str(s), s) for s in {f.key.subject for p in paths for f in p.facts}), reverse=True)
        # subjects never tested again go together, in one pass; then one at a time
        never = {s for rank, _, s in ranked if rank == float("inf")}
        if never:
            paths = _forget(paths, never)
        for rank, _, subject in ranked:
            if len(paths) <= MAX_PATHS:
                break
            if subject not in never:
                paths = _forget(paths, {subject})
    if len(paths) > MAX_PATHS:
        paths = (widen(paths),)
    return paths


def _forget(paths: tuple, subjects: set) -> tuple:
    """Merge the paths that differ only in facts about `subjects`, recorded as dropped: a later test
    of one makes the path imprecise (quiet), since the correlation it would decide is lost."""
    return _group(Path(p.bound, p.maybe, frozenset(f for f in p.facts if f.key.subject not in subjects), p.carried,
                       p.imprecise, p.shapes, p.loopzero, p.dropped | subjects) for p in paths)


def _group(paths: Iterable[Path]) -> tuple:
    """Paths with the same facts merged into one."""
    by_facts: dict[Facts, Path] = {}
    for p in paths:
        prev = by_facts.get(p.facts)
        by_facts[p.facts] = p if prev is None else (prev if prev == p else _merge_two(prev, p, p.facts))
    return tuple(by_facts.values())


def widen(paths: Iterable[Path]) -> Path:
    """Merge every path into one, keeping only the facts all of them share.

    The merge is exact until a dropped fact's subject is tested again: the subjects are recorded
    in `dropped`, and the analysis marks the path imprecise when that happens."""
    paths = list(paths)
    acc = paths[0]
    common = set(acc.facts)
    every = set(acc.facts)
    for p in paths[1:]:
        common &= p.facts
        every |= p.facts
        acc = _merge_two(acc, p, acc.facts)
    lost = frozenset(f.key.subject for f in every - common)
    return Path(acc.bound, acc.maybe, frozenset(common), acc.carried, acc.imprecise, acc.shapes,
                acc.loopzero, acc.dropped | lost)


# ------------------------------------------------------------ transforms the interpreter applies to states


def forget_subjects(state: tuple, subjects: set[str]) -> tuple:
    """`state` with every fact about `subjects` forgotten."""
    if not subjects or not any(f.key.subject in subjects for p in state for f in p.facts):
        return state
    return join([p.with_facts(frozenset(f for f in p.facts if f.key.subject not in subjects)) for p in state])


NONE_LITERAL = Literal("const", "NoneType", None)


def forget_new_facts(after: tuple, before: tuple, node: T.expr) -> tuple:
    """After `a or b` / `x if c else y` used as a value: the paths split on its operands rejoin.
    What they assumed there decides nothing later (no statement branched on it), and keeping it
    only multiplies paths until they are widened and the analysis goes quiet. A walrus inside
    is the exception: what it bound depends on those facts. For the same reason a test in it of
    a subject forgotten earlier (which makes a path imprecise) leaves no imprecision behind."""
    if any(isinstance(n, T.NamedExpr) for n in T.walk(node)):
        return after
    if any(p.imprecise for p in after) and not any(p.imprecise for p in before):
        after = join([p._replace(imprecise=False) for p in after])
    if len(after) < 2:
        return after
    known: set = set()
    for p in before:
        known |= p.facts
    if all(p.facts <= known for p in after):
        return after
    return join([p if p.facts <= known else p.with_facts(p.facts & known) for p in after])


def after_first_pass(p: Path) -> bool:
    """The path assumed `x == 0` false (`x` counting passes): it is not on the first pass."""
    return any(not f.truth and f.key.kind == "eq" and f.key.value == Literal("const", "int", 0) for f in p.facts)


def uncarry(state: tuple, body_mask: int) -> tuple:
    """Leaving a loop: "unbound on the first pass only" becomes plain "maybe unbound" for what the
    loop's body binds (`body_mask`), except on a path known not to be on the first pass (`i == 0`
    was false): the first pass bound it there (`for i, x in enumerate(xs): if i == 0: first = x`
    ... `return first`). A name an enclosing loop carries and this one does not bind stays
    carried: leaving an inner loop is no later pass of the outer one."""
    if not any(p.carried & body_mask for p in state):
        return state
    return join([p.bind(p.carried & body_mask) if after_first_pass(p) else p._replace(carried=p.carried & ~body_mask)
                 for p in state])


def zero_pass(state: tuple, body_mask: int) -> tuple:
    """The exit of a loop that ran zero times: what only its body binds is unbound "by loop"."""
    return join([p._replace(loopzero=p.loopzero | (body_mask & ~p.bound)) for p in state])
