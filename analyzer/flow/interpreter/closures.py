"""Nested functions: the callee side of a direct call (`helper()` reads the caller's locals in the
state at the call), and closures that escape and run after the function has returned.
"""

from __future__ import annotations

from typing import Callable, Optional

from analyzer import tree as T
from analyzer.flow.interpreter.return_shapes import ReturnShapes
from analyzer.flow.names import collect_bindings, target_names
from analyzer.flow.results import UseKind
from analyzer.flow.syntax import (assignment_targets, if_guards, leading_free_reads, own_tests, param_names,
                                  values_read, walk_body)
from analyzer.flow.witness import Step


class Closures(ReturnShapes):
    """Checks the free variables of nested functions at direct calls and at the exits."""

    def direct_call(self, state: tuple, call: T.Call, cond: Callable) -> tuple:
        """The free-variable loads of a local function called directly here, checked in the state
        at the call. `cond` is `Expressions.cond`, passed down because the callee's `if` tests on
        the caller's variables are decided by evaluating them here, and expressions sit above
        this layer (they call this method for every direct call)."""
        name = call.func.id
        d = self.local_defs.get(name)
        if d is None or not state:
            return state
        if isinstance(d, T.Lambda):
            body = [T.Expr(None, None, d.body)]
            inner = collect_bindings(body)
            first_reads: list[T.Name] = []
            first: set[int] = set()
        else:
            body = d.body
            inner = self.module.bindings_of(body)
            # a nonlocal the function assigns is read before that only in these (`n += 1`)
            first_reads = [n for n in leading_free_reads(d, inner) if n.id in inner.nonlocals]
            first = {id(n) for n in first_reads}
        inner_locals = (inner.bound | param_names(d.args)) - inner.nonlocals - inner.globals
        nodes = list(walk_body(body))
        if first:
            # augmented targets (`n += 1`) are Store nodes the walk below skips
            nodes += [n for n in first_reads if not isinstance(n.ctx, T.Load)]
        for sub in nodes:
            if isinstance(sub, T.comprehension):
                inner_locals = inner_locals | {n.id for n in target_names(sub.target)}
            elif isinstance(sub, (T.Lambda, T.FunctionDef, T.AsyncFunctionDef)):
                inner_locals = inner_locals | param_names(sub.args)
                if not isinstance(sub, T.Lambda):
                    # a function nested deeper has its own locals (checked when it runs)
                    deeper = self.module.bindings_of(sub.body)
                    inner_locals = inner_locals | (deeper.bound - deeper.nonlocals - deeper.globals)
        guards = if_guards(body, inner_locals)
        opaque: Optional[dict[int, list]] = None
        for sub in nodes:
            if isinstance(sub, T.Name) and (isinstance(sub.ctx, T.Load) or id(sub) in first) \
                    and sub.id not in inner_locals:
                mask = self.index.get(sub.id, 0)
                if not mask or sub.id in self.b.nonlocals or sub.id in self.b.globals:
                    continue
                if sub.id in inner.nonlocals and sub.id in inner.bound and id(sub) not in first:
                    continue
                if all(p.bound & mask for p in state) or self.info.dynamic:
                    continue
                if id(sub) in self.reported or self.dry:
                    continue
                reaching = self._under_guards(state, guards.get(id(sub), ()), cond)
                unbound = [p for p in reaching if not p.bound & mask]
                if not unbound or any(p.imprecise or p.carried & mask for p in unbound):
                    continue
                self.reported.add(id(sub))
                certain = not any(p.maybe & mask for p in state)
                if not certain:
                    if opaque is None:
                        opaque = own_tests(body, inner_locals)
                    tests = opaque.get(id(sub), ())
                    if tests and not (set().union(*(values_read(t) for t in tests)) & self._binding_test_reads(sub.id)):
                        # the read sits under the nested function's own test of its own values
                        # (`if i > rank:`), which may imply the binding: rule 4 of the split
                        self.report(sub, sub.id, UseKind.MAYBE_GUARDED,
                                    trace=self._witness(call, sub.id, mask, unbound, f"`{name}` is called here",
                                                        Step(sub.lineno, sub.col_offset, f"`{sub.id}` is read while unbound")))
                        continue
                self.report(sub, sub.id, UseKind.CLOSURE, other_line=call.lineno, certain=certain, detail=name,
                            trace=self._witness(call, sub.id, mask, unbound, f"`{name}` is called here",
                                                Step(sub.lineno, sub.col_offset, f"`{sub.id}` is read while unbound")))
        for nl in inner.nonlocals & inner.bound:
            mask = self.index.get(nl, 0)
            if not mask:
                continue
            if any(isinstance(s, (T.Assign, T.AugAssign, T.AnnAssign)) and any(n.id == nl for t in assignment_targets(s) for n in target_names(t)) for s in d.body):
                state = self.bind(state, nl)
            else:
                state = self._join([p._replace(maybe=p.maybe | mask) for p in state])
        return state

    def _under_guards(self, state: tuple, guards, cond: Callable) -> tuple:
        """The caller's paths on which a callee's `if` tests (on the caller's variables) hold."""
        if not guards:
            return state
        self.dry += 1
        try:
            for test, truth in guards:
                t, f = cond(state, test)
                state = t if truth else f
        finally:
            self.dry -= 1
        return state

    def check_escaping_closures(self, end: tuple) -> None:
        """A nested function that escapes (returned, or handed over as a hook) runs after this
        function has returned: its free variables are read in the state at the exits. One that
        reads, first thing, a variable bound here on some of those paths only may find it unbound."""
        if self.info.dynamic:
            return
        last = self.info.node.body[-1]
        exits = self.exits + ([(last, end)] if end else [])
        # names some escaping function rebinds through `nonlocal`: which one runs first is unknown
        rebound = {name: self.module.bindings_of(d.body).nonlocals for name, (d, _) in self.escaping_defs.items()}
        for name, (d, escapes) in self.escaping_defs.items():
            returned = [st for node, st in exits if isinstance(node, T.Return) and node.value is not None
                        and any(isinstance(n, T.Name) and n.id == name for n in T.walk(node.value))]
            handed = [line for line in (self._top_level_line(n) for n in escapes if not self._in_return(n))
                      if line is not None]
            states = list(returned)
            if handed:
                states += [st for node, st in exits if node.lineno > min(handed) and st not in returned]
            if not states:
                continue
            nmask = self.index.get(name, 0)
            paths = [p for p in self._join(*states) if p.bound & nmask]
            elsewhere = set().union(*(nl for other, nl in rebound.items() if other != name))
            for load in leading_free_reads(d, self.module.bindings_of(d.body)):
                x = load.id
                xmask = self.index.get(x, 0)
                if not xmask or x in self.b.nonlocals or x in self.b.globals or x in elsewhere:
                    continue
                unbound = [p for p in paths if not p.bound & xmask]
                if not unbound or any(p.imprecise or p.carried & xmask for p in unbound):
                    continue
                if self._bound_in_loop(x):
                    # a loop binds it alongside what decides the exit (`futures.append(...)`
                    # then `if not futures: return`): correlations the analysis cannot see
                    continue
                certain = not any(p.maybe & xmask for p in paths)
                if not certain and (self._argument_contract(tuple(paths), unbound, xmask)
                                    or self._availability_guard(tuple(paths), unbound, xmask)):
                    continue
                self.report(load, x, UseKind.CLOSURE_EXIT, certain=certain, detail=name)

    def _bound_in_loop(self, name: str) -> bool:
        lines = self.binding_lines(name)
        for node in walk_body(self.info.node.body):
            if isinstance(node, (T.For, T.AsyncFor, T.While)):
                if any(node.lineno <= ln <= (node.end_lineno or node.lineno) for ln in lines):
                    return True
        return False

    def _in_return(self, node: T.AST) -> bool:
        parents = self._parent_map()
        cur = parents.get(node)
        while cur is not None:
            if isinstance(cur, T.Return):
                return True
            cur = parents.get(cur)
        return False

    def _top_level_line(self, node: T.AST) -> Optional[int]:
        """The line of the top-level statement of this function holding `node`, if the statement
        is a plain one (not a branch, loop or try: the escape happens on every path through it)."""
        for st in self.info.node.body:
            if st.lineno <= node.lineno <= (st.end_lineno or st.lineno):
                if isinstance(st, (T.Expr, T.Assign, T.AugAssign, T.AnnAssign, T.Return)):
                    return st.lineno
                return None
        return None

