"""Definite-assignment and return-shape analysis over one module.

The analysis interprets each scope's statements in order over a path-sensitive abstract state
(`analyzer.flow.state`). Python has no goto, so structured interpretation is exact for control
flow: `if`/`match` fork and join, loops join their entry with an over-approximation of the back
edge, `try` handlers start from the state before the body widened by what the body may bind,
`return`/`raise`/never-returning calls end a path.

It emits no diagnostics: it records facts (`NameUse`, `ReturnRecord`, `FunctionFlow`) that the
rules in `analyzer.rules` turn into findings.

Limits, by design (each errs towards silence):
- a `finally` block is checked on the normal path only (an exception raised before a name is bound
  would be replaced by the NameError, but the original error is already fatal);
- context managers are taken never to swallow exceptions, except `contextlib.suppress`,
  `pytest.raises`, `assertRaises*` and classes of the same module whose `__exit__` may return a
  truthy value;
- a condition tested twice is taken to give the same answer while no name it reads is rebound
  (calls included: `if is_available(): ...` twice is correlated);
- a free variable of a nested function is checked only where that function is called directly in
  the scope that defines it; a function that escapes (returned, passed, decorated) is not followed.
"""

from __future__ import annotations

from analyzer import tree as T
import re
from dataclasses import dataclass, field, replace
from typing import Iterable, Optional

from analyzer.flow.conditions import assume, atom, literal_truth, literal_value
from analyzer.flow.names import (
    BUILTIN_NAMES,
    all_binding_lines,
    co_bound_groups,
    ScopeBindings,
    collect_bindings,
    is_type_checking_test,
    pattern_names,
    target_names,
)
from analyzer.flow.returns import ReturnSite
from analyzer.flow.shapes import Shape
from analyzer.flow.state import EMPTY, Path, join

__all__ = ["NameUse", "ReturnRecord", "FunctionFlow", "ModuleFlow", "analyze_module", "analyze_function_returns"]


# --------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class NameUse:
    """A load of a name that is not bound on every path reaching it.

    kind:
      "undefined"        nothing binds the name in any enclosing scope, the module or builtins
      "type_checking"    bound only under `if TYPE_CHECKING:`, loaded at run time
      "class_scope"      bound only in an enclosing class body, which methods cannot see
      "unbound"          a local bound elsewhere in the scope but on no path reaching this load
      "maybe"            a local bound on some paths reaching this load and not on others
      "maybe_argument"   ... only when an argument is None or an optional argument takes some value
                         (a caller contract the analysis cannot see)
      "maybe_guarded"    ... and the load sits under a later test (`if`, `while`, `and`/`or`, a
                         conditional expression, a `match` case) that holds no binding of the name:
                         the test may well imply the binding, in ways the analysis cannot see
      "maybe_loop"       ... only when a loop over data the caller passed in (a parameter, or a
                         value reached from one) runs zero times
      "maybe_loop_local" ... only when a loop over a count (`range(n)`) or a local collection runs
                         zero times
      "first_iteration"  a local bound later in the loop body, loaded before on the first pass
      "closure"          a free variable of a nested function called here while it may be unbound
    """

    node: T.AST
    name: str
    kind: str
    scope: str
    # for "closure": line of the call; for "first_iteration": line of the loop
    other_line: int = 0
    certain: bool = False
    scope_node: Optional[T.AST] = None
    # for "closure": the nested function's name
    detail: str = ""


@dataclass(frozen=True)
class UnpackSite:
    """`a, b, c = callee(...)`: a tuple target unpacking a call's result."""

    node: T.AST  # the target tuple
    count: int  # fixed targets
    starred: bool  # a `*rest` target: `count` is then a lower bound
    callee: str  # dotted text of the called expression: f, self.m, mod.f
    cls: Optional[str]  # class whose method holds the call (for self.m)
    method: Optional[str] = None  # that method's name

    # positions are computed on first read (see analyzer.tree.positions)
    @property
    def line(self) -> int:
        return self.node.lineno

    @property
    def col(self) -> int:
        return self.node.col_offset


@dataclass(frozen=True)
class ReturnRecord:
    node: Optional[T.Return]  # None: falling off the end of the body
    value: Optional[T.expr]
    shape: Optional[Shape]  # known tuple shape, None when not a known tuple
    starred_head: Optional[int] = None  # `return a, *rest`: number of fixed items
    is_none: bool = False
    # locals bound on every path reaching this return (for fixes that reuse a sibling's expression)
    bound: frozenset = frozenset()
    # `return out` where `out` holds tuples of different shapes on different paths
    alt_shapes: tuple = ()
    # falling off the end: the body's last statement, whose last line is where it happens
    last: Optional[T.AST] = None

    @property
    def line(self) -> int:
        if self.node is not None:
            return self.node.lineno
        return getattr(self.last, "end_lineno", None) or self.last.lineno

    @property
    def col(self) -> int:
        return 0 if self.node is None else self.node.col_offset

    def site(self) -> ReturnSite:
        none_slots: frozenset[int] = frozenset()
        if isinstance(self.value, T.Tuple):
            none_slots = frozenset(
                i for i, e in enumerate(self.value.elts) if isinstance(e, T.Constant) and e.value is None
            )
        if self.starred_head is not None:
            return ReturnSite(self.line, self.starred_head, True, none_slots, False)
        arity = len(self.shape) if self.shape is not None else None
        return ReturnSite(self.line, arity, False, none_slots, self.is_none)


@dataclass
class FunctionFlow:
    node: T.AST
    name: str
    qualname: str
    returns: list[ReturnRecord] = field(default_factory=list)
    falls_off_end: bool = False
    is_generator: bool = False
    dynamic: bool = False
    locals: frozenset = frozenset()


@dataclass
class ModuleFlow:
    tree: T.Module
    uses: list[NameUse]
    functions: list[FunctionFlow]
    dynamic: bool
    unpacks: list[UnpackSite] = field(default_factory=list)
    classes: list = field(default_factory=list)  # every ClassDef, in walk order
    imports: list = field(default_factory=list)  # every Import / ImportFrom, at any depth
    by_type: dict = field(default_factory=dict)  # node type -> every node of that type
    # derived views that several rules read, computed once (see analyzer.flow.autograd)
    cache: dict = field(default_factory=dict)


# --------------------------------------------------------------------------------- module context

_NORETURN_CALLS = {
    "sys.exit", "exit", "quit", "os._exit", "os.abort", "pytest.fail", "pytest.skip", "pytest.exit",
    "pytest.xfail", "_pytest.outcomes.fail", "_pytest.outcomes.skip", "_pytest.outcomes.exit",
    "_pytest.outcomes.xfail", "typing.assert_never", "assert_never", "typing_extensions.assert_never",
    "self.fail", "self.skipTest",
}
_RAISE_HELPER = re.compile(r"_?raise_[a-z0-9_]+$")
# unittest.TestCase methods that always raise, also called on a test case passed around by name
# (`def check(test_case): ... test_case.fail(msg)`)
_TESTCASE_NORETURN = frozenset({"fail", "skipTest"})
# finding kinds reported once per name and scope (see _Runner.report)
_ONE_PER_NAME = frozenset({"maybe", "maybe_argument", "maybe_guarded", "maybe_loop", "maybe_loop_local",
                           "closure_exit", "maybe_global"})
# (`pytest.warns` / `assertWarns` record warnings but let exceptions through: not here)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SUPPRESSING_CMS = {"suppress", "contextlib.suppress", "pytest.raises", "raises", "self.assertRaises",
                    "self.assertRaisesRegex"}


def dotted_name(node: T.expr) -> Optional[str]:
    """`a.b.c` for a Name/Attribute chain, else None."""
    return _dotted(node)


