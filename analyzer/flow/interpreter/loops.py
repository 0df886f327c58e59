"""Loop bookkeeping: the over-approximated loop head, zero-pass and first-pass marks, and
iterables known to be non-empty.
"""

from __future__ import annotations


from analyzer import tree as T
from analyzer.flow.conditions import assume, atom, len_subject, subject_text
from analyzer.flow.interpreter.closures import Closures
from analyzer.flow.interpreter.frame import LoopFrame
from analyzer.flow.state import after_first_pass, EMPTY, Fact
from analyzer.flow.syntax import (
    attribute_targets, first_pass_test, iter_subject, ITER_WRAPPERS, literal_nonempty, model_structure, range_bound,
)


class Loops(Closures):
    """Builds loop heads and exits."""

    def _enter_loop(self, state: tuple, body: list[T.stmt], orelse: list[T.stmt], loop: T.stmt,
                    extra_names: set[str]) -> tuple[tuple, LoopFrame]:
        inner = self.module.bindings_of(body)
        assigned = (inner.bound | extra_names)
        body_mask = self.mask_of(assigned)
        deleted_mask = self.mask_of(inner.deleted)
        # Over-approximate the back edge: whatever the body may bind is possibly bound at the head
        # ("carried": only the first pass lacks it), and facts about reassigned names are dropped.
        head = []
        for p in self.invalidate_all(state, assigned | attribute_targets(body)):
            new = body_mask & ~p.maybe
            # a tuple rebuilt in the loop (`acc += (x,)`) has a size that depends on the trip count
            shapes = tuple(item for item in p.shapes if not item[0] & body_mask)
            head.append(p._replace(bound=p.bound & ~deleted_mask, maybe=p.maybe | body_mask,
                                carried=(p.carried | new) & ~p.bound, shapes=shapes))
        frame = LoopFrame(body_mask=body_mask, loop=loop, depth=self.branch_depth + 1)
        return self._join(head), frame

    def _note_zero_loop(self, body: list[T.stmt], caller: bool, targets: set[str] = frozenset(),
                        target_caller: bool = False) -> None:
        for n in self.module.bindings_of(body).bound:
            self.zero_loop_caller[n] = caller
        for n in targets:
            self.zero_loop_caller[n] = target_caller

    def _iterates_argument(self, it: T.expr) -> bool:
        """`for a in args`, `enumerate(sizes)`, `kwargs.items()`: the loop runs over an argument
        itself, a collection the caller may pass empty. Its target read after the loop is LL202's;
        a loop over something reached through an argument (`model.graph.nodes`, `obj.__dict__`) is
        usually over the object's structure, never empty in practice: its target is LL204's (of 7
        such reads in torch, the 2 true ones looped over an argument itself)."""
        while isinstance(it, T.Call):
            if isinstance(it.func, T.Name) and it.func.id in ITER_WRAPPERS and it.args:
                it = it.args[0]
            elif isinstance(it.func, T.Attribute) and it.func.attr in ("items", "keys", "values") and not it.args:
                it = it.func.value
            else:
                return False
        return isinstance(it, T.Name) and it.id in self.params

    def _reads_caller_data(self, it: T.expr) -> bool:
        """`for x in items`, `items.values()`, `enumerate(model.named_modules())`: the iterable
        comes from a parameter (an empty one is the caller's input). `range(n)` is a count."""
        while True:
            if isinstance(it, T.Call):
                if isinstance(it.func, T.Name) and it.func.id in ITER_WRAPPERS and it.args:
                    it = it.args[0]
                elif isinstance(it.func, T.Attribute):
                    it = it.func.value
                else:
                    return False
            elif isinstance(it, (T.Attribute, T.Subscript)):
                it = it.value
            else:
                break
        return isinstance(it, T.Name) and it.id in self.params

    def _iter_split(self, state: tuple, it: T.expr) -> tuple[bool, tuple, tuple]:
        """(iterable known non-empty, state where it is non-empty, state where it is empty)."""
        lit_nonempty = literal_nonempty(it)
        if lit_nonempty is True or _yields_itself(it):
            return True, state, EMPTY
        if model_structure(it):
            # the object's own structure is taken to be non-empty, except on a path that tested
            # it empty (`if self.data:` binds, then `for row in self.data:` reads)
            subject = iter_subject(it)
            a = self.facts.atom_of(subject) if subject is not None else None
            if a is None:
                return True, state, EMPTY
            runs, known_empty = [], []
            for p in state:
                (known_empty if assume(p, a.key, a.polarity) is None else runs).append(p)
            if not known_empty:
                return True, state, EMPTY
            return False, self._join(runs), self._join(known_empty)
        bound = range_bound(it)
        if bound is not None:
            # `range(n)` after `if n <= 0: raise` (n > 0) or `if n < 1: raise` (n >= 1)
            positive = atom(T.Compare(None, None, bound, [T.Gt(None, None)], [T.Constant(None, None, 0, None)]))
            at_least_one = atom(T.Compare(None, None, bound, [T.GtE(None, None)], [T.Constant(None, None, 1, None)]))
            t_paths, f_paths = [], []
            for p in state:
                facts = [Fact(a.key, a.polarity) for a in (positive, at_least_one) if a is not None]
                if any(f in p.facts for f in facts):
                    t_paths.append(p)
                elif all(Fact(f.key, not f.truth) in p.facts for f in facts):
                    f_paths.append(p)
                else:
                    t_paths.append(p)
                    f_paths.append(p)
            return (not f_paths and bool(t_paths)), self._join(t_paths), self._join(f_paths)
        subject = iter_subject(it)
        if subject is None:
            return False, state, state
        t, f = self._split(state, subject)
        if _zips(it):
            # as long as its shortest argument: that the first holds an item does not run it
            return False, t, state
        if f and self._item_read_before(it, subject):
            f = EMPTY
        return (not f and bool(t)), t, f

    def _item_read_before(self, it: T.expr, subject: T.expr) -> bool:
        """A simple statement just before the loop, in its block, read an item of what it iterates
        (`n = batch["input_ids"].shape[1]` before `for k in batch.keys()`, `first = xs[0]` before
        `for x in xs`, `mean = total / len(xs)`): the read raised unless the container held an
        item, so the loop runs. Only a constant index (a slice, `None`, `...` or a tensor index may
        read nothing), outside lambdas, comprehensions and short-circuited operands, and no
        statement in between (or the reading one) rebinds the container. A compound statement in
        between is passed over (a read inside it may not have run; a `return` inside it does not
        reach the loop), a def ends the search. A syntactic check, not a path fact: a fact on
        some paths only would keep them apart and change what the path budget merges."""
        text = subject_text(subject)
        if text is None or isinstance(self.info.node, T.Lambda):
            return False
        before = self.statements_before(self._parent_map().get(it))
        if before is None:
            return False
        roots = {text.split(".")[0]} | {text[:i] for i in range(len(text)) if text[i] == "."}
        for st in reversed(before):
            if self.module.bindings_of([st]).bound & roots or attribute_targets([st]) & roots:
                return False
            if isinstance(st, (T.FunctionDef, T.AsyncFunctionDef, T.ClassDef)):
                return False  # (a def may rebind it through `nonlocal`)
            if isinstance(st, (T.Assign, T.AnnAssign, T.AugAssign, T.Expr)) and _reads_item(st, text):
                return True
        return False

    def statements_before(self, stmt) -> "list[T.stmt] | None":
        """The statements before `stmt` in the block that holds it (the scope's body, an arm, a
        handler's or a `case`'s body: each is the `body`, `orelse` or `finalbody` of the
        statement's parent), or None when `stmt` is not a statement of a block."""
        owner = self._parent_map().get(stmt, self.info.node)
        for attr in ("body", "orelse", "finalbody"):
            block = getattr(owner, attr, None)
            if isinstance(block, list):
                for i, st in enumerate(block):
                    if st is stmt:
                        return block[:i]
        return None

    def _skipped_is_not_carried(self, outs: list[tuple], chain: list[T.If]) -> list[tuple]:
        """Branches that rejoin inside a loop: a name one of them binds and another skips was
        skipped in this very pass. On the skipping side it is no longer "unbound on the first
        pass only" (a binding later in the body that the next pass will have run): on the first
        pass it reaches the code after the branch unbound. Not so when the name was bound before
        the loop on some path (the earlier value may be what the pass reads), when the test is a
        first-pass test (`if i == 0:`), or for branches that leave the pass (`continue`): they do
        not rejoin, so `if i == 0: prev = x; continue` keeps its excuse."""
        live = [o for o in outs if o]
        if not self.loops or len(live) < 2 or not any(p.carried for o in live for p in o):
            return outs
        if any(first_pass_test(link.test) for link in chain):
            return outs
        # only what these branches themselves bind
        arms = self.mask_of(set().union(*(self.module.bindings_of(link.body).bound for link in chain),
                                        self.module.bindings_of(chain[-1].orelse).bound))
        bound_somewhere = 0
        for o in live:
            every = ~0
            for p in o:
                every &= p.bound
            bound_somewhere |= every
        bound_somewhere &= arms
        if not bound_somewhere:
            return outs
        frame_line = self.loops[-1].line
        for name, bit in self.index.items():
            if bound_somewhere & bit and any(ln < frame_line for ln in self.binding_lines(name)):
                bound_somewhere &= ~bit
        # a path that got here past a nested first-pass test's other arm (`i == 0` false) was
        # skipped on a later pass only: it keeps its excuse
        return [self._join([p if after_first_pass(p) else p._replace(carried=p.carried & ~(bound_somewhere & ~p.bound))
                            for p in o])
                if any(p.carried & bound_somewhere for p in o) else o for o in outs]


