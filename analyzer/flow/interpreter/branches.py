"""Compound statements: the dispatcher that runs a block, and the handlers that fork and join
(`if`, `for`, `while`, `with`, `try`, `match`).
"""

from __future__ import annotations

import builtins

from analyzer import tree as T
from analyzer.flow.conditions import atom, condition_subjects, literal_value, dispatch_subject, match_exhaustive, value_dispatch_on_local
from analyzer.flow.context import SUPPRESSING_CMS
from analyzer.flow.interpreter.frame import LoopFrame
from analyzer.flow.interpreter.statements import Statements
from analyzer.flow.names import pattern_names, target_names
from analyzer.flow.state import EMPTY, forget_subjects, uncarry, zero_pass
from analyzer.flow.syntax import (
    dotted_name, elif_chain, handler_catches_nameerror, index_search, irrefutable, may_exit, surely_bound,
)


class Runner(Statements):
    """Interprets one scope (module, class body or function): the top of the stack."""

    def block(self, state: tuple, body: list[T.stmt]) -> tuple:
        for stmt in body:
            if not state:
                break
            state = self.stmt(state, stmt)
        return state

    def loop_body(self, state: tuple, body: list[T.stmt], frame: LoopFrame) -> tuple:
        for stmt in body:
            if not state:
                break
            state = self.stmt(state, stmt)
            if frame.unconditional and may_exit(stmt):
                frame.unconditional = False
        return state

    def stmt(self, state: tuple, node: T.stmt) -> tuple:
        self.at = node
        method = getattr(self, "s_" + type(node).__name__, None)
        if method is None:
            return self.expr_children(state, node)
        return method(state, node)

    def s_If(self, state, node):
        chain = elif_chain(node)
        self.branch_depth += 1
        outs = []
        cur = state
        for link in chain:
            self.branch_depth -= 1
            t, cur = self.cond(cur, link.test)
            self.branch_depth += 1
            outs.append(self.block(t, link.body))
        last = chain[-1]
        if (len(chain) >= 2 and not last.orelse and dispatch_subject(chain) is not None
                and not value_dispatch_on_local(chain, self.closed_params)):
            # `if self.kind == "a": v = ... elif self.kind == "b": v = ...` (or over isinstance) with
            # no else is a dispatch the code means to be exhaustive: the fall-through counts as
            # binding what every arm binds (arms that raise or return do not count: they never
            # reach the use)
            arms = [self.module.bindings_of(link.body).bound for link, out in zip(chain, outs) if out]
            common = set.intersection(*arms) if arms else set()
            for name in sorted(common):
                cur = self.bind(cur, name)
        else:
            cur = self.block(cur, last.orelse)
        self.branch_depth -= 1
        return self._join(*self._skipped_is_not_carried([cur, *outs], chain))

    def _exact_head(self, state: tuple, approx: tuple, body: list[T.stmt], frame: LoopFrame, entry_of) -> tuple:
        """The loop head as a fixpoint of real passes, for bodies that `del` a name or replace a
        sentinel.

        The usual head over-approximates the back edge and forgets the facts about names the body
        reassigns. With `del` at the end of a pass (`del outputs` to free memory) that loses the
        flag that says the next pass rebinds the name (`if consumed: outputs = step()`), so such
        loops get a few dry passes (nothing reported) until the head stops changing. If it does
        not settle within six passes, the approximation stands."""
        inner = self.module.bindings_of(body)
        # a sentinel the body replaces (`best = _MISSING`, then `best, score = ...` in the loop)
        # says, after the loop, whether the pass that binds the others ran: worth the same passes
        sentinel = any(f.key.kind == "same" and f.key.subject in inner.bound and f.key.value not in self.index
                       for p in state for f in p.facts)
        if not (inner.deleted or sentinel) or self.dry >= 2:
            return approx
        assigned = inner.bound | inner.deleted
        head = state
        for _ in range(6):
            trial = LoopFrame(body_mask=frame.body_mask, loop=frame.loop, depth=frame.depth)
            self.dry += 1
            try:
                end = self._run_loop(head, entry_of(head), body, trial)
            finally:
                self.dry -= 1
            # the back edge keeps only facts about what the body assigns (the flags that say what
            # the next pass does); tests of loop-invariant values would multiply paths forever
            new = self._join(head, [self._keep_facts(p, assigned) for p in self._join(end, *trial.continues)])
            if set(new) == set(head):
                return head
            head = new
        return approx

    def _run_loop(self, head: tuple, entry: tuple, body: list[T.stmt], frame: LoopFrame) -> tuple:
        self.loops.append(frame)
        self.branch_depth += 1
        end = self.loop_body(entry, body, frame)
        self.branch_depth -= 1
        self.loops.pop()
        return end

    def s_For(self, state, node):
        state = self.expr(state, node.iter)
        target_names_set = {n.id for n in target_names(node.target)}
        head, frame = self._enter_loop(state, node.body, node.orelse, node, target_names_set)

        def entry_of(h: tuple) -> tuple:
            return self.assign_target(self._iter_split(h, node.iter)[1], node.target)

        head = self._exact_head(state, head, node.body, frame, entry_of)
        nonempty_known, iter_t, iter_f = self._iter_split(head, node.iter)
        entry = iter_t
        entry = self.assign_target(entry, node.target)
        end = self._run_loop(head, entry, node.body, frame)
        if _endless(node.iter):
            # `for i in itertools.count():` ends only by `break` (or a return or raise inside)
            return uncarry(self._join(*frame.breaks), frame.body_mask)
        # exits: zero iterations from the original state, or the end of any pass
        zero = EMPTY if nonempty_known else zero_pass(self._iter_split(state, node.iter)[2], frame.body_mask)
        if zero:
            self._note_zero_loop(node.body, self._reads_caller_data(node.iter), target_names_set,
                                 self._iterates_argument(node.iter))
        mask = frame.body_mask
        exit_state = self._join(zero, uncarry(end, mask), uncarry(self._join(*frame.continues), mask))
        hit = index_search(node)
        if hit is not None:
            # some pass takes `if i == k:` (`syntax.index_search`): no exit skipped it, and one
            # that breaks there leaves only by that `break`
            if hit.body and isinstance(hit.body[-1], T.Break):
                exit_state = EMPTY
            else:
                exit_state = self._join(uncarry(end, mask), uncarry(self._join(*frame.continues), mask))
                for name in sorted(surely_bound(hit.body) - self.module.bindings_of(node.body).deleted):
                    exit_state = self.bind(exit_state, name)
        self.branch_depth += 1
        exit_state = self.block(exit_state, node.orelse)
        self.branch_depth -= 1
        return self._join(exit_state, uncarry(self._join(*frame.breaks), frame.body_mask))

    s_AsyncFor = s_For

    def s_While(self, state, node):
        head, frame = self._enter_loop(state, node.body, node.orelse, node, set())
        head = self._exact_head(state, head, node.body, frame, lambda h: self.cond(h, node.test)[0])
        first_t, first_f = self.cond(state, node.test)
        if first_f and self._true_on_entry(node):
            first_f = EMPTY  # `return_code = -1` just before `while return_code == -1:`
        t, f = self.cond(head, node.test)
        end = self._run_loop(head, t, node.body, frame)
        # after the body, the test runs again; what it found before may have changed (the body
        # mutates `proj` in `while proj.pending(): proj.pop()`), so its own facts are forgotten
        # first (facts about other subjects stay: reassigned names were forgotten at the head). A
        # local variable changes only by being rebound, which forgets its facts already, so what
        # the test found about `rc` in `while rc == -1:` still holds on a pass that left it alone
        mutable = {s for s in condition_subjects(node.test) if not (s.isidentifier() and s in self.index)}
        again = forget_subjects(uncarry(self._join(end, *frame.continues), frame.body_mask), mutable)
        _, f_again = self.cond(again, node.test) if (end or frame.continues) else (EMPTY, EMPTY)
        exit_state = self._join(zero_pass(first_f, frame.body_mask), f_again)
        if first_f:
            self._note_zero_loop(node.body, any(self._reads_caller_data(n) for n in T.walk(node.test)
                                                if isinstance(n, T.Name)))
        self.branch_depth += 1
        exit_state = self.block(exit_state, node.orelse)
        self.branch_depth -= 1
        return self._join(exit_state, uncarry(self._join(*frame.breaks), frame.body_mask))

    def _locally_bound(self, name: str) -> bool:
        """Bound in this scope, or in the module by anything but an import."""
        return name in self.index or (name in self.module.bindings.bound and not self._only_imported(name))

    def _own_class(self, name: str) -> bool:
        """Is `name` a module-level name that only `class` statements bind (an exception class
        the module defines: only code that runs `raise` raises it, never a builtin operation)?"""
        b = self.module.bindings
        return (name not in self.index and name in b.bound and name not in b.nondef_bound
                and name not in self.module.defined_functions)

    def _only_imported(self, name: str) -> bool:
        """Is `name` a module-level name that only imports bind?"""
        b = self.module.bindings
        return name not in self.index and name in b.bound and name not in b.nonimport_bound

    def _true_on_entry(self, node: T.While) -> bool:
        """Does the loop's test hold when the loop is reached, because the block sets its one
        local subject to a literal before it with nothing rebinding it in between (`rc = -1` ...
        `while rc == -1:`, `done = False` ... `while not done:`)?"""
        a = atom(node.test)
        if a is None or a.key.kind not in ("eq", "in", "truthy") or not a.key.subject.isidentifier():
            return False
        name = a.key.subject
        before = self.statements_before(node)
        for st in reversed(before or ()):
            if name not in self.module.bindings_of([st]).bound:
                continue
            if not (isinstance(st, T.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], T.Name)):
                return False
            lit = literal_value(st.value)
            if lit is None or lit.kind != "const":
                return False
            if a.key.kind == "eq":
                holds = lit.value == a.key.value.value and a.key.value.kind == "const"
            elif a.key.kind == "in":
                holds = any(v.kind == "const" and v.value == lit.value for v in a.key.value)
            else:
                holds = bool(lit.value)
            return holds == a.polarity
        return False

    def s_With(self, state, node):
        suppress = False
        for item in node.items:
            state = self.expr(state, item.context_expr)
            if self._may_suppress(item.context_expr):
                suppress = True
            if item.optional_vars is not None:
                state = self.assign_target(state, item.optional_vars)
        if not suppress:
            return self.block(state, node.body)
        entry = state
        self.branch_depth += 1
        end = self.block(state, node.body)
        self.branch_depth -= 1
        return self._join(end, self._widen_by_body(entry, node.body))

    s_AsyncWith = s_With

    def _may_suppress(self, expr: T.expr) -> bool:
        func = expr.func if isinstance(expr, T.Call) else expr
        name = dotted_name(func)
        if name is None:
            return False
        return name in SUPPRESSING_CMS or name.split(".")[-1] in self.module.suppressing_classes

    def s_Try(self, state, node):
        catches_nameerror = any(handler_catches_nameerror(h) for h in node.handlers)
        if catches_nameerror:
            self.suppress_nameerror += 1
        entry = state
        # the state before each statement of the body: a handler for specific exceptions is
        # entered only from the statements that can raise them
        before: list[tuple] = []
        end = state
        for st in node.body:
            if not end:
                break
            before.append(end)
            end = self.stmt(end, st)
        if catches_nameerror:
            self.suppress_nameerror -= 1
        handler_entry = self._widen_by_body(entry, node.body)
        self.branch_depth += 1
        outs = [self.block(end, node.orelse)]
        for h in node.handlers:
            span = self._raisers(node.body, h)
            if span is None:
                start = handler_entry
            else:  # (no state before it: the statements before it never complete)
                first, last = span
                start = self._widen_by_body(before[first], node.body[first:last + 1]) if first < len(before) else EMPTY
            hs = self.expr(start, h.type)
            if h.name:
                hs = self.bind(hs, h.name)
            hs = self.block(hs, h.body)
            if h.name:
                hs = self.unbind(hs, h.name)
            outs.append(hs)
        self.branch_depth -= 1
        after = self._join(*outs)
        if node.finalbody and after:
            after = self.block(after, node.finalbody)
        return after

    s_TryStar = s_Try

    def _raisers(self, body: list[T.stmt], h: T.ExceptHandler):
        """(first, last): the indices of the first and the last statement of `body` that can raise
        what `h` catches, when `h` names only specific builtin exceptions (an import raises
        ImportError, `x = 0` nothing, `rc = proc.returncode` an AttributeError). The handler sees
        the bindings of the statements before the last one, not those after it. None where the
        whole body counts: a broad or unclassified handler, or one no statement can reach (a dead
        handler is left as it was)."""
        caught = _specific_exceptions(h.type, self._locally_bound, self._only_imported, self._own_class)
        if caught is None:
            return None
        hits = []
        for i, st in enumerate(body):
            raised = _raises_only(st)
            # a raised class or any subclass of it (an import may raise ModuleNotFoundError)
            if raised is None or any(issubclass(r, c) or issubclass(c, r) for r in raised for c in caught):
                hits.append(i)
        if not hits or (hits[0] == 0 and hits[-1] == len(body) - 1):
            return None
        return hits[0], hits[-1]

    def s_Match(self, state, node):
        state = self.expr(state, node.subject)
        outs = []
        rest = state
        self.branch_depth += 1
        for case in node.cases:
            cs = rest
            for sub in T.walk(case.pattern):
                if isinstance(sub, T.MatchValue):
                    cs = self.expr(cs, sub.value)
                elif isinstance(sub, T.MatchClass):
                    cs = self.expr(cs, sub.cls)
            for name in pattern_names(case.pattern):
                cs = self.bind(cs, name)
            if case.guard is not None:
                cs, _ = self.cond(cs, case.guard)
            outs.append(self.block(cs, case.body))
            if case.guard is None and irrefutable(case.pattern):
                rest = EMPTY
                break
        self.branch_depth -= 1
        if rest and isinstance(node.subject, T.Name):
            # `match mode:` over `mode: Literal["a", "b"]` (an Enum, a union of classes) with a case
            # for each value: exhaustive, as the if/elif chain over the same values
            values = self.closed_values(node.subject.id)
            if values is not None and match_exhaustive(node.cases, values):
                rest = EMPTY
        return self._join(rest, *outs)