def _dotted(node: T.expr) -> Optional[str]:
    if isinstance(node, T.Name):
        return node.id
    if isinstance(node, T.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _testcase_noreturn(name: str) -> bool:
    """`self.fail(...)` on a test case, `parser.error(...)` on an argparse parser (it exits)."""
    receiver, _, method = name.rpartition(".")
    owner = receiver.rsplit(".", 1)[-1].lower()
    if method == "error" and owner.endswith("parser"):
        return True
    return method in _TESTCASE_NORETURN and "test" in owner


def _is_noreturn_annotation(ann: Optional[T.expr]) -> bool:
    if ann is None:
        return False
    if isinstance(ann, T.Constant) and isinstance(ann.value, str):
        return ann.value.split(".")[-1] in {"NoReturn", "Never"}
    name = _dotted(ann)
    return name is not None and name.split(".")[-1] in {"NoReturn", "Never"}


def _always_raises(body: list[T.stmt]) -> bool:
    """Syntactic: every path through `body` ends in `raise` (used for unannotated helpers)."""
    if not body:
        return False
    last = body[-1]
    if isinstance(last, T.Raise):
        return True
    if isinstance(last, T.If):
        return _always_raises(last.body) and _always_raises(last.orelse)
    if isinstance(last, (T.With, T.AsyncWith)):
        return _always_raises(last.body)
    return False


class _ModuleContext:
    def __init__(self, tree: T.Module) -> None:
        self.tree = tree
        self.bindings = collect_bindings(tree.body)
        self.global_names = set(self.bindings.bound)
        self.noreturn: set[str] = set()
        self.defined_functions: set[str] = set()
        # name -> how many `global name` statements the module has
        self.global_decls: dict[str, int] = {}
        self.suppressing_classes: set[str] = set()
        self.by_type: dict[type, list[T.AST]] = {}
        self._bindings_memo: dict[tuple[int, int], ScopeBindings] = {}
        self._scan(tree)
        self.classes = self.by_type.get(T.ClassDef, [])
        self.imports = self.by_type.get(T.Import, []) + self.by_type.get(T.ImportFrom, [])
        self.dynamic = self.bindings.star_import or self.bindings.dynamic
        self._string_words: Optional[frozenset[str]] = None
        self.literal_aliases = literal_aliases(tree)

    def may_come_from_exec(self, name: str) -> bool:
        """In a module that runs `exec` into its own namespace (and has no star import), could the
        executed code define `name`? Generated source is built from the module's strings, so only
        if some string of the module mentions the name."""
        if self.bindings.star_import:
            return True
        if self._string_words is None:
            words: set[str] = set()
            for node in T.walk(self.tree):
                if isinstance(node, T.Constant) and isinstance(node.value, str):
                    words.update(_IDENTIFIER.findall(node.value))
            self._string_words = frozenset(words)
        return name in self._string_words

    def bindings_of(self, body: list[T.stmt]) -> ScopeBindings:
        """collect_bindings, once per block (nested loops and try blocks ask again and again)."""
        if not body:
            return collect_bindings(body)
        key = (id(body[0]), len(body))
        found = self._bindings_memo.get(key)
        if found is None:
            found = self._bindings_memo[key] = collect_bindings(body)
        return found

    def _scan(self, tree: T.Module) -> None:
        by_type = self.by_type
        for node in T.walk(tree):
            bucket = by_type.get(type(node))
            if bucket is None:
                bucket = by_type[type(node)] = []
            bucket.append(node)
            if isinstance(node, T.ImportFrom) and node.module:
                for alias in node.names:
                    if f"{node.module}.{alias.name}" in _NORETURN_CALLS:
                        self.noreturn.add(alias.asname or alias.name)
            elif isinstance(node, T.Import):
                for alias in node.names:
                    if alias.asname:
                        for full in _NORETURN_CALLS:
                            if full.startswith(alias.name + "."):
                                self.noreturn.add(alias.asname + full[len(alias.name):])
            if isinstance(node, T.Global):
                self.global_names.update(node.names)
                for n in node.names:
                    self.global_decls[n] = self.global_decls.get(n, 0) + 1
            elif isinstance(node, (T.FunctionDef, T.AsyncFunctionDef)):
                self.defined_functions.add(node.name)
                if _is_noreturn_annotation(node.returns) or _always_raises(node.body):
                    self.noreturn.add(node.name)
                    self.noreturn.add(f"self.{node.name}")
                    self.noreturn.add(f"cls.{node.name}")
            elif isinstance(node, T.ClassDef):
                for item in node.body:
                    if isinstance(item, (T.FunctionDef, T.AsyncFunctionDef)) and item.name == "__exit__":
                        if _exit_may_suppress(item):
                            self.suppressing_classes.add(node.name)

    def is_global(self, name: str) -> bool:
        return name in self.global_names or name in BUILTIN_NAMES


def _exit_may_suppress(func: T.AST) -> bool:
    for node in T.walk(func):
        if isinstance(node, T.Return) and node.value is not None:
            v = node.value
            if isinstance(v, T.Constant) and not v.value:
                continue
            return True
    return False


# ---------------------------------------------------------------------------------- scope running


@dataclass
class _ScopeInfo:
    kind: str  # "module" | "class" | "function"
    node: T.AST
    locals: frozenset[str]
    parent: Optional["_ScopeInfo"]
    name: str
    dynamic: bool = False


@dataclass
class _LoopFrame:
    body_mask: int
    loop: T.stmt  # the `for` / `while`
    depth: int  # branch depth at body entry
    unconditional: bool = True  # no earlier top-level statement of the body may leave it
    breaks: list = field(default_factory=list)
    continues: list = field(default_factory=list)

    # lines are read only by the rare decisions that need them: positions cost a pass over the file
    @property
    def line(self) -> int:
        return self.loop.lineno

    @property
    def end(self) -> int:
        """The last line of the body."""
        body = self.loop.body
        return max((getattr(st, "end_lineno", 0) or 0) for st in body) if body else self.line


def _may_exit(stmt: T.stmt) -> bool:
    stack: list[T.AST] = [stmt]
    while stack:
        node = stack.pop()
        if isinstance(node, (T.Continue, T.Break, T.Return, T.Raise)):
            return True
        if isinstance(node, (T.FunctionDef, T.AsyncFunctionDef, T.ClassDef, T.Lambda)):
            continue
        if isinstance(node, T.Assert):
            return True
        stack.extend(T.iter_child_nodes(node))
    return False


_SHADOW_SENTINEL = object()


class _Runner:
    """Interprets one scope (module, class body or function)."""

    def report(self, node: T.AST, name: str, kind: str, other_line: int = 0, certain: bool = False,
               detail: str = "") -> None:
        if self.dry:
            return
        if kind in _ONE_PER_NAME:
            # the second read of a name missing on the same kind of paths is the same gap: one
            # binding fixes both, so it is reported once, at its first read
            if (name, kind) in self.gaps:
                return
            self.gaps.add((name, kind))
        self.sink.use(NameUse(node, name, kind, self.qualname, other_line, certain, self.info.node, detail))

    def _register_nested(self, node: T.AST, parent: "_ScopeInfo", qualname: str) -> None:
        if not self.dry:
            self.sink.nested(node, parent, qualname)

    def __init__(self, module: _ModuleContext, info: _ScopeInfo, bindings: ScopeBindings,
                 sink: "_Sink", params: Iterable[str] = (), qualname: str = "") -> None:
        self.module = module
        self.info = info
        self.b = bindings
        self.sink = sink
        self.qualname = qualname or info.name
        self.index: dict[str, int] = {}
        for i, name in enumerate(sorted(info.locals)):
            self.index[name] = 1 << i
        # module globals that only this function creates (`global K` here, bound nowhere else):
        # tracked like locals, since a read may come before any call has assigned them
        self.private_globals: set[str] = set()
        if info.kind == "function":
            for name in sorted(bindings.globals & bindings.bound):
                if (module.global_decls.get(name) == 1 and name not in module.bindings.bound
                        and name not in BUILTIN_NAMES and not module.dynamic):
                    self.private_globals.add(name)
                    self.index[name] = 1 << len(self.index)
        self.param_mask = 0
        for p in params:
            if p in self.index:
                self.param_mask |= self.index[p]
        self.fact_names: dict[tuple, frozenset[str]] = {}
        self.loops: list[_LoopFrame] = []
        self.branch_depth = 0
        self.suppress_nameerror = 0
        self.shadow: list[set[str]] = []  # comprehension targets currently in scope
        self.returns: list[ReturnRecord] = []
        self.reported: set[int] = set()
        self.gaps: set[tuple[str, str]] = set()
        self._co_bound: Optional[dict[str, frozenset[str]]] = None
        self._lines_memo: Optional[dict[str, list[int]]] = None
        self.local_defs: dict[str, T.AST] = {}
        self.escaping_nonlocals: set[str] = set()
        # nested functions that outlive the call (returned, registered as hooks, decorated), with
        # the loads through which they escape; and the states at this function's returns
        self.escaping_defs: dict[str, tuple[T.AST, list[T.Name]]] = {}
        self.exits: list[tuple[T.Return, tuple]] = []
        self.nested: list[tuple[T.AST, str]] = []
        self.optional_params = optional_params(info.node)
        self.closed_params = closed_params(info.node, module.literal_aliases)
        self.param_defaults = param_literal_defaults(info.node)
        # > 0 while a loop body is run only to learn its back edge: nothing is reported or recorded
        self.dry = 0
        args = getattr(info.node, "args", None)
        self.params = (_param_names(args) - {"self", "cls"}) if isinstance(args, T.arguments) else set()
        # name -> whether the last loop that may skip binding it iterates the caller's data
        self.zero_loop_caller: dict[str, bool] = {}
        self._parents: Optional[dict] = None
        self._tested: Optional[dict[str, list[int]]] = None
        self.at: T.AST = info.node  # the statement being run
        self._prepare_nested_defs()

    @property
    def line(self) -> int:
        """The line of the statement being run (read only where a decision needs it)."""
        return getattr(self.at, "lineno", 0)

    def _join(self, *states) -> tuple:
        return join(*states, next_test=self._next_test)

    def _next_test(self, subject: str) -> float:
        """Where the scope next tests `subject` after the statement being run (a test earlier in
        an enclosing loop comes round on the next pass); infinity when never. Too many paths are
        merged by forgetting the facts needed furthest ahead first."""
        lines = self._test_subjects().get(subject, ())
        for ln in lines:
            if ln >= self.line:
                return ln
        for frame in reversed(self.loops):
            for ln in lines:
                if frame.line <= ln < self.line:
                    return frame.end + 1 + (ln - frame.line)
        return float("inf")

    def _test_subjects(self) -> dict[str, list[int]]:
        if self._tested is None:
            self._tested = test_lines(self.info.node)
        return self._tested

    # ---- setup

    def _prepare_nested_defs(self) -> None:
        """Find nested functions called directly (their free variables are checked at the call)."""
        if self.info.kind != "function" or isinstance(self.info.node, T.Lambda):
            return
        body = self.info.node.body
        defs: dict[str, T.AST] = {}
        lambdas: dict[str, list[T.Lambda]] = {}
        lambda_names: set[str] = set()
        redefined: set[str] = set()
        stack: list[T.AST] = list(body)
        while stack:
            node = stack.pop()
            if isinstance(node, (T.FunctionDef, T.AsyncFunctionDef)):
                if node.name in defs:
                    redefined.add(node.name)
                defs.setdefault(node.name, node)
                continue
            if (isinstance(node, T.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], T.Name)
                    and isinstance(node.value, T.Lambda)):
                # `scale = lambda: alpha / denom`, called later like a nested function
                lambdas.setdefault(node.targets[0].id, []).append(node.value)
            if isinstance(node, (T.ClassDef, T.Lambda)):
                continue
            stack.extend(T.iter_child_nodes(node))
        for lname, found in lambdas.items():
            if len(found) == 1 and lname not in defs and len(self.binding_lines(lname)) == 1:
                defs[lname] = found[0]
                lambda_names.add(lname)
        if not defs:
            return
        escaping: set[str] = set()
        callee_ids: set[int] = set()
        loads: list[T.Name] = []
        for node in _walk_body(body):
            if isinstance(node, T.Call) and isinstance(node.func, T.Name):
                callee_ids.add(id(node.func))
            elif isinstance(node, T.Name) and node.id in defs and isinstance(node.ctx, T.Load):
                loads.append(node)
        escaping.update(n.id for n in loads if id(n) not in callee_ids)
        for name, d in defs.items():
            if name in lambda_names:
                continue
            if d.decorator_list or name in self.b.nondef_bound:
                escaping.add(name)
        for name, d in defs.items():
            if name in lambda_names:
                if name not in escaping:
                    self.local_defs[name] = d
                continue
            nl = self.module.bindings_of(d.body).nonlocals
            if name in escaping:
                self.escaping_nonlocals |= nl
                # one def per name: with several (one per branch), which one escaped is unknown
                if name not in self.b.nondef_bound and name not in redefined:
                    self.escaping_defs[name] = (d, [n for n in loads if n.id == name and id(n) not in callee_ids])
            else:
                self.local_defs[name] = d

    def initial_state(self) -> tuple:
        return (Path(self.param_mask, self.param_mask, frozenset()),)

    # ---- state helpers

    def mask_of(self, names: Iterable[str]) -> int:
        m = 0
        for n in names:
            m |= self.index.get(n, 0)
        return m

    def bind(self, state: tuple, name: str, shape: Optional[Shape] = None) -> tuple:
        mask = self.index.get(name, 0)
        out = []
        for p in state:
            p = self._invalidate(p, name)
            if mask:
                p = p.bind(mask)
                p = self._set_shape(p, mask, shape)
            out.append(p)
        return self._join(out)

    def unbind(self, state: tuple, name: str) -> tuple:
        mask = self.index.get(name, 0)
        if not mask:
            return state
        return self._join([self._invalidate(p, name).unbind(mask) for p in state])

    def _set_shape(self, p: Path, mask: int, shape: Optional[Shape]) -> Path:
        if not p.shapes and shape is None:
            return p
        rest = tuple(item for item in p.shapes if item[0] != mask)
        if shape is not None:
            rest = rest + ((mask, shape),)
        return p.with_shapes(rest) if rest != p.shapes else p

    def _invalidate(self, p: Path, name: str) -> Path:
        if not p.facts:
            return p
        prefix = name + "."
        keep = frozenset(
            f for f in p.facts
            if not any(n == name or n.startswith(prefix) for n in self.fact_names.get(f[0], ()))
        )
        return p if len(keep) == len(p.facts) else p.with_facts(keep)

    def invalidate_all(self, state: tuple, names: Iterable[str]) -> tuple:
        names = list(names)
        if not names:
            return state
        out = []
        for p in state:
            for n in names:
                p = self._invalidate(p, n)
            out.append(p)
        return self._join(out)

    # ---- loads

    def load(self, state: tuple, node: T.Name) -> None:
        name = node.id
        for shadowed in self.shadow:
            if name in shadowed:
                return
        if name in self.b.globals:
            if name in self.private_globals:
                self._check_private_global(state, node, name)
            elif not self.module.is_global(name) and not self.module.dynamic:
                self.report(node, name, "undefined")
            return
        mask = self.index.get(name, 0)
        if mask and name not in self.b.nonlocals:
            self._check_local(state, node, name, mask)
            return
        self.resolve_free(node, name)

    def _check_private_global(self, state: tuple, node: T.AST, name: str) -> None:
        mask = self.index[name]
        if not state or self.info.dynamic or self.suppress_nameerror:
            return
        unbound = [p for p in state if not p.bound & mask]
        if not unbound or any(p.imprecise or p.carried & mask or p.loopzero & mask for p in unbound):
            return
        # an earlier call may have assigned it, so never "certain"
        self.report(node, name, "maybe_global")

    def _survived_load(self, state: tuple, name: str) -> tuple:
        """Execution that got past a load of a function local has the local bound: a path that
        reaches a later use went through this one, so one missing binding is reported once, at
        its first use, not at every read after it."""
        mask = self.index.get(name, 0)
        if (not mask or self.info.kind != "function" or name in self.b.nonlocals
                or name in self.b.globals or any(name in s for s in self.shadow)):
            return state
        if all(p.bound & mask for p in state):
            return state
        # paths where the name is surely unbound end here (the load raised); merged paths that
        # bind it on some executions go on with it bound. Dropping paths, not just binding the
        # name, keeps a second name missing on the same paths from being reported again.
        # Names only ever bound by the statements that bind this one are bound wherever it is.
        if self._co_bound is None:
            self._co_bound = co_bound_groups(self.info.node)
        group = mask | self.mask_of(self._co_bound.get(name, ()))
        # a name missing only when a loop ran zero times proves, once read, that the loop ran: the
        # other names such a loop binds are there too (`return seq, outputs, kind` after the loop)
        alive = [p if p.bound & mask else
                 p.bind(mask | (group & p.maybe) | (p.loopzero & p.maybe if p.loopzero & mask else 0))
                 for p in state if p.maybe & mask]
        if not alive:
            return self._join([p.bind(mask) for p in state])
        return self._join(alive)

    def _check_local(self, state: tuple, node: T.AST, name: str, mask: int) -> None:
        if not state or self.info.dynamic or self.suppress_nameerror or name in self.escaping_nonlocals:
            return
        unbound = [p for p in state if not p.bound & mask]
        if not unbound:
            return
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
            self.report(node, name, "unbound", certain=True)
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
                    self.report(node, name, "first_iteration", other_line=frame.line)
                return
        if any(p.imprecise for p in unbound):
            return
        if all(p.loopzero & mask for p in unbound):
            caller = self.zero_loop_caller.get(name, False)
            self.report(node, name, "maybe_loop" if caller else "maybe_loop_local")
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
            self.report(node, name, "maybe")
            return
        if self._guarded(node, name):
            self.report(node, name, "maybe_guarded")
            return
        if self._argument_contract(state, unbound, mask):
            self.report(node, name, "maybe_argument")
            return
        self.report(node, name, "maybe")

    def binding_lines(self, name: str) -> list[int]:
        if self._lines_memo is None:
            self._lines_memo = all_binding_lines(self.info.node)
        return self._lines_memo.get(name, [])

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
        for node in _walk_body(self.info.node.body):
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
            if _reads_in_both_arms(branch, name):
                continue  # `sqrt(rank) if rslora else rank`: read whichever way the test goes
            if binding_reads is None:
                binding_reads = self._binding_test_reads(name)
            if not (set().union(*(_reads(t) for t in tests)) & binding_reads):
                return True
        return False

    def _parent_map(self) -> dict:
        if self._parents is None:
            self._parents = {}
            for parent in _walk_body(list(getattr(self.info.node, "body", []) or [])):
                for child in T.iter_child_nodes(parent):
                    self._parents[child] = parent
        return self._parents

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
                        out |= _reads(t)
        return out

    def _availability_guard(self, state: tuple, unbound: list, mask: int) -> bool:
        """Missing exactly when an optional-dependency check (`if is_vision_available(): ...`)
        went the other way: such checks are correlated in ways the analysis cannot see
        (torchvision implies vision), so the read stays quiet."""
        return self._correlated_with(state, unbound, mask, lambda k: "available" in k[1].lower())

    def _argument_contract(self, state: tuple, unbound: list, mask: int) -> bool:
        """True when the name is unbound only for some values of optional arguments: every
        unbound path assumed a fact about a parameter with a default that a bound path denies."""
        if not self.params:
            return False

        def relevant(k) -> bool:
            if k[1] in self.optional_params and k[0] in ("eq", "truthy", "in"):
                return True
            # `if audio is not None:` on any argument: the caller decides which inputs come
            return k[0] == "eq" and k[1] in self.params and k[2] == _NONE_LITERAL

        def at_default(k, v) -> bool:
            # a call that leaves the argument at its default goes this way: that is no contract,
            # it is the ordinary call (`def f(x, use_dora=False): if use_dora: m = ...`).
            default = self.param_defaults.get(k[1])
            if default is None or default == _NONE_LITERAL:
                # `inputs_embeds=None` is how many APIs spell "keyword, required in practice"
                return False
            if k[0] == "truthy":
                return literal_truth(default) == v
            if k[0] == "eq" and k[2] is not None and k[2][0] == "const" and default[0] == "const":
                return (k[2][1:] == default[1:]) == v
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
                    and any((k, not v) in f for f in bound) and not any((k, v) in f for f in bound))

        return all(any(explains(k, v) for (k, v) in p.facts) for p in unbound)

    def _resolves_outside(self, name: str) -> bool:
        if self.info.kind == "class":
            return self.module.is_global(name) or self._enclosing_binds(name, self.info.parent)
        return name in BUILTIN_NAMES

    def _enclosing_binds(self, name: str, scope: Optional[_ScopeInfo]) -> bool:
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
        if self.info.dynamic:
            return
        while scope is not None:
            if scope.kind == "function" and name in scope.locals:
                return
            if scope.dynamic and scope.kind == "function":
                return
            scope = scope.parent
        if self.module.is_global(name) or (self.module.dynamic and self.module.may_come_from_exec(name)):
            return
        if self.suppress_nameerror:
            return
        if name in self.module.bindings.type_checking_only:
            self.report(node, name, "type_checking")
            return
        klass = self._enclosing_class_binding(name)
        if klass:
            self.report(node, name, "class_scope")
            return
        self.report(node, name, "undefined")

    def _enclosing_class_binding(self, name: str) -> bool:
        scope = self.info.parent
        while scope is not None:
            if scope.kind == "class" and name in scope.locals:
                return True
            scope = scope.parent
        return False

    # ---- expressions

    def expr(self, state: tuple, node: Optional[T.AST]) -> tuple:
        """Evaluate `node` for its loads and bindings (walrus); return the state after it."""
        if node is None or not state:
            return state
        if isinstance(node, T.Name):
            if isinstance(node.ctx, T.Load):
                self.load(state, node)
                return self._survived_load(state, node.id)
            return state
        if isinstance(node, T.Constant):
            return state
        if isinstance(node, T.NamedExpr):
            state = self.expr(state, node.value)
            return self.bind(state, node.target.id, self.shape_of(state, node.value))
        if isinstance(node, T.BoolOp):
            t, f = self.cond(state, node)
            return _forget_new_facts(self._join(t, f), state, node)
        if isinstance(node, T.IfExp):
            t, f = self.cond(state, node.test)
            self.branch_depth += 1
            t = self.expr(t, node.body)
            f = self.expr(f, node.orelse)
            self.branch_depth -= 1
            return _forget_new_facts(self._join(t, f), state, node)
        if isinstance(node, T.Lambda):
            for d in node.args.defaults + [d for d in node.args.kw_defaults if d is not None]:
                state = self.expr(state, d)
            self._register_nested(node, self.nest_parent(), self.qualname + ".<lambda>")
            return state
        if isinstance(node, (T.ListComp, T.SetComp, T.GeneratorExp, T.DictComp)):
            return self.comprehension(state, node)
        if isinstance(node, T.Call):
            state = self.expr(state, node.func)
            for a in node.args:
                state = self.expr(state, a)
            for kw in node.keywords:
                state = self.expr(state, kw.value)
            if isinstance(node.func, T.Name):
                state = self.direct_call(state, node)
            return state
        for child in T.iter_child_nodes(node):
            if isinstance(child, T.expr):
                state = self.expr(state, child)
            elif isinstance(child, (T.comprehension, T.keyword, T.arguments)):
                for sub in T.iter_child_nodes(child):
                    if isinstance(sub, T.expr):
                        state = self.expr(state, sub)
        return state

    def nest_parent(self) -> _ScopeInfo:
        """The parent scope for a nested function: comprehension variables in scope count."""
        if not self.shadow:
            return self.info
        names = frozenset().union(*self.shadow)
        return _ScopeInfo("function", self.info.node, names, self.info, "<comprehension>")

    def comprehension(self, state: tuple, node: T.AST) -> tuple:
        gens = node.generators
        state = self.expr(state, gens[0].iter)
        names: set[str] = set()
        for g in gens:
            for n in target_names(g.target):
                names.add(n.id)
        self.shadow.append(names)
        self.branch_depth += 1
        inner = state
        for i, g in enumerate(gens):
            if i:
                inner = self.expr(inner, g.iter)
            for cond in g.ifs:
                # the element is built only for items that pass: `[r for p in ps if (r := f(p))]`
                inner = self.cond(inner, cond)[0]
        if isinstance(node, T.DictComp):
            inner = self.expr(inner, node.key)
            inner = self.expr(inner, node.value)
        else:
            inner = self.expr(inner, node.elt)
        self.branch_depth -= 1
        self.shadow.pop()
        # walrus bindings inside the comprehension happen only if it runs at least once
        return self._join(state, inner) if inner is not state else state

    def direct_call(self, state: tuple, call: T.Call) -> tuple:
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
            first_reads = [n for n in _first_reads(d, inner) if n.id in inner.nonlocals]
            first = {id(n) for n in first_reads}
        inner_locals = (inner.bound | _param_names(d.args)) - inner.nonlocals - inner.globals
        nodes = list(_walk_body(body))
        if first:
            # augmented targets (`n += 1`) are Store nodes the walk below skips
            nodes += [n for n in first_reads if not isinstance(n.ctx, T.Load)]
        for sub in nodes:
            if isinstance(sub, T.comprehension):
                inner_locals = inner_locals | {n.id for n in target_names(sub.target)}
            elif isinstance(sub, (T.Lambda, T.FunctionDef, T.AsyncFunctionDef)):
                inner_locals = inner_locals | _param_names(sub.args)
                if not isinstance(sub, T.Lambda):
                    # a function nested deeper has its own locals (checked when it runs)
                    deeper = self.module.bindings_of(sub.body)
                    inner_locals = inner_locals | (deeper.bound - deeper.nonlocals - deeper.globals)
        guards = _if_guards(body, inner_locals)
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
                reaching = self._under_guards(state, guards.get(id(sub), ()))
                unbound = [p for p in reaching if not p.bound & mask]
                if not unbound or any(p.imprecise or p.carried & mask for p in unbound):
                    continue
                self.reported.add(id(sub))
                certain = not any(p.maybe & mask for p in state)
                self.report(sub, sub.id, "closure", other_line=call.lineno, certain=certain, detail=name)
        for nl in inner.nonlocals & inner.bound:
            mask = self.index.get(nl, 0)
            if not mask:
                continue
            if any(isinstance(s, (T.Assign, T.AugAssign, T.AnnAssign)) and any(n.id == nl for t in _targets(s) for n in target_names(t)) for s in d.body):
                state = self.bind(state, nl)
            else:
                state = self._join([replace(p, maybe=p.maybe | mask) for p in state])
        return state

    # ---- conditions

    def cond(self, state: tuple, node: T.expr) -> tuple[tuple, tuple]:
        """(state where `node` is true, state where it is false)."""
        if not state:
            return EMPTY, EMPTY
        if isinstance(node, T.BoolOp):
            is_and = isinstance(node.op, T.And)
            cur = state
            others = []
            for i, v in enumerate(node.values):
                if i:
                    self.branch_depth += 1
                t, f = self.cond(cur, v)
                if i:
                    self.branch_depth -= 1
                if is_and:
                    others.append(f)
                    cur = t
                else:
                    others.append(t)
                    cur = f
            rest = self._join(*others)
            return (cur, rest) if is_and else (rest, cur)
        if isinstance(node, T.UnaryOp) and isinstance(node.op, T.Not):
            t, f = self.cond(state, node.operand)
            return f, t
        if isinstance(node, T.Constant):
            return (state, EMPTY) if node.value else (EMPTY, state)
        if is_type_checking_test(node):
            return EMPTY, state
        if isinstance(node, T.NamedExpr):
            state = self.expr(state, node)
            return self._split(state, T.Name(node.target.cst, node.target.pos, node.target.id, T.LOAD))
        state = self.expr(state, node)
        t, f = self._split(state, node)
        ran = _nonempty_when(node)
        if ran is not None:
            # `any(... (m := f(x)) ...)` true, or `all(...)` false: the generator ran at least once,
            # so its walrus targets are bound on that branch
            names, when = ran
            for n in names:
                if when:
                    t = self.bind(t, n)
                else:
                    f = self.bind(f, n)
        return t, f

    def _split(self, state: tuple, node: T.expr) -> tuple[tuple, tuple]:
        a = atom(node)
        if a is None:
            return state, state
        key, names, polarity = a
        self.fact_names[key] = names
        t_paths, f_paths = [], []
        for p in state:
            if p.dropped and key[1] in p.dropped and not p.imprecise:
                p = replace(p, imprecise=True)
            pt = assume(p, key, polarity)
            pf = assume(p, key, not polarity)
            if pt is not None:
                t_paths.append(pt)
            if pf is not None:
                f_paths.append(pf)
        return self._join(t_paths), self._join(f_paths)

    # ---- shapes

    def shape_of(self, state: tuple, node: Optional[T.AST]) -> Optional[Shape]:
        if isinstance(node, T.Tuple):
            out: list = []
            for e in node.elts:
                if isinstance(e, T.Starred):
                    # `*([None] * 3)` spreads a literal of known length; anything else is unknown
                    spread = self._literal_items(state, e.value)
                    if spread is None:
                        return None
                    out.extend(spread)
                else:
                    out.append(self.shape_of(state, e))
            return tuple(out)
        repeated = _repetition(node)
        if repeated is not None:
            # `(None,) * 8`: the gradient padding of autograd backwards
            inner = self.shape_of(state, repeated[0])
            if inner is not None:
                return inner * repeated[1]
        if isinstance(node, T.Name) and node.id in self.index and state:
            shapes = self._path_shapes(state, self.index[node.id])
            if shapes is not None and len(shapes) == 1:
                return shapes.pop()
            return None
        if isinstance(node, T.BinOp) and isinstance(node.op, T.Add):
            left = self.shape_of(state, node.left)
            right = self.shape_of(state, node.right)
            if left is not None and right is not None:
                return left + right
        return None

    def _literal_items(self, state: tuple, node: T.AST) -> Optional[Shape]:
        """Shapes of the items a starred literal spreads (`[None] * 3`, `(a, b)`), if known."""
        if isinstance(node, T.List) and not any(isinstance(e, T.Starred) for e in node.elts):
            return tuple(self.shape_of(state, e) for e in node.elts)
        if isinstance(node, T.BinOp) and isinstance(node.op, T.Add):
            left, right = self._literal_items(state, node.left), self._literal_items(state, node.right)
            return left + right if left is not None and right is not None else None
        repeated = _repetition(node)
        if repeated is not None:
            inner = self._literal_items(state, repeated[0])
            return inner * repeated[1] if inner is not None else None
        if isinstance(node, T.Tuple):
            return self.shape_of(state, node)
        return None

    # ---- statements

    def block(self, state: tuple, body: list[T.stmt]) -> tuple:
        for stmt in body:
            if not state:
                break
            state = self.stmt(state, stmt)
        return state

    def loop_body(self, state: tuple, body: list[T.stmt], frame: _LoopFrame) -> tuple:
        for stmt in body:
            if not state:
                break
            state = self.stmt(state, stmt)
            if frame.unconditional and _may_exit(stmt):
                frame.unconditional = False
        return state

    def stmt(self, state: tuple, node: T.stmt) -> tuple:
        self.at = node
        method = getattr(self, "s_" + type(node).__name__, None)
        if method is None:
            return self.expr_children(state, node)
        return method(state, node)

    def expr_children(self, state: tuple, node: T.AST) -> tuple:
        for child in T.iter_child_nodes(node):
            if isinstance(child, T.expr):
                state = self.expr(state, child)
        return state

    def assign_target(self, state: tuple, target: T.expr, value_shape: Optional[Shape] = None) -> tuple:
        if isinstance(target, T.Name):
            return self.bind(state, target.id, value_shape)
        if isinstance(target, (T.Tuple, T.List)):
            for i, elt in enumerate(target.elts):
                sub = None
                if value_shape is not None and not any(isinstance(e, T.Starred) for e in target.elts) and i < len(value_shape):
                    sub = value_shape[i]
                state = self.assign_target(state, elt, sub)
            return state
        if isinstance(target, T.Starred):
            return self.assign_target(state, target.value)
        # attribute / subscript store: evaluate the object and index, then forget facts about it
        if isinstance(target, T.Attribute):
            state = self.expr(state, target.value)
            text = _dotted(target)
            if text is not None:
                state = self.invalidate_all(state, [text])
            return state
        if isinstance(target, T.Subscript):
            state = self.expr(state, target.value)
            return self.expr(state, target.slice)
        return self.expr(state, target)

    def s_Expr(self, state, node):
        state = self.expr(state, node.value)
        if isinstance(node.value, T.Call):
            name = _dotted(node.value.func)
            if name is not None and (name in _NORETURN_CALLS or name in self.module.noreturn
                                     or _testcase_noreturn(name) or self._raise_helper(name)):
                return EMPTY
        return state

    def _raise_helper(self, name: str) -> bool:
        """`raise_type_error(...)`, `unimplemented(...)` imported from elsewhere: helpers named for
        raising are taken never to return (a same-module one is judged by its body instead);
        `raise_if_...` / `maybe_raise...` are conditional and do return."""
        last = name.rsplit(".", 1)[-1]
        if last in self.module.defined_functions:
            return False
        if last in ("unimplemented", "unreachable"):
            return True
        return (_RAISE_HELPER.match(last) is not None
                and not any(w in last for w in ("_if", "_unless", "maybe", "_on_", "_when")))

    def s_Assign(self, state, node):
        if self._derived_flag(node):
            return self._assign_flag(state, node.targets[0].id, node.value)
        state = self.expr(state, node.value)
        if isinstance(node.value, T.Call) and state:
            self.note_unpacks(node)
        shape = self.shape_of(state, node.value)
        for t in node.targets:
            state = self.assign_target(state, t, shape)
        if len(node.targets) == 1 and isinstance(node.targets[0], T.Name):
            state = self.value_fact(state, node.targets[0].id, node.value)
        return state

    def _derived_flag(self, node: T.Assign) -> bool:
        """`generate = return_audio and self.has_talker`, later tested (`if not generate: return`):
        the flag carries what its condition assumed."""
        value = node.value
        if len(node.targets) != 1 or not isinstance(node.targets[0], T.Name):
            return False
        if not (isinstance(value, (T.BoolOp, T.Compare))
                or (isinstance(value, T.UnaryOp) and isinstance(value.op, T.Not))):
            return False
        name = node.targets[0].id
        if name not in self._test_subjects():
            return False
        return not any(isinstance(n, (T.NamedExpr, T.Lambda)) or (isinstance(n, T.Name) and n.id == name)
                       for n in T.walk(value))

    def _assign_flag(self, state: tuple, name: str, value: T.expr) -> tuple:
        key = ("truthy", name, None)
        self.fact_names[key] = frozenset({name})
        return self._join(*(self._with_fact(self.assign_target(branch, T.Name(None, None, name, T.STORE), None),
                                            key, truth)
                            for truth, branch in zip((True, False), self.cond(state, value))))

    def _with_fact(self, state: tuple, key: tuple, truth: bool) -> tuple:
        """`state` with a fact that an assignment just made true (kept as is where it cannot hold)."""
        out = []
        for p in state:
            q = assume(p, key, truth)
            out.append(q if q is not None else p)
        return self._join(out)

    def note_unpacks(self, node: T.Assign) -> None:
        if self.dry:
            return
        callee = _dotted(node.value.func)
        if callee is None:
            return
        cls = self.info.parent.name if (self.info.kind == "function" and self.info.parent is not None
                                        and self.info.parent.kind == "class") else None
        for t in node.targets:
            if isinstance(t, (T.Tuple, T.List)):
                stars = sum(1 for e in t.elts if isinstance(e, T.Starred))
                if stars > 1:
                    continue
                self.sink.unpacks.append(UnpackSite(t, len(t.elts) - stars, bool(stars), callee, cls,
                                                    self.qualname.rsplit(".", 1)[-1] if cls else None))

    def value_fact(self, state: tuple, name: str, value: T.expr) -> tuple:
        """`x = None` / `x = False` / `x = []`: later tests of `x` are decided on this path."""
        key = None
        names = frozenset({name})
        if isinstance(value, T.Constant):
            lit = literal_value(value)
            if lit is not None:
                key, truth = ("eq", name, lit), True
        elif isinstance(value, T.IfExp):
            # `variant = "i2v" if image is not None else "t2v"`: one of two known values
            lits = {literal_value(value.body), literal_value(value.orelse)}
            if None not in lits:
                key, truth = ("in", name, frozenset(lits)), True
        elif isinstance(value, T.Name) and value.id != name:
            # `out = _MISSING` ... `if out is not _MISSING:`: decided while neither is rebound
            key, truth, names = ("same", name, value.id), True, frozenset({name, value.id})
        # (empty containers are not recorded: `xs = []` is usually filled by `xs.append` later)
        if key is None:
            return state
        self.fact_names[key] = names
        return self._with_fact(state, key, truth)

    def s_AugAssign(self, state, node):
        state = self.expr(state, node.value)
        if isinstance(node.target, T.Name):
            self.load(state, node.target)
            shape = None
            if isinstance(node.op, T.Add):
                left = self.shape_of(state, node.target)
                right = self.shape_of(state, node.value)
                if left is not None and right is not None:
                    shape = left + right
            return self.bind(state, node.target.id, shape)
        return self.assign_target(state, node.target)

    def s_AnnAssign(self, state, node):
        self.annotation(node.annotation)
        if node.value is None:
            return state
        state = self.expr(state, node.value)
        return self.assign_target(state, node.target, self.shape_of(state, node.value))

    def s_Delete(self, state, node):
        for t in node.targets:
            if isinstance(t, T.Name):
                self.load(state, t)
                state = self.unbind(state, t.id)
            elif isinstance(t, (T.Tuple, T.List)):
                for n in target_names(t):
                    self.load(state, n)
                    state = self.unbind(state, n.id)
            else:
                state = self.expr(state, t.value if hasattr(t, "value") else t)
                if isinstance(t, T.Subscript):
                    state = self.expr(state, t.slice)
        return state

    def s_Import(self, state, node):
        for alias in node.names:
            name = alias.asname or alias.name.split(".")[0]
            state = self.bind(state, name)
        return state

    def s_ImportFrom(self, state, node):
        for alias in node.names:
            if alias.name != "*":
                state = self.bind(state, alias.asname or alias.name)
        return state

    def s_Global(self, state, node):
        return state

    s_Nonlocal = s_Global

    def s_Pass(self, state, node):
        return state

    def s_Return(self, state, node):
        state = self.expr(state, node.value)
        if self.info.kind == "function" and state:
            self.record_return(state, node)
            if self.escaping_defs and not self.dry:
                self.exits.append((node, state))
        return EMPTY

    # ---- closures that outlive the call

    def _under_guards(self, state: tuple, guards) -> tuple:
        """The caller's paths on which a callee's `if` tests (on the caller's variables) hold."""
        if not guards:
            return state
        self.dry += 1
        try:
            for test, truth in guards:
                t, f = self.cond(state, test)
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
            for load in _first_reads(d, self.module.bindings_of(d.body)):
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
                self.report(load, x, "closure_exit", certain=certain, detail=name)

    def _bound_in_loop(self, name: str) -> bool:
        lines = self.binding_lines(name)
        for node in _walk_body(self.info.node.body):
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

    def record_return(self, state: tuple, node: T.Return) -> None:
        if self.dry:
            return
        value = node.value
        is_none = value is None or (isinstance(value, T.Constant) and value.value is None)
        shape = None if is_none else self.shape_of(state, value)
        head = None
        if shape is None and isinstance(value, T.Tuple) and any(isinstance(e, T.Starred) for e in value.elts):
            head = sum(1 for e in value.elts if not isinstance(e, T.Starred))
        common = -1
        for p in state:
            common &= p.bound
        bound = frozenset(n for n, m in self.index.items() if common & m)
        alt: tuple = ()
        if shape is None and isinstance(value, T.Name) and value.id in self.index:
            per_path = self._path_shapes(state, self.index[value.id])
            if per_path is not None and len(per_path) > 1 and not self._flag_chosen(state, self.index[value.id]):
                alt = tuple(sorted(per_path, key=lambda sh: (len(sh), repr(sh))))
        self.returns.append(ReturnRecord(node, value, shape, head, is_none, bound, alt))

    def _flag_chosen(self, state: tuple, mask: int) -> bool:
        """Do the paths holding different shapes differ in a fact about an optional argument
        (`if output_attentions: outputs += (attn,)`)? Then the caller chose the size."""
        def shape_on(p):
            return next((sh for m, sh in p.shapes if m == mask), None)

        paths = list(state)
        for i, a in enumerate(paths):
            for b in paths[i + 1:]:
                if shape_on(a) == shape_on(b):
                    continue
                if any(k[1] in self.optional_params and (k, not v) in b.facts for (k, v) in a.facts):
                    return True
        return False

    @staticmethod
    def _path_shapes(state: tuple, mask: int) -> Optional[set]:
        """The tuple shapes a local holds on the paths of `state`, if known on every one."""
        shapes = set()
        for p in state:
            found = None
            for m, sh in p.shapes:
                if m == mask:
                    found = sh
            if found is None or not p.bound & mask:
                return None
            shapes.add(found)
        return shapes

    def s_Raise(self, state, node):
        state = self.expr(state, node.exc)
        self.expr(state, node.cause)
        return EMPTY

    def s_Assert(self, state, node):
        t, f = self.cond(state, node.test)
        self.branch_depth += 1
        self.expr(f, node.msg)
        self.branch_depth -= 1
        return t

    def s_If(self, state, node):
        chain = _elif_chain(node)
        self.branch_depth += 1
        outs = []
        cur = state
        for link in chain:
            self.branch_depth -= 1
            t, cur = self.cond(cur, link.test)
            self.branch_depth += 1
            outs.append(self.block(t, link.body))
        last = chain[-1]
        if (len(chain) >= 2 and not last.orelse and _dispatch_subject(chain) is not None
                and not _value_dispatch_on_local(chain, self.closed_params)):
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
        if any(_first_pass_test(link.test) for link in chain):
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
        return [self._join([p if _after_first_pass(p) else replace(p, carried=p.carried & ~(bound_somewhere & ~p.bound))
                            for p in o])
                if any(p.carried & bound_somewhere for p in o) else o for o in outs]

    def _enter_loop(self, state: tuple, body: list[T.stmt], orelse: list[T.stmt], loop: T.stmt,
                    extra_names: set[str]) -> tuple[tuple, _LoopFrame]:
        inner = self.module.bindings_of(body)
        assigned = (inner.bound | extra_names)
        body_mask = self.mask_of(assigned)
        deleted_mask = self.mask_of(inner.deleted)
        # Over-approximate the back edge: whatever the body may bind is possibly bound at the head
        # ("carried": only the first pass lacks it), and facts about reassigned names are dropped.
        head = []
        for p in self.invalidate_all(state, assigned | _attr_targets(body)):
            new = body_mask & ~p.maybe
            # a tuple rebuilt in the loop (`acc += (x,)`) has a size that depends on the trip count
            shapes = tuple(item for item in p.shapes if not item[0] & body_mask)
            head.append(replace(p, bound=p.bound & ~deleted_mask, maybe=p.maybe | body_mask,
                                carried=(p.carried | new) & ~p.bound, shapes=shapes))
        frame = _LoopFrame(body_mask=body_mask, loop=loop, depth=self.branch_depth + 1)
        return self._join(head), frame

    def _exact_head(self, state: tuple, approx: tuple, body: list[T.stmt], frame: _LoopFrame, entry_of) -> tuple:
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
        sentinel = any(key[0] == "same" and key[1] in inner.bound and key[2] not in self.index
                       for p in state for key, _ in p.facts)
        if not (inner.deleted or sentinel) or self.dry >= 2:
            return approx
        assigned = inner.bound | inner.deleted
        head = state
        for _ in range(6):
            trial = _LoopFrame(body_mask=frame.body_mask, loop=frame.loop, depth=frame.depth)
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

    def _keep_facts(self, p: Path, names: set[str]) -> Path:
        keep = frozenset(f for f in p.facts if self.fact_names.get(f[0], frozenset()) & names)
        return p if keep == p.facts else p.with_facts(keep)

    def _run_loop(self, head: tuple, entry: tuple, body: list[T.stmt], frame: _LoopFrame) -> tuple:
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
        # exits: zero iterations from the original state, or the end of any pass
        zero = EMPTY if nonempty_known else _zero_pass(self._iter_split(state, node.iter)[2], frame.body_mask)
        if zero:
            self._note_zero_loop(node.body, self._reads_caller_data(node.iter))
        exit_state = self._join(zero, _uncarry(end), _uncarry(self._join(*frame.continues)))
        self.branch_depth += 1
        exit_state = self.block(exit_state, node.orelse)
        self.branch_depth -= 1
        return self._join(exit_state, _uncarry(self._join(*frame.breaks)))

    s_AsyncFor = s_For

    def _note_zero_loop(self, body: list[T.stmt], caller: bool) -> None:
        for n in self.module.bindings_of(body).bound:
            self.zero_loop_caller[n] = caller

    def _reads_caller_data(self, it: T.expr) -> bool:
        """`for x in items`, `items.values()`, `enumerate(model.named_modules())`: the iterable
        comes from a parameter (an empty one is the caller's input). `range(n)` is a count."""
        while True:
            if isinstance(it, T.Call):
                if isinstance(it.func, T.Name) and it.func.id in _ITER_WRAPPERS and it.args:
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
        lit_nonempty = _literal_nonempty(it)
        if lit_nonempty is True or _model_structure(it):
            return True, state, EMPTY
        bound = _range_bound(it)
        if bound is not None:
            # `range(n)` after `if n <= 0: raise` (n > 0) or `if n < 1: raise` (n >= 1)
            positive = atom(T.Compare(None, None, bound, [T.Gt(None, None)], [T.Constant(None, None, 0, None)]))
            at_least_one = atom(T.Compare(None, None, bound, [T.GtE(None, None)], [T.Constant(None, None, 1, None)]))
            t_paths, f_paths = [], []
            for p in state:
                facts = [(a[0], a[2]) for a in (positive, at_least_one) if a is not None]
                if any(f in p.facts for f in facts):
                    t_paths.append(p)
                elif all((k, not v) in p.facts for k, v in facts):
                    f_paths.append(p)
                else:
                    t_paths.append(p)
                    f_paths.append(p)
            return (not f_paths and bool(t_paths)), self._join(t_paths), self._join(f_paths)
        subject = _iter_subject(it)
        if subject is None:
            return False, state, state
        t, f = self._split(state, subject)
        return (not f and bool(t)), t, f

    def s_While(self, state, node):
        head, frame = self._enter_loop(state, node.body, node.orelse, node, set())
        head = self._exact_head(state, head, node.body, frame, lambda h: self.cond(h, node.test)[0])
        first_t, first_f = self.cond(state, node.test)
        t, f = self.cond(head, node.test)
        end = self._run_loop(head, t, node.body, frame)
        # after the body, the test runs again; what it found before may have changed (the body
        # mutates `proj` in `while proj.pending(): proj.pop()`), so its own facts are forgotten
        # first (facts about other subjects stay: reassigned names were forgotten at the head)
        again = _forget_subjects(_uncarry(self._join(end, *frame.continues)), _condition_subjects(node.test))
        _, f_again = self.cond(again, node.test) if (end or frame.continues) else (EMPTY, EMPTY)
        exit_state = self._join(_zero_pass(first_f, frame.body_mask), f_again)
        if first_f:
            self._note_zero_loop(node.body, any(self._reads_caller_data(n) for n in T.walk(node.test)
                                                if isinstance(n, T.Name)))
        self.branch_depth += 1
        exit_state = self.block(exit_state, node.orelse)
        self.branch_depth -= 1
        return self._join(exit_state, _uncarry(self._join(*frame.breaks)))

    def s_Break(self, state, node):
        if self.loops:
            self.loops[-1].breaks.append(state)
        return EMPTY

    def s_Continue(self, state, node):
        if self.loops:
            self.loops[-1].continues.append(state)
        return EMPTY

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
        name = _dotted(func)
        if name is None:
            return False
        return name in _SUPPRESSING_CMS or name.split(".")[-1] in self.module.suppressing_classes

    def _widen_by_body(self, state: tuple, body: list[T.stmt]) -> tuple:
        """The state at an arbitrary point of `body`: what it binds is possibly bound."""
        inner = self.module.bindings_of(body)
        mask = self.mask_of(inner.bound)
        dmask = self.mask_of(inner.deleted)
        state = self.invalidate_all(state, inner.bound | _attr_targets(body))
        return self._join([replace(p, bound=p.bound & ~dmask, maybe=p.maybe | mask) for p in state])

    def s_Try(self, state, node):
        catches_nameerror = any(_catches_nameerror(h) for h in node.handlers)
        if catches_nameerror:
            self.suppress_nameerror += 1
        entry = state
        end = self.block(state, node.body)
        if catches_nameerror:
            self.suppress_nameerror -= 1
        handler_entry = self._widen_by_body(entry, node.body)
        self.branch_depth += 1
        outs = [self.block(end, node.orelse)]
        for h in node.handlers:
            hs = self.expr(handler_entry, h.type)
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
            if case.guard is None and _irrefutable(case.pattern):
                rest = EMPTY
                break
        self.branch_depth -= 1
        return self._join(rest, *outs)

    def s_FunctionDef(self, state, node):
        for d in node.decorator_list:
            state = self.expr(state, d)
        for d in node.args.defaults + [d for d in node.args.kw_defaults if d is not None]:
            state = self.expr(state, d)
        for a in _all_args(node.args):
            self.annotation(a.annotation)
        self.annotation(node.returns)
        self._register_nested(node, self.info, f"{self.qualname}.{node.name}" if self.info.kind != "module" else node.name)
        return self.bind(state, node.name)

    s_AsyncFunctionDef = s_FunctionDef

    def s_ClassDef(self, state, node):
        for d in node.decorator_list:
            state = self.expr(state, d)
        for b in node.bases:
            state = self.expr(state, b)
        for kw in node.keywords:
            state = self.expr(state, kw.value)
        self._register_nested(node, self.info, f"{self.qualname}.{node.name}" if self.info.kind != "module" else node.name)
        return self.bind(state, node.name)

    def s_TypeAlias(self, state, node):
        return self.bind(state, node.name.id)

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
                        or self.info.dynamic):
                    continue
                if any(name in s for s in self.shadow):
                    continue
                self.report(sub, name, "undefined")