def _reads_item(st: T.stmt, text: str) -> bool:
    """`st` surely evaluates `<text>[<constant>]` or `... / len(<text>)`."""
    stack: list[T.AST] = [st]
    while stack:
        node = stack.pop()
        if isinstance(node, (T.Lambda, T.ListComp, T.SetComp, T.DictComp, T.GeneratorExp)):
            continue
        if isinstance(node, (T.BoolOp, T.IfExp)):
            stack.append(node.values[0] if isinstance(node, T.BoolOp) else node.test)
            continue
        if (isinstance(node, T.Subscript) and isinstance(node.ctx, T.Load) and _constant_index(node.slice)
                and subject_text(node.value) == text):
            return True
        if isinstance(node, T.BinOp) and isinstance(node.op, (T.Div, T.FloorDiv)):
            divisor = len_subject(node.right)
            if divisor is not None and subject_text(divisor) == text:
                return True  # `total / len(xs)`: a ZeroDivisionError on an empty `xs`
        stack.extend(T.iter_child_nodes(node))
    return False


def _constant_index(index: T.expr) -> bool:
    if isinstance(index, T.UnaryOp) and isinstance(index.op, T.USub):
        index = index.operand
    return isinstance(index, T.Constant) and type(index.value) in (int, str)


def _zips(it: T.expr) -> bool:
    """`zip(a, b)` (under `enumerate`, `sorted`, ...): as long as its shortest argument."""
    while isinstance(it, T.Call) and isinstance(it.func, T.Name) and it.args:
        if it.func.id == "zip":
            return True
        it = it.args[0]
    return False


def _yields_itself(it: T.expr) -> bool:
    """`module.modules()`, `enumerate(model.named_modules())`: a torch module's walk starts with the
    module itself, so the loop runs at least once."""
    while isinstance(it, T.Call) and isinstance(it.func, T.Name) and it.func.id in ITER_WRAPPERS and it.args:
        it = it.args[0]
    return (isinstance(it, T.Call) and isinstance(it.func, T.Attribute)
            and it.func.attr in ("modules", "named_modules") and not it.args)