# exceptions that may surface anywhere (inside an imported module's code as well)
_ANYWHERE = frozenset({"Exception", "MemoryError", "RecursionError"})
# what an import statement raises: ImportError (ModuleNotFoundError), and OSError for a native
# library that fails to load (`except (ImportError, OSError):` is the idiom for that)
_IMPORT_RAISES = (ImportError, OSError)


class _RaisedByCalls(Exception):
    """Stands for an exception class imported from another module (`subprocess.TimeoutExpired`,
    `socket.gaierror`): the analysis does not know its bases, so only a call (or a `raise`) is
    taken to raise it, not a subscript or an attribute read. Its bases might make a dunder method
    raise it (omegaconf's `ConfigAttributeError` is an AttributeError); taking that convention can
    only hide a handler edge."""


def _specific_exceptions(spec, local, imported, own_class) -> "tuple[type, ...] | None":
    """The exception classes `except <spec>:` catches, when they are all specific ones: builtin
    classes (`AttributeError`, `(KeyError, IndexError)`), or classes imported from another module
    or defined by the module's own `class` statements (`_RaisedByCalls`). None for a bare
    `except:`, `Exception`, `BaseException`, a name the module binds otherwise, or anything else
    not classified."""
    if spec is None:
        return None
    items = spec.elts if isinstance(spec, T.Tuple) else [spec]
    out = []
    for item in items:
        if isinstance(item, T.Attribute):
            root = item
            while isinstance(root, T.Attribute):
                root = root.value
            if isinstance(root, T.Name) and imported(root.id) and not local(root.id):
                out.append(_RaisedByCalls)
                continue
            return None
        if isinstance(item, T.Name) and own_class(item.id):
            out.append(_RaisedByCalls)
            continue
        if not isinstance(item, T.Name) or item.id in _ANYWHERE or local(item.id):
            return None
        cls = getattr(builtins, item.id, None)
        if isinstance(cls, type) and issubclass(cls, Exception) and not imported(item.id):
            out.append(cls)
        elif imported(item.id):
            out.append(_RaisedByCalls)
        else:
            return None
    return tuple(out)