def test_lines(scope: T.AST) -> dict[str, list[int]]:
    """Subjects (`flag`, `x.mode`, `len(xs)`) of the conditions a scope's statements test (`if`,
    `while`, `assert`, and `a and b` as a whole statement or assigned value), with the sorted lines
    that test them. Statements only: tests inside expressions are rarer, and this runs per scope."""
    out: dict[str, set[int]] = {}

    def test(expr: T.expr) -> None:
        for part, subject in _condition_atoms(expr):
            out.setdefault(subject, set()).add(part.lineno)

    stack = list(getattr(scope, "body", ()))
    while stack:
        st = stack.pop()
        if isinstance(st, (T.FunctionDef, T.AsyncFunctionDef, T.ClassDef)):
            continue
        if isinstance(st, (T.If, T.While, T.Assert)):
            test(st.test)
        elif isinstance(st, (T.For, T.AsyncFor)):
            # entering a loop tests whether its data is empty (again on each pass of an outer loop)
            subject = _iter_subject(st.iter)
            if subject is not None:
                test(subject)
        elif isinstance(st, (T.Assign, T.Expr, T.Return)) and isinstance(st.value, T.BoolOp):
            test(st.value)
        elif isinstance(st, (T.Assign, T.Return)) and isinstance(st.value, T.IfExp):
            test(st.value.test)  # `unet = unet if train_unet else None`
        for attr in ("body", "orelse", "finalbody"):
            stack.extend(getattr(st, attr, ()))
        for h in getattr(st, "handlers", ()):
            stack.extend(h.body)
        for c in getattr(st, "cases", ()):
            stack.extend(c.body)
    return {k: sorted(v) for k, v in out.items()}


