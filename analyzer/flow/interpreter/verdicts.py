"""What a load finds: undefined, unbound, may be unbound, and which excuse (a caller contract, a
later test, a loop that ran zero times) sends a "may be unbound" to LL204 instead of LL202.
"""

from __future__ import annotations

from typing import Optional

from analyzer import tree as T
from analyzer.flow.conditions import literal_truth
from analyzer.flow.context import (NORETURN_CALLS, OptionalImport, raise_helper, ScopeInfo, SUPPRESSING_CMS,
                                   testcase_noreturn)
from analyzer.flow.interpreter.frame import Frame
from analyzer.flow.results import UseKind
from analyzer.flow.state import Fact, NONE_LITERAL
from analyzer.flow.syntax import dotted_name, node_in, reads_in_both_arms, values_read, walk_body
from analyzer.flow.witness import find_witness, Step


class Verdicts(Frame):
    """Judges each load of a name against the paths that reach it."""

    def load(self, state: tuple, node: T.Name) -> None:
        name = node.id
        for shadowed in self.shadow:
            if name in shadowed:
                return
        if name in self.b.globals:
            if name in self.private_globals:
                self._check_private_global(state, node, name)
            elif not self.module.is_global(name) and not self.module.dynamic:
                self.report(node, name, UseKind.UNDEFINED)
            return
        mask = self.index.get(name, 0)
        if mask and name not in self.b.nonlocals:
            self._check_local(state, node, name, mask)
            return
        self.resolve_free(node, name)

    def _check_private_global(self, state: tuple, node: T.AST, name: str) -> None:
        mask = self.index[name]
        if not state or self.info.may_bind_dynamically(name) or self.suppress_nameerror:
            return
        unbound = [p for p in state if not p.bound & mask]
        if not unbound or any(p.imprecise or p.carried & mask or p.loopzero & mask for p in unbound):
            return
        # an earlier call may have assigned it, so never "certain"
        self.report(node, name, UseKind.MAYBE_GLOBAL, trace=self._witness(node, name, mask, unbound))

    def _survived_load(self, state: tuple, name: str) -> tuple:
        """Execution that got past a load of a function local has the local bound: a path that
        reaches a later use went through this one, so one missing binding is reported once, at
        its first use, not at every read after it."""
        mask = self.index.get(name, 0)
        # a module global that only this function creates is tracked like a local: once read, it
        # is there (no other function declares it, so none deletes it)
        if (not mask or self.info.kind != "function" or name in self.b.nonlocals
                or (name in self.b.globals and name not in self.private_globals)
                or any(name in s for s in self.shadow)):
            return state
        if all(p.bound & mask for p in state):
            return state
        # paths where the name is surely unbound end here (the load raised); merged paths that
        # bind it on some executions go on with it bound. Dropping paths, not just binding the
        # name, keeps a second name missing on the same paths from being reported again.
        # Names only ever bound by the statements that bind this one are bound wherever it is.
        # So are the names every binding of it comes after, in its block or the blocks around it
        # (`import deepspeed; import os; from copy import deepcopy` in one `try`).
        group = mask | self.mask_of(self.facts.co_bound().get(name, ())) | self.mask_of(self.prefix_bound().get(name, ()))
        # a name missing only when a loop ran zero times proves, once read, that the loop ran: the
        # other names such a loop binds are there too (`return seq, outputs, kind` after the loop)
        alive = [p if p.bound & mask else
                 p.bind(mask | (group & p.maybe) | (p.loopzero & p.maybe if p.loopzero & mask else 0))
                 for p in state if p.maybe & mask]
        if not alive:
            return self._join([p.bind(mask) for p in state])
        return self._join(alive)

    def _check_local(self, state: tuple, node: T.AST, name: str, mask: int) -> None:
        if (not state or self.info.may_bind_dynamically(name) or self.suppress_nameerror
                or name in self.escaping_nonlocals):
            return
        unbound = [p for p in state if not p.bound & mask]
        if not unbound:
            return
        trace = self._witness(node, name, mask, unbound)
        if self.info.kind in ("class", "module") and self._resolves_outside(name):
            return
        if self.info.kind == "module" and self.module.dynamic:
            return
        certain = not any(p.maybe & mask for p in state)
        if self.info.kind == "class" and not certain:
            # class bodies fall back to globals and builtins; only a certain miss is reported
            return
        if not certain and self._availability_guard(state, unbound, mask):
            return
        if certain:
            self.report(node, name, UseKind.UNBOUND, certain=True, trace=trace)
            return
        if all(p.carried & mask for p in unbound):
            frame = self.loops[-1] if self.loops else None
            if not (frame is not None and frame.body_mask & mask and frame.unconditional
                    and self.branch_depth == frame.depth):
                return
            # "unbound on the first pass" only if no execution enters the loop with it bound;
            # when some do (`if cond: h = x` before `for layer in layers: h = layer(h)`), the
            # first pass reads it unbound on the others: a plain "may be unbound", below
            entered_bound = any(ln < frame.line for ln in self.binding_lines(name))
            if not entered_bound:
                if not any(p.maybe & mask and not p.carried & mask for p in state):
                    self.report(node, name, UseKind.FIRST_ITERATION, other_line=frame.line, trace=trace)
                return
        if any(p.imprecise for p in unbound):
            self.sink.budget_silenced.append((self.info.node, node, name))
            return
        if all(p.loopzero & mask for p in unbound):
            caller = self.zero_loop_caller.get(name, False)
            self.report(node, name, UseKind.MAYBE_LOOP if caller else UseKind.MAYBE_LOOP_LOCAL, trace=trace)
            return
        shadowing = name not in self.b.nonimport_bound and self._shadowing_import(name)
        if name not in self.b.nonimport_bound and not self._try_import(name) and not shadowing:
            # optional imports (`if is_bnb_available(): import bnb`) are used under conditions
            # that imply availability; a path-insensitive report there would be noise
            return
        if name in self.b.deleted or shadowing:
            # `del` under a flag, then a read: no caller contract or later test makes the name
            # come back, so the usual excuses below do not apply; nor do they to an import that
            # shadows the module's name (a guard like `"X" in globals()` tests the module's one)
            self.report(node, name, UseKind.MAYBE, trace=trace)
            return
        if self._guarded(node, name):
            self.report(node, name, UseKind.MAYBE_GUARDED, trace=trace)
            return
        if self._argument_contract(state, unbound, mask):
            self.report(node, name, UseKind.MAYBE_ARGUMENT, trace=trace)
            return
        self.report(node, name, UseKind.MAYBE, trace=trace)

    def _witness(self, target: T.AST, name: str, mask: int, unbound: list, final: str = "", *after: Step):
        """A thunk for the report: the witness path (see `analyzer.flow.witness`) to `target`, then
        the steps `after` (the read inside a nested function called there), computed only when
        the verdict is recorded."""
        def run() -> tuple:
            # a path that skipped the binding explains more than one where a loop ran zero times
            paths = sorted(unbound, key=lambda p: bool(p.loopzero & mask))
            steps = find_witness(
                self.info.node, target, name, paths, self._parent_map(),
                bound_at_entry=bool(self.param_mask & mask), ends=lambda st: self.never_returns(st, raise_helpers=False),
                suppresses=self._suppresses, prefer_zero=lambda p: bool(p.loopzero & mask),
                final=final or f"`{name}` is read while unbound")
            return steps + after if steps else ()
        return run

    def never_returns(self, st: T.stmt, raise_helpers: bool = True) -> bool:
        """A statement that is a call known never to return: `sys.exit(1)`, `self.fail(...)`, a
        same-module function that always raises, and (with `raise_helpers`) an imported helper
        named for raising (`raise_type_error(...)`). Witness paths leave the helpers out: they
        end a path only on the analysis's say-so, not visibly."""
        if not (isinstance(st, T.Expr) and isinstance(st.value, T.Call)):
            return False
        called = dotted_name(st.value.func)
        return called is not None and (called in NORETURN_CALLS or called in self.module.noreturn
                                       or testcase_noreturn(called)
                                       or (raise_helpers and raise_helper(called, self.module.defined_functions)))

    def _suppresses(self, expr: T.expr) -> bool:
        called = dotted_name(expr.func if isinstance(expr, T.Call) else expr)
        return called is not None and (called in SUPPRESSING_CMS
                                       or called.split(".")[-1] in self.module.suppressing_classes)

    def _shadowing_import(self, name: str) -> bool:
        """A function imports a name the module already binds (`from transformers import Llama`
        at the top, `if cfg.landmark: from .landmark import Llama` inside): the import makes the
        name local to the whole function, so the reads that meant the module's name fail on the
        other paths. That is a bug, not an optional-dependency guard."""
        return self.info.kind == "function" and name in self.module.bindings.bound

    def _try_import(self, name: str) -> bool:
        """In a function, `name` is imported only in `try` bodies (`try: from .kernels import f`
        / `except ImportError: log(...)`): a read the handler did not prepare for is a bug, not
        an optional-dependency guard like `if is_bnb_available(): import bnb`."""
        if self.info.kind != "function":
            return False
        found = False
        for node, parents in self._imports_with_parents(name):
            if not any(isinstance(p, T.Try) and node_in(node, p.body) for p in parents):
                return False
            found = True
        return found

    def _imports_with_parents(self, name: str):
        parents = self._parent_map()
        for node in walk_body(self.info.node.body):
            if isinstance(node, (T.Import, T.ImportFrom)) and any(
                    (a.asname or a.name.split(".")[0]) == name for a in node.names):
                chain = []
                cur = parents.get(node)
                while cur is not None and cur is not self.info.node:
                    chain.append(cur)
                    cur = parents.get(cur)
                yield node, chain

    def _guarded(self, node: T.AST, name: str) -> bool:
        """The load sits in a branch of a test (if/while/and/or/conditional expression/match case)
        that encloses no binding of `name` and reads nothing the tests around the bindings read:
        the code tested something else after the binding was skipped, and that test may imply
        the binding in ways the analysis cannot see. (A test of the same values is one whose
        correlation the analysis followed, so what it still finds there is reported.)"""
        lines = self.binding_lines(name)
        binding_reads: Optional[set[str]] = None
        for branch, tests in self._enclosing_tests(node):
            if any(branch.lineno <= ln <= branch.end_lineno for ln in lines):
                continue
            if reads_in_both_arms(branch, name):
                continue  # `sqrt(rank) if rslora else rank`: read whichever way the test goes
            if binding_reads is None:
                binding_reads = self._binding_test_reads(name)
            if not (set().union(*(values_read(t) for t in tests)) & binding_reads):
                return True
        return False

    def _enclosing_tests(self, node: T.AST):
        """(branch, the tests that decide whether it runs) for every branch enclosing `node`."""
        parents = self._parent_map()
        cur = node
        while cur in parents:
            parent = parents[cur]
            if isinstance(parent, (T.If, T.While, T.IfExp)) and cur is not parent.test:
                yield parent, [parent.test]
            elif isinstance(parent, T.BoolOp) and cur is not parent.values[0]:
                yield parent, parent.values[:parent.values.index(cur)]
            elif isinstance(parent, T.match_case) and isinstance(parents.get(parent), T.Match):
                yield parent, [parents[parent].subject]
            cur = parent

    def _binding_test_reads(self, name: str) -> set[str]:
        """What the tests enclosing the bindings of `name` read."""
        out: set[str] = set()
        for node in self._parent_map():
            if isinstance(node, T.Name) and node.id == name and not isinstance(node.ctx, T.Load):
                for _, tests in self._enclosing_tests(node):
                    for t in tests:
                        out |= values_read(t)
        return out

    def _availability_guard(self, state: tuple, unbound: list, mask: int) -> bool:
        """Missing exactly when an optional-dependency check (`if is_vision_available(): ...`)
        went the other way: such checks are correlated in ways the analysis cannot see
        (torchvision implies vision), so the read stays quiet."""
        return self._correlated_with(state, unbound, mask, lambda k: "available" in k.subject.lower())

    def _argument_contract(self, state: tuple, unbound: list, mask: int) -> bool:
        """True when the name is unbound only for some values of optional arguments: every
        unbound path assumed a fact about a parameter with a default that a bound path denies."""
        if not self.params:
            return False

        def relevant(k) -> bool:
            if k.subject in self.optional_params and k.kind in ("eq", "truthy", "in"):
                return True
            # `if audio is not None:` on any argument: the caller decides which inputs come
            return k.kind == "eq" and k.subject in self.params and k.value == NONE_LITERAL

        def at_default(k, v) -> bool:
            # a call that leaves the argument at its default goes this way: that is no contract,
            # it is the ordinary call (`def f(x, use_dora=False): if use_dora: m = ...`).
            default = self.param_defaults.get(k.subject)
            if default is None or default == NONE_LITERAL:
                # `inputs_embeds=None` is how many APIs spell "keyword, required in practice"
                return False
            if k.kind == "truthy":
                return literal_truth(default) == v
            if k.kind == "eq" and k.value is not None and k.value.kind == "const" and default.kind == "const":
                return ((k.value.type_name, k.value.value) == (default.type_name, default.value)) == v
            return False

        return self._correlated_with(state, unbound, mask, relevant, at_default)

    @staticmethod
    def _correlated_with(state: tuple, unbound: list, mask: int, relevant, ordinary=None) -> bool:
        """Every unbound path assumed a `relevant` fact that some bound path assumed the other way:
        the name is missing exactly when that condition went the other way. An `ordinary` fact
        (one a plain call makes) explains nothing."""
        bound = [p.facts for p in state if p.bound & mask]
        if not bound:
            return False

        def explains(k, v) -> bool:
            # the name is bound on paths where k went the other way, and on none where it went this way
            return (relevant(k) and not (ordinary is not None and ordinary(k, v))
                    and any(Fact(k, not v) in f for f in bound) and not any(Fact(k, v) in f for f in bound))

        return all(any(explains(k, v) for k, v in p.facts) for p in unbound)

    def _resolves_outside(self, name: str) -> bool:
        if self.info.kind == "class":
            return self.module.is_global(name) or self._enclosing_binds(name, self.info.parent)
        return name in self.module.builtins

    def _in_method(self) -> bool:
        """Is this scope a function inside a class body (at any depth of nested functions)?"""
        scope: Optional[ScopeInfo] = self.info
        while scope is not None and scope.kind == "function":
            scope = scope.parent
        return scope is not None and scope.kind == "class" and self.info.kind == "function"

    def _enclosing_binds(self, name: str, scope: Optional[ScopeInfo]) -> bool:
        while scope is not None:
            if scope.kind == "function" and name in scope.locals:
                return True
            scope = scope.parent
        return False

    def resolve_free(self, node: T.AST, name: str) -> None:
        """A name that is not local here: enclosing functions, then module, then builtins."""
        scope = self.info.parent if self.info.kind != "module" else None
        if self.info.kind == "function" and name in self.b.nonlocals:
            return
        if self.info.may_bind_dynamically(name):
            return
        if name == "__class__" and self._in_method():
            return  # the implicit cell of a method, which zero-argument `super()` reads
        while scope is not None:
            if scope.kind == "function" and name in scope.locals:
                return
            if scope.kind == "function" and scope.may_bind_dynamically(name):
                return
            scope = scope.parent
        if self.module.is_global(name):
            if self.info.kind == "function" and not self.suppress_nameerror:
                self._optional_import_read(node, name)
            return
        if self.module.dynamic and self.module.may_come_from_exec(name):
            if (self.module.bindings.star_import and not self.module.bindings.dynamic
                    and not self.suppress_nameerror):
                # only a star import can bind it: the run's other files may tell which
                self.report(node, name, UseKind.STAR_FREE)
            return
        if self.suppress_nameerror:
            return
        if name in self.module.bindings.type_checking_only:
            self.report(node, name, UseKind.TYPE_CHECKING)
            return
        klass = self._enclosing_class_binding(name)
        if klass:
            self.report(node, name, UseKind.CLASS_SCOPE)
            return
        self.report(node, name, UseKind.UNDEFINED, other_line=self._bare_annotation_line(name))

    def _bare_annotation_line(self, name: str) -> int:
        """The line of a bare annotation (`name: int`, no value) that the reader may take for a
        binding: in this class body, an enclosing one, or the module; 0 when there is none."""
        scope: Optional[ScopeInfo] = self.info
        while scope is not None:
            if scope.kind == "class":
                found = self.module.bindings_of(scope.node.body).annotated.get(name)
                if found is not None:
                    return found.lineno
            scope = scope.parent
        found = self.module.bindings.annotated.get(name)
        return found.lineno if found is not None else 0

    def _optional_import_read(self, node: T.AST, name: str) -> None:
        """A function reads a module global that only a `try: import x` binds, and the handler
        went on without it (`except ImportError: HAVE_X = False`). Quiet when the function, or the
        class or function around it, checks the import in any way: reads a flag the handler sets,
        calls an availability helper, tests the name against None, names the module in a string
        (`find_spec("x")`), catches the NameError, or is defined only when the import may have
        worked (inside a module-level `if`/`try`). A read under some other test is left to LL204."""
        found = self.module.optional_import(name)
        if found is None:
            return
        scope = self.info
        while scope.parent is not None and scope.parent.kind != "module":
            scope = scope.parent
        top = scope.node
        if not any(st is top for st in self.module.tree.body):
            return
        key = (id(top), name)
        checked = self.module.import_checks.get(key)
        if checked is None:
            checked = self.module.import_checks[key] = (_checks_import(top, found)
                                                        or self._used_where_checked(top, found))
        if checked:
            return
        guarded = self._under_test(node)
        if guarded and any(isinstance(n, T.Name) and n.id == name and isinstance(n.ctx, T.Load)
                           and not self._under_test(n) for n in self._parent_map()):
            return  # the function also reads it under no test: that read is the finding
        kind = UseKind.MAYBE_IMPORT_GUARDED if guarded else UseKind.MAYBE_IMPORT
        if (name, kind) in self.gaps:
            return  # one check fixes every read of the function
        self.gaps.add((name, kind))
        self.report(node, name, kind, other_line=found.try_node.lineno, trace=lambda: _import_failed(found, node))

    def _used_where_checked(self, top: T.AST, found: OptionalImport) -> bool:
        """The module-level def or class `top` is named somewhere that checks the import: inside a
        module-level `if`/`try`/`with` (`if HAVE_X: register(load)`), or in a def or class that
        checks it (`if not HAVE_X: raise ...; return _load(path)`)."""
        name = getattr(top, "name", None)
        if name is None:
            return False
        for st in self.module.tree.body:
            if st is top:
                continue
            uses = any(isinstance(n, T.Name) and n.id == name and isinstance(n.ctx, T.Load) for n in T.walk(st))
            if uses and (isinstance(st, (T.If, T.Try, T.TryStar, T.With, T.While, T.For))
                         or (isinstance(st, (T.FunctionDef, T.AsyncFunctionDef, T.ClassDef))
                             and _checks_import(st, found))):
                return True
        return False

    def _under_test(self, node: T.AST) -> bool:
        """The load sits in a branch (if/while/and/or/conditional expression/match case), or in a
        `try` that catches broad errors, within this scope."""
        if isinstance(self.info.node, T.Lambda):
            return True  # `lambda: x.f() if HAVE_X else None`: not followed, taken as a test
        parents = self._parent_map()
        for _branch, _tests in self._enclosing_tests(node):
            return True
        cur = node
        while cur in parents:
            parent = parents[cur]
            if isinstance(parent, T.Try) and node_in(node, parent.body) and any(
                    h.type is None or (dotted_name(h.type) or "").split(".")[-1] in _BROAD_ERRORS
                    for h in parent.handlers):
                return True
            cur = parent
        return False

    def _enclosing_class_binding(self, name: str) -> bool:
        scope = self.info.parent
        while scope is not None:
            if scope.kind == "class" and name in scope.locals:
                return True
            scope = scope.parent
        return False

    def annotation(self, ann: Optional[T.expr]) -> None:
        """Annotations may be lazy (PEP 563/649) and may name TYPE_CHECKING imports: only names
        bound nowhere at all are reported."""
        if ann is None:
            return
        for sub in T.walk(ann):
            if isinstance(sub, T.Name) and isinstance(sub.ctx, T.Load):
                name = sub.id
                if (name in self.info.locals or self.module.is_global(name) or self.module.dynamic
                        or name in self.module.bindings.type_checking_only
                        or self._enclosing_binds(name, self.info.parent) or self._enclosing_class_binding(name)
                        or self.info.may_bind_dynamically(name)):
                    continue
                if any(name in s for s in self.shadow):
                    continue
                self.report(sub, name, UseKind.UNDEFINED)