def _raises_only(st: T.stmt) -> "tuple[type, ...] | None":
    """The exceptions a statement of a `try` body can raise, when it is built only from parts
    that raise few, known ones: an import (ImportError, OSError), `pass`, and an assignment to
    names (or an expression statement) whose value `_expr_raises` classifies. None for anything
    else (a call to a function: anything)."""
    if isinstance(st, (T.Import, T.ImportFrom)):
        return _IMPORT_RAISES
    if isinstance(st, (T.Pass, T.Global, T.Nonlocal)):
        return ()
    if isinstance(st, T.Assign) and all(isinstance(t, T.Name) for t in st.targets):
        return _expr_raises(st.value)
    if isinstance(st, T.AnnAssign) and isinstance(st.target, T.Name) and st.value is not None:
        return _expr_raises(st.value)
    if isinstance(st, T.Expr):
        return _expr_raises(st.value)
    return None


# what each kind of expression may raise by itself (its operands add theirs). A dunder method of a
# user class may raise anything, but by convention `__getitem__` raises LookupError, arithmetic
# ArithmeticError or TypeError; taking that convention can only hide a handler edge (a missed
# finding), never invent one.
_RAISES_BY_KIND = {
    T.Name: (NameError,),
    T.Subscript: (LookupError, TypeError),
    T.BinOp: (ArithmeticError, TypeError, ValueError),
    T.UnaryOp: (TypeError,),
    T.Compare: (TypeError,),
    T.JoinedStr: (ValueError, TypeError),
    T.Attribute: (AttributeError,),
}
_QUIET_KINDS = (T.Constant, T.Tuple, T.List, T.Set, T.Dict, T.BoolOp, T.IfExp, T.Slice, T.FormattedValue,
                T.expr_context, T.operator, T.unaryop, T.cmpop, T.boolop)