def _elif_chain(node: T.If) -> list[T.If]:
    chain = [node]
    while len(chain[-1].orelse) == 1 and isinstance(chain[-1].orelse[0], T.If):
        chain.append(chain[-1].orelse[0])
    return chain


def _test_subject(test: T.expr) -> Optional[str]:
    """The value a dispatch test looks at: `x` in `x == 1`, `x in (...)`, `isinstance(x, T)`."""
    if isinstance(test, T.Compare) and len(test.ops) == 1:
        if isinstance(test.ops[0], (T.Eq, T.Is)):
            return T.dump(test.left)
        # `x in ("a", "b")` dispatches over values; `x in self.lora_A` tests membership in a
        # container, and a chain of those is no exhaustive dispatch
        if (isinstance(test.ops[0], T.In) and isinstance(test.comparators[0], (T.Tuple, T.List, T.Set))
                and all(isinstance(e, T.Constant) for e in test.comparators[0].elts)):
            return T.dump(test.left)
    if (isinstance(test, T.Call) and isinstance(test.func, T.Name)
            and test.func.id in ("isinstance", "issubclass", "hasattr") and test.args):
        return T.dump(test.args[0])
    return None


def _value_dispatch_on_local(chain: list[T.If], closed: Optional[dict] = None) -> bool:
    """`if mode == "a": ... elif mode == "b": ...` over an argument or a local (or a value read from
    one): nothing upstream validated it, so a value no arm handles is a real case. Dispatch on the
    object's own configuration (`self.summary_type == ...`) or on types (`isinstance`) is taken to
    be checked where the object was built. Over an argument whose declaration lists its values
    (`Literal[...]`, a pytest parametrize list) the chain is exhaustive when it handles them all."""
    closed = closed or {}
    handled: set = set()
    subjects: set[str] = set()  # declared arguments the chain compares directly
    for link in chain:
        t = link.test
        if not (isinstance(t, T.Compare) and len(t.ops) == 1 and isinstance(t.ops[0], (T.Eq, T.In))):
            return False
        root = t.left
        while isinstance(root, (T.Attribute, T.Subscript)):
            root = root.value
        if not isinstance(root, T.Name) or root.id in ("self", "cls"):
            return False
        if root.id in closed:
            values = closed[root.id]
            if values is None or t.left is not root:
                return False  # values known only to the declaration, or a value derived from it
            subjects.add(root.id)
            right = t.comparators[0]
            items = right.elts if isinstance(t.ops[0], T.In) and isinstance(right, (T.Tuple, T.List, T.Set)) else [right]
            handled.update(literal_value(e) for e in items)
    # a declared value no arm handles is reachable; all handled: the chain is exhaustive
    return not subjects or not all(closed[n] <= handled for n in subjects)


