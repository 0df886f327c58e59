"""Witness paths: why the analysis believes a name can be unbound where it is read.

A verdict of `analyzer.flow.interpreter.verdicts` is made from the paths that reach a read, each
carrying the branch conditions it assumed (`Path.facts`). Keeping, on every path, the lines where
those conditions were assumed would cost every statement of every scope a little (paths are
built, merged and compared all the time) for the few reads that end up reported. So the witness
is rebuilt only when a verdict is reported: one route through the scope's statements, from its
start to the read, that skips every binding of the name and agrees with what the unbound path
assumed (a test whose outcome the path recorded is taken that way, and routes that contradict
it are dropped, with the interpreter's own `assume`).

The route lists the decisions that matter: the tests that skip a binding or lead to the read, a
loop that runs zero times, an exception caught before the binding, a `case` taken, a `del`, a
`break`. Tests that do not touch the name are passed over without a step. When no route agrees
with the path's facts (a merge, or a fact established after a rebinding), the facts are dropped
and any route that skips the bindings is given; when none is found, the witness is empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, NamedTuple, Optional, Sequence

from analyzer import tree as T
from analyzer.flow.conditions import assume, atom
from analyzer.flow.names import pattern_names
from analyzer.flow.state import Path
from analyzer.flow.syntax import irrefutable, literal_nonempty, model_structure

__all__ = ["Step", "find_witness", "MAX_STEPS"]

_NO, _MAYBE, _SURE = 0, 1, 2

# decisions kept before the read (the last ones, which lead to it; earlier ones are counted)
MAX_STEPS = 10
# unbound paths tried before falling back to a route that ignores their facts
_PATHS_TRIED = 3
_TEXT_WIDTH = 60


class Step(NamedTuple):
    """One decision of a witness path: where (1-based line, 0-based column) and what."""

    line: int
    col: int
    text: str


@dataclass(frozen=True)
class _Route:
    """A route so far: whether the name is bound at its end, its steps, the facts it assumed."""

    bound: bool
    steps: tuple
    path: Path

    def add(self, node: T.AST, text: str, bound: Optional[bool] = None) -> "_Route":
        step = Step(node.lineno, node.col_offset, text)
        return _Route(self.bound if bound is None else bound, self.steps + (step,), self.path)


@dataclass
class _Outs:
    """Where a block can end: falling through, by `break`, by `continue` (None: it cannot)."""

    normal: Optional[_Route] = None
    brk: Optional[_Route] = None
    cont: Optional[_Route] = None


def _better(a: Optional[_Route], b: Optional[_Route]) -> Optional[_Route]:
    """The route more useful as a witness: the name unbound at its end, then fewer steps."""
    if a is None:
        return b
    if b is None:
        return a
    return a if (a.bound, len(a.steps)) <= (b.bound, len(b.steps)) else b


def _text(node: T.AST) -> str:
    try:
        text = " ".join(T.unparse(node).split())
    except Exception:  # a node LibCST cannot print alone: name its line instead
        return f"the expression at line {node.lineno}"
    return text if len(text) <= _TEXT_WIDTH else text[:_TEXT_WIDTH - 3] + "..."


@dataclass
class _Search:
    name: str
    ends: Callable[[T.stmt], bool]  # a statement that never completes (`sys.exit(1)`)
    suppresses: Callable[[T.expr], bool]  # a context manager that may swallow exceptions
    prefer_zero: bool  # the path is unbound because a loop ran zero times: say so first
    use_facts: bool
    _touch: dict = field(default_factory=dict)

    # ------------------------------------------------------------------ what a statement does to the name

    def touches(self, node: T.AST) -> bool:
        """`node` binds or deletes the name (not counting nested scopes' bodies), or holds a
        `break`/`continue` of the enclosing loop: the route must look inside."""
        key = id(node)
        found = self._touch.get(key)
        if found is None:
            found = self._touch[key] = self._scan(node, in_loop=False)
        return found

    def _scan(self, node: T.AST, in_loop: bool) -> bool:
        name = self.name
        stack = [(node, in_loop)]
        while stack:
            cur, loop = stack.pop()
            if isinstance(cur, T.Name):
                if cur.id == name and not isinstance(cur.ctx, T.Load):
                    return True
                continue
            if isinstance(cur, (T.Break, T.Continue)) and not loop:
                return True
            if isinstance(cur, (T.FunctionDef, T.AsyncFunctionDef, T.ClassDef)):
                if cur.name == name:
                    return True
                stack.extend((d, loop) for d in cur.decorator_list)
                continue
            if isinstance(cur, T.Lambda):
                continue
            if isinstance(cur, (T.Import, T.ImportFrom)):
                if any((a.asname or a.name.split(".")[0]) == name for a in cur.names):
                    return True
                continue
            if isinstance(cur, (T.ExceptHandler, T.MatchAs, T.MatchStar)) and cur.name == name:
                return True
            if isinstance(cur, T.MatchMapping) and cur.rest == name:
                return True
            if isinstance(cur, (T.ListComp, T.SetComp, T.DictComp, T.GeneratorExp)):
                # comprehension targets bind in their own scope; a walrus inside binds here
                if any(isinstance(n, T.NamedExpr) and isinstance(n.target, T.Name) and n.target.id == name
                       for n in T.walk(cur)):
                    return True
                continue
            inner = loop or isinstance(cur, (T.For, T.AsyncFor, T.While)) and cur is not node
            if isinstance(cur, (T.For, T.AsyncFor, T.While)) and cur is not node:
                # a `break` in the loop's own body leaves that loop, not ours; its `else` is ours
                stack.extend((c, True) for c in cur.body)
                stack.extend((c, loop) for c in cur.orelse)
                stack.append((cur.iter if not isinstance(cur, T.While) else cur.test, loop))
                if not isinstance(cur, T.While):
                    stack.append((cur.target, loop))
                continue
            stack.extend((c, inner) for c in T.iter_child_nodes(cur))
        return False

    def _expr(self, r: _Route, expr: Optional[T.AST], truth: Optional[bool] = None) -> _Route:
        """`expr` evaluated (to `truth`, for a test): a walrus in it that surely ran binds the name;
        one that may have been skipped (`a and (x := f())` false) leaves the route as it was."""
        if expr is not None and self.touches(expr) and self._binds(expr, truth) == _SURE:
            return _Route(True, r.steps, r.path)
        return r

    def _binds(self, e: T.AST, truth: Optional[bool]) -> int:
        """Does evaluating `e` (to `truth`, when known) bind the name by a walrus: _SURE, _MAYBE, _NO."""
        if isinstance(e, T.NamedExpr) and isinstance(e.target, T.Name) and e.target.id == self.name:
            return _SURE
        if isinstance(e, T.UnaryOp) and isinstance(e.op, T.Not):
            return self._binds(e.operand, None if truth is None else not truth)
        if isinstance(e, T.BoolOp):
            # every operand ran when `and` is true or `or` is false; else only the first surely did
            every = truth is (isinstance(e.op, T.And))
            found = [self._binds(v, truth if every else None) for v in e.values]
            if every and _SURE in found or found[0] == _SURE:
                return _SURE
            return _MAYBE if any(found) else _NO
        if isinstance(e, (T.Lambda, T.ListComp, T.SetComp, T.DictComp, T.GeneratorExp, T.IfExp)):
            return _MAYBE if self.touches(e) else _NO
        found = [self._binds(c, None) for c in T.iter_child_nodes(e)]
        return _SURE if _SURE in found else (_MAYBE if any(found) else _NO)

    def _decide(self, r: _Route, test: T.expr, truth: bool, text: Optional[str] = None) -> Optional[_Route]:
        """The route with `test` taken as `truth`, or None where it contradicts what the route assumed."""
        path = r.path
        if self.use_facts:
            a = atom(test)
            if a is not None:
                path = assume(path, a.key, a.polarity if truth else not a.polarity)
                if path is None:
                    return None
        r = self._expr(_Route(r.bound, r.steps, path), test, truth)
        if text is None:
            text = f"`{_text(test)}` is {'true' if truth else 'false'}"
            if not r.bound and self.touches(test) and self._binds(test, truth) == _MAYBE:
                text += f", without running the `{self.name} := ...` in it"
        return r.add(test, text)

    # ------------------------------------------------------------------ passing through statements

    def block(self, stmts: Sequence[T.stmt], r: Optional[_Route]) -> _Outs:
        out = _Outs()
        for st in stmts:
            if r is None:
                break
            o = self.stmt(st, r)
            out.brk, out.cont = _better(out.brk, o.brk), _better(out.cont, o.cont)
            r = o.normal
        out.normal = r
        return out

    def stmt(self, st: T.stmt, r: _Route) -> _Outs:
        if isinstance(st, (T.Return, T.Raise)) or self.ends(st):
            return _Outs()
        if isinstance(st, T.Assert) and isinstance(st.test, T.Constant) and not st.test.value:
            return _Outs()
        if not self.touches(st):
            return _Outs(normal=r)
        if isinstance(st, T.Break):
            return _Outs(brk=r.add(st, "`break` leaves the loop"))
        if isinstance(st, T.Continue):
            return _Outs(cont=r)
        handler = getattr(self, "_s_" + type(st).__name__, None)
        if handler is not None:
            return handler(st, r)
        if isinstance(st, T.Delete) and any(isinstance(t, T.Name) and t.id == self.name
                                            for d in st.targets for t in T.walk(d)):
            return _Outs(normal=r.add(st, f"`{self.name}` is deleted", bound=False))
        return _Outs(normal=_Route(True, r.steps, r.path))

    def _s_If(self, st: T.If, r: _Route) -> _Outs:
        t = self._decide(r, st.test, True)
        f = self._decide(r, st.test, False)
        if len(st.orelse) == 1 and isinstance(st.orelse[0], T.If) and f is not None:
            # an `elif` of a chain that binds the name is a decision on the way, whatever it holds
            return _merge(self.block(st.body, t), self._s_If(st.orelse[0], f))
        return _merge(self.block(st.body, t), self.block(st.orelse, f))

    def _loop(self, st: T.stmt, zero: Optional[_Route], entry: Optional[_Route], orelse: bool = True) -> _Outs:
        """A loop: `zero` enters no pass, `entry` the first one (None: impossible). Without
        `orelse`, `normal` is where the loop ends without `break`, before its `else`."""
        body = self.block(st.body, entry) if entry is not None else _Outs()
        passes = _better(body.normal, body.cont)
        if passes is not None and entry is not None and len(passes.steps) > len(entry.steps):
            # the route through one pass is the route through every pass
            i = len(entry.steps) - 1
            step = passes.steps[i]._replace(text=passes.steps[i].text + ", on every pass:")
            passes = _Route(passes.bound, passes.steps[:i] + (step,) + passes.steps[i + 1:], passes.path)
        # as the interpreter judged: a loop that ran zero times, or passes that skipped the binding
        first, second = (zero, passes) if self.prefer_zero else (passes, zero)
        done = first if first is not None and not first.bound else _better(first, second)
        if not orelse:
            return _Outs(normal=done)
        after = self.block(st.orelse, done)
        return _Outs(normal=_better(after.normal, body.brk), brk=after.brk, cont=after.cont)

    def _s_For(self, st: T.For, r: _Route, orelse: bool = True) -> _Outs:
        r = self._expr(r, st.iter)
        it = _text(st.iter)
        nonempty = literal_nonempty(st.iter) is True or model_structure(st.iter)
        zero = None if nonempty else r.add(st, f"loop over `{it}` runs zero times")
        entry = r.add(st, f"loop over `{it}` runs")
        if self.touches(st.target):
            entry = _Route(True, entry.steps, entry.path)
        return self._loop(st, zero, entry, orelse)

    _s_AsyncFor = _s_For

    def _s_While(self, st: T.While, r: _Route, orelse: bool = True) -> _Outs:
        forever = isinstance(st.test, T.Constant) and bool(st.test.value)
        zero = None if forever else self._decide(r, st.test, False, f"`{_text(st.test)}` is false: the loop never runs")
        runs = f"`while {_text(st.test)}` runs" if forever else f"`{_text(st.test)}` is true: the loop runs"
        entry = self._expr(r, st.test).add(st, runs)
        return self._loop(st, zero, entry, orelse)

    def _caught(self, st: T.stmt, h: T.ExceptHandler, r: _Route) -> _Route:
        """Into handler `h`: the exception raised first thing in the `try` body, so nothing the
        body binds is bound."""
        caught = f"`except {_text(h.type)}`" if h.type is not None else "a bare `except:`"
        hr = self._expr(r, h.type).add(h, f"exception in the `try` at line {st.lineno}, caught by {caught}")
        return _Route(True, hr.steps, hr.path) if h.name == self.name else hr

    def _handlers(self, st: T.stmt, r: _Route) -> _Outs:
        out = _Outs()
        for h in st.handlers:
            o = self.block(h.body, self._caught(st, h, r))
            if h.name == self.name and o.normal is not None:
                # `except E as name:` unbinds the name when the handler ends
                o.normal = o.normal.add(h, f"`{self.name}` is unbound when the handler ends", bound=False)
            out = _merge(out, o)
        return out

    def _s_Try(self, st: T.Try, r: _Route, finalbody: bool = True) -> _Outs:
        body = self.block(st.body, r)
        normal = self.block(st.orelse, body.normal)
        out = _merge(_Outs(normal.normal, _better(body.brk, normal.brk), _better(body.cont, normal.cont)),
                     self._handlers(st, r))
        if finalbody and st.finalbody and out.normal is not None:
            fin = self.block(st.finalbody, out.normal)
            out = _merge(_Outs(None, out.brk, out.cont), fin)
        return out

    _s_TryStar = _s_Try

    def _s_With(self, st: T.With, r: _Route) -> _Outs:
        for item in st.items:
            r = self._expr(r, item.context_expr)
            if item.optional_vars is not None and self.touches(item.optional_vars):
                r = _Route(True, r.steps, r.path)
        out = self.block(st.body, r)
        for item in st.items:
            if self.suppresses(item.context_expr):
                skipped = r.add(st, f"exception in the `with` body, suppressed by `{_text(item.context_expr)}`")
                out = _merge(out, _Outs(normal=skipped))
                break
        return out

    _s_AsyncWith = _s_With

    def _s_Match(self, st: T.Match, r: _Route) -> _Outs:
        r = self._expr(r, st.subject)
        out = _Outs()
        for case in st.cases:
            cr = self._case(case, r)
            if cr is not None:
                out = _merge(out, self.block(case.body, cr))
            if case.guard is None and irrefutable(case.pattern):
                return out
        return _merge(out, _Outs(normal=r.add(st, "no `case` matches")))

    def _case(self, case: T.match_case, r: _Route) -> Optional[_Route]:
        cr = r.add(case, f"`case {_text(case.pattern)}` matches")
        if self.name in set(pattern_names(case.pattern)):
            cr = _Route(True, cr.steps, cr.path)
        if case.guard is not None:
            cr = self._decide(cr, case.guard, True)
        return cr

    # ------------------------------------------------------------------ down to the read

    def to_read(self, stmts: Sequence[T.stmt], chain: list, r: _Route) -> Optional[_Route]:
        """The route through `stmts` to the read at the end of `chain` (top statement first)."""
        top = chain[0]
        for st in stmts:
            if st is top:
                return self.enter(st, chain[1:], r)
            r = self.stmt(st, r).normal
            if r is None:
                return None
        return None

    def enter(self, st: T.AST, rest: list, r: _Route) -> Optional[_Route]:
        """The route into `st`, towards `rest[0]`."""
        if not rest:
            return r
        nxt = rest[0]
        if isinstance(st, T.If):
            if _holds(st.body, nxt):
                r = self._decide(r, st.test, True)
                return None if r is None else self.to_read(st.body, rest, r)
            if _holds(st.orelse, nxt):
                r = self._decide(r, st.test, False)
                return None if r is None else self.to_read(st.orelse, rest, r)
        elif isinstance(st, (T.For, T.AsyncFor, T.While)):
            if _holds(st.body, nxt):
                return self._into_body(st, rest, r)
            if _holds(st.orelse, nxt):
                done = (self._s_While if isinstance(st, T.While) else self._s_For)(st, r, orelse=False).normal
                return None if done is None else self.to_read(st.orelse, rest, done)
        elif isinstance(st, (T.Try, T.TryStar)):
            if _holds(st.body, nxt):
                return self.to_read(st.body, rest, r)
            if any(h is nxt for h in st.handlers):
                hr = self._caught(st, nxt, r)
                if len(rest) > 1 and _holds(nxt.body, rest[1]):
                    return self.to_read(nxt.body, rest[1:], hr)
                return self.expression(rest[1:], hr)
            if _holds(st.orelse, nxt):
                body = self.block(st.body, r).normal
                return None if body is None else self.to_read(st.orelse, rest, body)
            if _holds(st.finalbody, nxt):
                before = self._s_Try(st, r, finalbody=False).normal
                return None if before is None else self.to_read(st.finalbody, rest, before)
        elif isinstance(st, (T.With, T.AsyncWith)):
            if _holds(st.body, nxt):
                for item in st.items:
                    r = self._expr(r, item.context_expr)
                return self.to_read(st.body, rest, r)
        elif isinstance(st, T.Match):
            if isinstance(nxt, T.match_case):
                r = self._expr(r, st.subject)
                cr = r.add(nxt, f"`case {_text(nxt.pattern)}` matches")
                if len(rest) > 1 and _holds(nxt.body, rest[1]):
                    if nxt.guard is not None:
                        cr = self._decide(cr, nxt.guard, True)
                        if cr is None:
                            return None
                    return self.to_read(nxt.body, rest[1:], cr)
                return self.expression(rest[1:], cr)
        return self.expression(rest, r)

    def _into_body(self, st: T.stmt, rest: list, r: _Route) -> Optional[_Route]:
        """Into a loop's body: on its first pass, else (the name bound at the loop) on a later one."""
        if isinstance(st, T.While):
            entry = self._decide(r, st.test, True, f"`{_text(st.test)}` is true: the loop runs, first pass")
        else:
            entry = self._expr(r, st.iter).add(st, f"loop over `{_text(st.iter)}` runs, first pass")
            if self.touches(st.target):
                entry = _Route(True, entry.steps, entry.path)
        if entry is None:
            return None
        first = self.to_read(st.body, rest, entry)
        if first is not None and not first.bound:
            return first
        one = self.block(st.body, entry)
        again = _better(one.normal, one.cont)
        if again is None or again.bound:
            return first
        later = again.add(st, "the loop runs again, next pass")
        if not isinstance(st, T.While) and self.touches(st.target):
            later = _Route(True, later.steps, later.path)
        second = self.to_read(st.body, rest, later)
        return _better(first, second)

    def expression(self, rest: list, r: _Route) -> Optional[_Route]:
        """Conditions inside an expression that lead to the read: `a if c else b`, `a and b`."""
        for parent, child in zip(rest, rest[1:]):
            if r is None:
                return None
            if isinstance(parent, T.IfExp) and child is not parent.test:
                r = self._decide(r, parent.test, child is parent.body)
            elif isinstance(parent, T.BoolOp) and child is not parent.values[0]:
                truth = isinstance(parent.op, T.And)
                for v in parent.values:
                    if v is child or r is None:
                        break
                    r = self._decide(r, v, truth)
        return r


def _merge(a: _Outs, b: _Outs) -> _Outs:
    return _Outs(_better(a.normal, b.normal), _better(a.brk, b.brk), _better(a.cont, b.cont))


def _holds(stmts: Sequence[T.AST], node: T.AST) -> bool:
    return any(s is node for s in stmts)


def find_witness(scope: T.AST, target: T.AST, name: str, paths: Sequence[Path], parents: dict, *,
                 bound_at_entry: bool, ends: Callable[[T.stmt], bool], suppresses: Callable[[T.expr], bool],
                 prefer_zero: Callable[[Path], bool], final: str) -> tuple:
    """Steps of one route from the start of `scope` to `target` on which `name` is unbound,
    agreeing with the facts of one of `paths` where one allows it, ending with the step `final`
    at `target`. Empty when no route is found."""
    body = getattr(scope, "body", None)
    if not isinstance(body, list):
        return ()
    chain = [target]
    while chain[-1] in parents:
        chain.append(parents[chain[-1]])
    chain.reverse()
    if not _holds(body, chain[0]):
        return ()
    tries = [(p, True) for p in list(paths)[:_PATHS_TRIED]]
    tries.append((Path(0, 0, frozenset()), False))
    for path, use_facts in tries:
        search = _Search(name, ends, suppresses, prefer_zero(path) if use_facts else False, use_facts)
        try:
            route = search.to_read(body, chain, _Route(bound_at_entry, (), path))
        except RecursionError:
            return ()
        if route is not None and not route.bound:
            return _bounded(route.steps) + (Step(target.lineno, target.col_offset, final),)
    return ()


def _bounded(steps: tuple) -> tuple:
    if len(steps) <= MAX_STEPS:
        return steps
    dropped = len(steps) - (MAX_STEPS - 1)
    first = steps[0]
    return (Step(first.line, first.col, f"({dropped} earlier decisions not shown)"),) + steps[-(MAX_STEPS - 1):]