# methods of a str literal (`".".join(parts)`): their arguments' types are all they can get wrong
_STR_METHODS = frozenset({"join", "split", "rsplit", "strip", "lstrip", "rstrip", "replace", "startswith",
                          "endswith", "lower", "upper"})


def _expr_raises(expr: T.expr) -> "tuple[type, ...] | None":
    """The exceptions evaluating `expr` can raise, or None when it calls a function (or holds
    anything else this does not classify)."""
    out: set = set()
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, T.Call):
            f = node.func
            if not (isinstance(f, T.Attribute) and f.attr in _STR_METHODS
                    and isinstance(f.value, T.Constant) and isinstance(f.value.value, str)):
                return None
            out.add(TypeError)
            stack.extend(node.args)
            stack.extend(k.value for k in node.keywords)
            continue
        if isinstance(node, T.Attribute) and isinstance(node.value, T.Constant):
            continue  # a constant's own attribute (the method of a call above)
        raised = _RAISES_BY_KIND.get(type(node))
        if raised is not None:
            out.update(raised)
        elif not isinstance(node, _QUIET_KINDS):
            return None
        stack.extend(T.iter_child_nodes(node))
    return tuple(out)


def _endless(it: T.expr) -> bool:
    """An iterator that never ends: `itertools.count(...)`, `count(...)`, `itertools.cycle(...)`
    and `itertools.repeat(x)` without a count."""
    if not isinstance(it, T.Call):
        return False
    name = dotted_name(it.func) or ""
    if name in ("itertools.count", "count"):
        return True
    if name == "itertools.repeat":
        return len(it.args) == 1 and not it.keywords
    return False