def closed_params(func: T.AST, aliases: Optional[dict] = None) -> dict:
    """Parameters whose values the function's own declaration lists: annotated `Literal[...]`
    (directly or through a module-level alias), or named by a `parametrize("name", [...])`
    decorator (pytest, parameterized). name -> the literal values, or None when not all literal."""
    args = getattr(func, "args", None)
    if not isinstance(args, T.arguments):
        return {}
    aliases = aliases or {}
    out: dict = {}
    for a in list(args.posonlyargs) + list(args.args) + list(args.kwonlyargs):
        ann = a.annotation
        if _is_literal_type(ann):
            out[a.arg] = _literal_members(ann)
        elif isinstance(ann, T.Name) and ann.id in aliases:
            out[a.arg] = aliases[ann.id]
    for dec in getattr(func, "decorator_list", ()):
        if isinstance(dec, T.Call) and (_dotted(dec.func) or "").split(".")[-1] == "parametrize" and len(dec.args) >= 2:
            first = dec.args[0]
            names = [first] if isinstance(first, T.Constant) else getattr(first, "elts", [])
            argnames = [part.strip() for n in names if isinstance(n, T.Constant) and isinstance(n.value, str)
                        for part in n.value.split(",")]
            rows = getattr(dec.args[1], "elts", None)
            for k, argname in enumerate(argnames):
                values: Optional[set] = set() if rows is not None else None
                for row in rows or ():
                    item = row if len(argnames) == 1 else (row.elts[k] if isinstance(row, (T.Tuple, T.List))
                                                           and len(row.elts) == len(argnames) else None)
                    lit = literal_value(item) if item is not None else None
                    if lit is None or values is None:
                        values = None
                    else:
                        values.add(lit)
                out[argname] = frozenset(values) if values is not None else None
    return out