def _import_failed(found: OptionalImport, read: T.AST) -> tuple:
    """The path behind a read of an optional import: the module-level import failed, its handler
    went on, and the function reads the name."""
    t = found.try_node
    handler = t.handlers[0] if t.handlers else t
    caught = f", caught by `except {T.unparse(handler.type)}`" if getattr(handler, "type", None) is not None else ""
    return (Step(handler.lineno, handler.col_offset, f"the import in the `try` at line {t.lineno} fails{caught}"),
            Step(read.lineno, read.col_offset, f"`{found.name}` is read while unbound"))


_BROAD_ERRORS = frozenset({"Exception", "BaseException", "NameError", "ImportError", "ModuleNotFoundError"})
# words of a name or call that checks whether an optional dependency is there
_CHECK_WORDS = ("available", "installed", "has_", "have_", "require")


def _checks_import(top: T.AST, found: OptionalImport) -> bool:
    """Does anything in `top` (a module-level def or class) check the optional import `found`?"""
    imported = {found.name}
    for st in found.try_node.body:
        if isinstance(st, (T.Import, T.ImportFrom)):
            for alias in st.names:
                if (alias.asname or alias.name) == found.name or alias.asname == found.name:
                    imported.add(alias.name.split(".")[0])
                    if isinstance(st, T.ImportFrom) and st.module:
                        imported.add(st.module.split(".")[0])
    for sub in T.walk(top):
        if isinstance(sub, T.Name):
            if sub.id in found.flags or any(w in sub.id.lower() for w in _CHECK_WORDS):
                return True
        elif isinstance(sub, T.Attribute):
            if any(w in sub.attr.lower() for w in _CHECK_WORDS):
                return True
        elif isinstance(sub, T.Constant) and isinstance(sub.value, str):
            if sub.value in imported or sub.value.split(".")[0] in imported:
                return True
        elif isinstance(sub, T.Compare):
            if any(isinstance(x, T.Name) and x.id == found.name for x in [sub.left, *sub.comparators]) and any(
                    isinstance(op, (T.Is, T.IsNot)) for op in sub.ops):
                return True
    return False