def _is_literal_type(node: Optional[T.AST]) -> bool:
    """`Literal[...]` (`typing.Literal`, `typing_extensions.Literal`)."""
    return isinstance(node, T.Subscript) and (_dotted(node.value) or "").split(".")[-1] == "Literal"


def _literal_members(ann: T.Subscript) -> Optional[frozenset]:
    """The values of `Literal["a", "b"]`, or None when one is not a plain literal."""
    items = ann.slice.elts if isinstance(ann.slice, T.Tuple) else [ann.slice]
    values = [literal_value(e) for e in items]
    return None if any(v is None for v in values) else frozenset(values)


def literal_aliases(tree: T.Module) -> dict:
    """Module-level `Mode = Literal["a", "b"]` aliases: name -> their values."""
    out: dict = {}
    for st in tree.body:
        target = st.targets[0] if isinstance(st, T.Assign) and len(st.targets) == 1 else getattr(st, "target", None)
        value = getattr(st, "value", None)
        if isinstance(target, T.Name) and _is_literal_type(value):
            out[target.id] = _literal_members(value)
    return out


def _test_subjects(test: T.expr) -> set[str]:
    if isinstance(test, T.BoolOp) and isinstance(test.op, T.Or):
        out: set[str] = set()
        for v in test.values:
            out |= _test_subjects(v)
        return out
    subj = _test_subject(test)
    return {subj} if subj is not None else set()


def _dispatch_subject(chain: list[T.If]) -> Optional[str]:
    """The value every test of an if/elif chain looks at, if there is one."""
    common = _test_subjects(chain[0].test)
    for link in chain[1:]:
        common &= _test_subjects(link.test)
    return min(common) if common else None


def _range_bound(it: T.expr) -> Optional[T.expr]:
    """`n` in `range(n)` / `range(0, n)` when n is a plain name or attribute."""
    if not (isinstance(it, T.Call) and isinstance(it.func, T.Name) and it.func.id == "range" and not it.keywords):
        return None
    args = it.args
    if len(args) == 2 and isinstance(args[0], T.Constant) and args[0].value == 0:
        args = args[1:]
    if len(args) == 1 and isinstance(args[0], (T.Name, T.Attribute)):
        return args[0]
    return None


_STRUCTURE_ROOTS = {"self", "config", "cls"}


def _model_structure(it: T.expr) -> bool:
    """Iterating over the object's own structure (`self.layers`, `range(config.num_layers)`):
    taken to be non-empty. Loops over arguments are not."""
    node = it
    while isinstance(node, T.Call) and isinstance(node.func, T.Name) and node.func.id in _WRAPPERS | {"range", "zip"} and node.args:
        node = node.args[-1] if node.func.id == "range" else node.args[0]
    if isinstance(node, T.Call) and isinstance(node.func, T.Name) and node.func.id == "len" and node.args:
        node = node.args[0]
    if isinstance(node, T.Call) and isinstance(node.func, T.Attribute) and node.func.attr in _VIEWS:
        node = node.func.value
    if isinstance(node, T.BinOp):
        return False
    root = node
    while isinstance(root, (T.Attribute, T.Subscript)):
        root = root.value
    return isinstance(root, T.Name) and root.id in _STRUCTURE_ROOTS and root is not node


def _first_reads(d: T.AST, inner: ScopeBindings) -> list[T.Name]:
    """Free-variable loads a nested function surely makes when it runs: in its leading plain
    statements, before anything could leave it or branch, outside conditional expressions,
    and before it binds the name itself (`nonlocal total; total = total + x`)."""
    own = (inner.bound | _param_names(d.args)) - inner.nonlocals - inner.globals
    out: list[T.Name] = []
    bound_here: set[str] = set()
    for st in d.body:
        if isinstance(st, (T.Nonlocal, T.Global, T.Pass)):
            continue
        if not isinstance(st, (T.Expr, T.Assign, T.AugAssign, T.AnnAssign, T.Return)):
            break
        if isinstance(st, T.Expr) and isinstance(st.value, T.Constant):
            continue  # docstring
        stack: list[T.AST] = [st]
        while stack:
            node = stack.pop()
            if isinstance(node, (T.IfExp, T.BoolOp, T.Lambda, T.ListComp, T.SetComp, T.DictComp,
                                 T.GeneratorExp, T.NamedExpr, T.Yield, T.YieldFrom, T.Await)):
                continue
            if isinstance(node, T.Name) and node.id not in own and node.id not in bound_here and (
                    isinstance(node.ctx, T.Load) or isinstance(st, T.AugAssign) and node is st.target):
                out.append(node)
            stack.extend(T.iter_child_nodes(node))
        if isinstance(st, (T.Assign, T.AugAssign, T.AnnAssign)):
            for t in _targets(st):
                bound_here.update(n.id for n in target_names(t))
        if isinstance(st, T.Return):
            break
    return out


def _nonempty_when(node: T.expr) -> Optional[tuple[list[str], bool]]:
    """For `any(<generator>)` / `all(<generator>)` whose generator binds names by walrus: those
    names, and the truth of the call that proves the generator ran at least once."""
    if not (isinstance(node, T.Call) and isinstance(node.func, T.Name) and node.func.id in ("any", "all")
            and len(node.args) == 1 and not node.keywords
            and isinstance(node.args[0], (T.GeneratorExp, T.ListComp, T.SetComp))):
        return None
    comp = node.args[0]
    # a walrus that some element may skip (a later `or` operand, an arm of a conditional
    # expression) proves nothing
    skippable: set[int] = set()
    for sub in T.walk(comp):
        if isinstance(sub, T.BoolOp) and isinstance(sub.op, T.Or):
            skippable.update(id(n) for v in sub.values[1:] for n in T.walk(v))
        elif isinstance(sub, T.IfExp):
            skippable.update(id(n) for v in (sub.body, sub.orelse) for n in T.walk(v))
    names = [n.target.id for n in T.walk(comp) if isinstance(n, T.NamedExpr) and isinstance(n.target, T.Name)
             and id(n) not in skippable]
    if not names:
        return None
    return names, node.func.id == "any"


def node_in(node: T.AST, body: list[T.stmt]) -> bool:
    """`node` lies within one of the statements of `body` (by position)."""
    return any(st.lineno <= node.lineno and (node.end_lineno or node.lineno) <= (st.end_lineno or st.lineno)
               for st in body)


def _if_guards(body: list[T.stmt], inner_locals: set[str]) -> dict[int, list[tuple[T.expr, bool]]]:
    """For each name read in a nested function's body, the `if` tests around it (with the arm it
    sits in) that read only the enclosing function's variables: at a direct call, those tests
    are decided by what the caller's paths assumed (`if real_out is not nil:` in the callee)."""
    out: dict[int, list[tuple[T.expr, bool]]] = {}
    # an explicit stack, not recursion: generated code nests deeper than Python's recursion limit
    stack: list[tuple[T.AST, list]] = [(st, []) for st in body]
    while stack:
        node, guards = stack.pop()
        if isinstance(node, T.Name):
            if guards:
                out[id(node)] = guards
            continue
        if isinstance(node, T.If):
            stack.append((node.test, guards))
            free = not any(isinstance(n, T.Name) and n.id in inner_locals for n in T.walk(node.test))
            for arm, truth in ((node.body, True), (node.orelse, False)):
                inner = guards + [(node.test, truth)] if free else guards
                stack.extend((st, inner) for st in arm)
            continue
        stack.extend((child, guards) for child in T.iter_child_nodes(node))
    return out


def _walk_body(body: list[T.stmt]):
    stack: list[T.AST] = list(body)
    while stack:
        node = stack.pop()
        yield node
        stack.extend(T.iter_child_nodes(node))


def _reads(expr: T.expr) -> set[str]:
    """Dotted values a test reads (`proj.merged`, `cache`), not the functions it calls."""
    out: set[str] = set()
    skip = {id(n.func) for n in T.walk(expr) if isinstance(n, T.Call)}
    # `proj.merged` reads `proj.merged`; counting `proj` too would tie every test of `proj`
    skip |= {id(n.value) for n in T.walk(expr) if isinstance(n, T.Attribute)}
    for n in T.walk(expr):
        if isinstance(n, (T.Name, T.Attribute)) and id(n) not in skip:
            text = _dotted(n)
            if text is not None and text not in ("self", "cls"):
                out.add(text)
    return out


def _condition_atoms(expr: T.expr):
    """(atom expression, subject) for each fact a condition establishes (through `and`, `or`, `not`)."""
    if isinstance(expr, T.BoolOp):
        for v in expr.values:
            yield from _condition_atoms(v)
        return
    if isinstance(expr, T.UnaryOp) and isinstance(expr.op, T.Not):
        yield from _condition_atoms(expr.operand)
        return
    a = atom(expr)
    if a is not None:
        yield expr, a[0][1]


def _condition_subjects(expr: T.expr) -> set[str]:
    """Subjects of the facts a condition establishes."""
    return {subject for _, subject in _condition_atoms(expr)}


def _forget_subjects(state: tuple, subjects: set[str]) -> tuple:
    if not subjects or not any(f[0][1] in subjects for p in state for f in p.facts):
        return state
    return join([p.with_facts(frozenset(f for f in p.facts if f[0][1] not in subjects)) for p in state])


_ITER_WRAPPERS = frozenset({"enumerate", "reversed", "sorted", "list", "tuple", "set", "zip", "iter", "filter"})
_NONE_LITERAL = ("const", "NoneType", None)


def _forget_new_facts(after: tuple, before: tuple, node: T.expr) -> tuple:
    """After `a or b` / `x if c else y` used as a value: the paths split on its operands rejoin.
    What they assumed there decides nothing later (no statement branched on it), and keeping it
    only multiplies paths until they are widened and the analysis goes quiet. A walrus inside
    is the exception: what it bound depends on those facts. For the same reason a test in it of
    a subject forgotten earlier (which makes a path imprecise) leaves no imprecision behind."""
    if any(isinstance(n, T.NamedExpr) for n in T.walk(node)):
        return after
    if any(p.imprecise for p in after) and not any(p.imprecise for p in before):
        after = join([replace(p, imprecise=False) for p in after])
    if len(after) < 2:
        return after
    known: set = set()
    for p in before:
        known |= p.facts
    if all(p.facts <= known for p in after):
        return after
    return join([p if p.facts <= known else p.with_facts(p.facts & known) for p in after])


def _reads_in_both_arms(branch: T.AST, name: str) -> bool:
    """A conditional expression whose both arms surely load `name` (not under a further test)."""
    if not isinstance(branch, T.IfExp):
        return False

    def surely_reads(expr: T.expr) -> bool:
        stack: list[T.AST] = [expr]
        while stack:
            n = stack.pop()
            if isinstance(n, T.Name) and n.id == name and isinstance(n.ctx, T.Load):
                return True
            if isinstance(n, (T.IfExp, T.BoolOp, T.Lambda, T.ListComp, T.SetComp, T.DictComp, T.GeneratorExp)):
                continue
            stack.extend(T.iter_child_nodes(n))
        return False

    return surely_reads(branch.body) and surely_reads(branch.orelse)


def _repetition(node: T.AST) -> Optional[tuple[T.expr, int]]:
    """`seq * n` or `n * seq` with a small literal count: (seq, n)."""
    if not (isinstance(node, T.BinOp) and isinstance(node.op, T.Mult)):
        return None
    for seq, count in ((node.left, node.right), (node.right, node.left)):
        if isinstance(count, T.Constant) and type(count.value) is int and 0 <= count.value <= 256:
            return seq, count.value
    return None


def _after_first_pass(p: Path) -> bool:
    """The path assumed `x == 0` false (`x` counting passes): it is not on the first pass."""
    return any(not truth and key[0] == "eq" and key[2] == ("const", "int", 0) for key, truth in p.facts)


def _first_pass_test(test: T.expr) -> bool:
    """`i == 0` (or `0 == i`) somewhere in the test: code meant for the first pass of a loop; or
    `i < n - 1` (`i != n - 1`): code for every pass but the last, so the first pass too when the
    loop runs more than once."""
    for n in T.walk(test):
        if not (isinstance(n, T.Compare) and len(n.ops) == 1):
            continue
        op, right = n.ops[0], n.comparators[0]
        if isinstance(op, T.Eq):
            for side in (n.left, right):
                if isinstance(side, T.Constant) and side.value == 0 and not isinstance(side.value, bool):
                    return True
        if (isinstance(op, (T.Lt, T.NotEq)) and isinstance(right, T.BinOp) and isinstance(right.op, T.Sub)
                and isinstance(right.right, T.Constant) and right.right.value == 1):
            return True
    return False


def _uncarry(state: tuple) -> tuple:
    """Leaving a loop: "unbound on the first pass only" becomes plain "maybe unbound", except on
    a path known not to be on the first pass (`i == 0` was false): the first pass bound it there
    (`for i, x in enumerate(xs): if i == 0: first = x` ... `return first`)."""
    if not any(p.carried for p in state):
        return state
    return join([p.bind(p.carried) if _after_first_pass(p) else replace(p, carried=0) for p in state])


def _zero_pass(state: tuple, body_mask: int) -> tuple:
    """The exit of a loop that ran zero times: what only its body binds is unbound "by loop"."""
    return join([replace(p, loopzero=p.loopzero | (body_mask & ~p.bound)) for p in state])


def _targets(stmt: T.stmt) -> list[T.expr]:
    if isinstance(stmt, T.Assign):
        return stmt.targets
    return [stmt.target]


def _attr_targets(body: list[T.stmt]) -> set[str]:
    out: set[str] = set()
    for node in T.walk(T.Module(None, None, list(body), [])):
        if isinstance(node, T.Attribute) and isinstance(node.ctx, T.Store):
            text = _dotted(node)
            if text is not None:
                out.add(text)
    return out


def optional_params(node: T.AST) -> frozenset[str]:
    """Parameters with a default value (`labels=None`, `output_attentions=False`)."""
    args = getattr(node, "args", None)
    if not isinstance(args, T.arguments):
        return frozenset()
    positional = list(args.posonlyargs) + list(args.args)
    with_default = positional[len(positional) - len(args.defaults):] if args.defaults else []
    out = {a.arg for a in with_default}
    out |= {a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None}
    return frozenset(out)


def param_literal_defaults(node: T.AST) -> dict[str, tuple]:
    """Parameters whose default is a literal (`use_dora=False`, `mode="sum"`), with its key."""
    args = getattr(node, "args", None)
    if not isinstance(args, T.arguments):
        return {}
    positional = list(args.posonlyargs) + list(args.args)
    pairs = list(zip(positional[len(positional) - len(args.defaults):], args.defaults)) if args.defaults else []
    pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
    out = {}
    for a, d in pairs:
        lit = literal_value(d)
        if lit is not None and lit[0] == "const":
            out[a.arg] = lit
    return out


def _all_args(args: T.arguments) -> list[T.arg]:
    out = list(args.posonlyargs) + list(args.args) + list(args.kwonlyargs)
    if args.vararg:
        out.append(args.vararg)
    if args.kwarg:
        out.append(args.kwarg)
    return out


def _param_names(args: T.arguments) -> set[str]:
    return {a.arg for a in _all_args(args)}


def _catches_nameerror(h: T.ExceptHandler) -> bool:
    if h.type is None:
        return False
    types = h.type.elts if isinstance(h.type, T.Tuple) else [h.type]
    for t in types:
        name = _dotted(t)
        if name is not None and name.split(".")[-1] in {"NameError", "UnboundLocalError"}:
            return True
    return False


def _irrefutable(p: T.pattern) -> bool:
    if isinstance(p, T.MatchAs):
        return p.pattern is None or _irrefutable(p.pattern)
    if isinstance(p, T.MatchOr):
        return any(_irrefutable(x) for x in p.patterns)
    return False


def _literal_nonempty(it: T.expr) -> Optional[bool]:
    if isinstance(it, (T.Tuple, T.List, T.Set)) and it.elts:
        return True if not any(isinstance(e, T.Starred) for e in it.elts) else None
    if isinstance(it, T.Dict) and it.keys and all(k is not None for k in it.keys):
        return True
    if isinstance(it, T.Constant) and isinstance(it.value, (str, bytes)) and it.value:
        return True
    if isinstance(it, T.Call) and isinstance(it.func, T.Name) and it.func.id == "range":
        args = it.args
        if len(args) == 1 and isinstance(args[0], T.Constant) and isinstance(args[0].value, int):
            return True if args[0].value > 0 else None
        if (len(args) == 2 and all(isinstance(a, T.Constant) and isinstance(a.value, int) for a in args)):
            return True if args[1].value > args[0].value else None
    return None


_WRAPPERS = {"enumerate", "reversed", "sorted", "list", "tuple", "iter", "set"}
_VIEWS = {"items", "keys", "values"}


def _iter_subject(it: T.expr) -> Optional[T.expr]:
    """The expression whose truthiness says whether iterating `it` yields anything."""
    if isinstance(it, (T.Name, T.Attribute)):
        return it
    if isinstance(it, T.Call) and not it.keywords:
        f = it.func
        if isinstance(f, T.Name) and f.id in _WRAPPERS and len(it.args) == 1:
            return _iter_subject(it.args[0])
        if isinstance(f, T.Name) and f.id == "zip" and it.args:
            return _iter_subject(it.args[0])
        if isinstance(f, T.Name) and f.id == "range" and len(it.args) == 1:
            inner = it.args[0]
            if isinstance(inner, T.Call) and isinstance(inner.func, T.Name) and inner.func.id == "len" and len(inner.args) == 1:
                return _iter_subject(inner.args[0])
        if isinstance(f, T.Attribute) and f.attr in _VIEWS and not it.args:
            return _iter_subject(f.value)
    return None


# --------------------------------------------------------------------------------------- driver


class _Sink:
    def __init__(self) -> None:
        self.uses: list[NameUse] = []
        self.pending: list[tuple[T.AST, _ScopeInfo, str]] = []
        self.seen: set[int] = set()
        self.unpacks: list[UnpackSite] = []

    def use(self, use: NameUse) -> None:
        key = id(use.node)
        if key in self.seen:
            return
        self.seen.add(key)
        self.uses.append(use)

    def nested(self, node: T.AST, parent: _ScopeInfo, qualname: str) -> None:
        self.pending.append((node, parent, qualname))


def analyze_module(tree: T.Module) -> ModuleFlow:
    """Run the flow analysis over every scope of `tree`."""
    module = _ModuleContext(tree)
    sink = _Sink()
    info = _ScopeInfo("module", tree, frozenset(module.bindings.bound), None, "<module>", dynamic=module.bindings.dynamic)
    runner = _Runner(module, info, module.bindings, sink)
    runner.block(runner.initial_state(), tree.body)
    functions: list[FunctionFlow] = []
    done: set[int] = set()
    while sink.pending:
        node, parent, qualname = sink.pending.pop(0)
        if id(node) in done:
            continue
        done.add(id(node))
        flow = _run_scope(module, node, parent, qualname, sink)
        if flow is not None:
            functions.append(flow)
    return ModuleFlow(tree=tree, uses=sink.uses, functions=functions, dynamic=module.dynamic, unpacks=sink.unpacks,
                      classes=module.classes, imports=module.imports, by_type=module.by_type)


def _run_scope(module: _ModuleContext, node: T.AST, parent: _ScopeInfo, qualname: str,
               sink: _Sink) -> Optional[FunctionFlow]:
    if isinstance(node, T.ClassDef):
        b = module.bindings_of(node.body)
        info = _ScopeInfo("class", node, frozenset(b.bound), parent, node.name, dynamic=b.dynamic or b.star_import)
        runner = _Runner(module, info, b, sink, qualname=qualname)
        state = runner.initial_state()
        runner.block(state, node.body)
        return None
    if isinstance(node, T.Lambda):
        b = collect_bindings([T.Expr(None, None, node.body)])
        params = _param_names(node.args)
        info = _ScopeInfo("function", node, frozenset(b.bound | params), parent, "<lambda>", dynamic=b.dynamic)
        runner = _Runner(module, info, b, sink, params=params, qualname=qualname)
        runner.expr(runner.initial_state(), node.body)
        return None
    b = module.bindings_of(node.body)
    params = _param_names(node.args)
    local_names = (b.bound | params) - b.globals - b.nonlocals
    info = _ScopeInfo("function", node, frozenset(local_names), parent, node.name,
                      dynamic=b.dynamic or b.star_import)
    runner = _Runner(module, info, b, sink, params=params, qualname=qualname)
    end = runner.block(runner.initial_state(), node.body)
    if runner.escaping_defs:
        runner.check_escaping_closures(end)
    flow = FunctionFlow(node=node, name=node.name, qualname=qualname, returns=runner.returns,
                        falls_off_end=bool(end), is_generator=b.yields, dynamic=info.dynamic,
                        locals=frozenset(local_names))
    if end:
        last = node.body[-1]
        flow.returns.append(ReturnRecord(None, None, None, None, True, last=last))
    return flow


def analyze_function_returns(func: T.FunctionDef | T.AsyncFunctionDef) -> tuple[list[ReturnSite], bool, bool]:
    """Return sites of one function, analysed on its own (module context: the function alone)."""
    tree = T.Module(None, None, [func], [])
    flow = analyze_module(tree)
    for f in flow.functions:
        if f.node is func:
            return [r.site() for r in f.returns], f.falls_off_end, f.is_generator
    return [], False, False
