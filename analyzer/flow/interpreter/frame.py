"""One scope's interpretation state and the operations on its path sets.

The interpreter is a stack of classes, one file each, every layer calling only what is defined
in itself or below it:

    Frame -> Verdicts -> ReturnShapes -> Closures -> Loops -> Expressions -> Statements -> Runner

`Frame` owns every attribute (only its constructor sets them): the bit index of the scope's
names, the loop stack, the branch depth, the sink the verdicts go to. It binds and unbinds
names on every path of a state and splits a state on a branch condition.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional

from analyzer import tree as T
from analyzer.flow.conditions import assume, class_key, subject_text
from analyzer.flow.context import ModuleContext, ScopeInfo
from analyzer.flow.scope_facts import ScopeFacts
from analyzer.flow.names import NodeLines, prefix_bound, ScopeBindings
from analyzer.flow.results import NameUse, ReturnRecord, UnpackSite, UseKind
from analyzer.flow.shapes import Shape
from analyzer.flow.state import Fact, FactKey, join, Literal, NONE_LITERAL, Path
from analyzer.flow.syntax import attribute_targets, dotted_name, iter_subject, walk_body


# finding kinds reported once per name and scope (see Frame.report)
_ONE_PER_NAME = frozenset({UseKind.MAYBE, UseKind.MAYBE_ARGUMENT, UseKind.MAYBE_GUARDED, UseKind.MAYBE_LOOP,
                           UseKind.MAYBE_LOOP_LOCAL, UseKind.CLOSURE_EXIT, UseKind.MAYBE_GLOBAL})


@dataclass
class LoopFrame:
    """One loop being run: what its body binds, and the states that leave a pass by `break` or
    `continue`."""

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


class Sink:
    """Where the scopes of one module send their verdicts, their unpack sites and the nested scopes
    still to run; a load is reported once, by the first scope that judges it."""

    def __init__(self) -> None:
        self.uses: list[NameUse] = []
        self.pending: list[tuple[T.AST, ScopeInfo, str]] = []
        self.seen: set[int] = set()
        self.unpacks: list[UnpackSite] = []
        # (scope node, read node, name): reads left quiet because the path budget forgot an
        # assumption their verdict needed; the driver re-runs them on the name's slice
        self.budget_silenced: list[tuple[T.AST, T.AST, str]] = []
        # a scratch run on a slice records only the reads it was asked about (node ids)
        self.only: Optional[set[int]] = None
        # the module's Enum classes: name -> their members' values (see `module_enums`)
        self.enums: Optional[dict[str, frozenset]] = None

    def use(self, use: NameUse) -> None:
        key = id(use.node)
        if key in self.seen:
            return
        self.seen.add(key)
        self.uses.append(use)

    def nested(self, node: T.AST, parent: ScopeInfo, qualname: str) -> None:
        self.pending.append((node, parent, qualname))


class Frame:
    """A scope being interpreted: its names, its paths, and where verdicts go."""

    def __init__(self, module: ModuleContext, info: ScopeInfo, bindings: ScopeBindings,
                 sink: "Sink", params: Iterable[str] = (), qualname: str = "",
                 facts: Optional[ScopeFacts] = None) -> None:
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
                        and name not in module.builtins and not module.dynamic):
                    self.private_globals.add(name)
                    self.index[name] = 1 << len(self.index)
        self.param_mask = 0
        for p in params:
            if p in self.index:
                self.param_mask |= self.index[p]
        # fact key -> the dotted names it reads: rebinding one of them forgets the fact
        self.fact_names: dict[FactKey, frozenset[str]] = {}
        self.loops: list[LoopFrame] = []
        self.branch_depth = 0
        self.suppress_nameerror = 0
        self.shadow: list[set[str]] = []  # comprehension targets currently in scope
        self.returns: list[ReturnRecord] = []
        self.reported: set[int] = set()
        self.gaps: set[tuple[str, UseKind]] = set()
        # what the scope's syntax says, each fact computed on first use
        # the syntax facts of the scope (shared by the runs over slices of one function)
        self.facts = facts if facts is not None else ScopeFacts(info.node, module)
        self.local_defs: dict[str, T.AST] = {}
        self.escaping_nonlocals: set[str] = set()
        # nested functions that outlive the call (returned, registered as hooks, decorated), with
        # the loads through which they escape; and the states at this function's returns
        self.escaping_defs: dict[str, tuple[T.AST, list[T.Name]]] = {}
        self.exits: list[tuple[T.Return, tuple]] = []
        self.optional_params = self.facts.optional_params
        self.closed_params = self._with_enum_params(self.facts.closed_params)
        self.param_defaults = self.facts.param_defaults
        # > 0 while a loop body is run only to learn its back edge: nothing is reported or recorded
        self.dry = 0
        self.params = self.facts.params
        # name -> whether the last loop that may skip binding it iterates the caller's data
        self.zero_loop_caller: dict[str, bool] = {}
        self.at: T.AST = info.node  # the statement being run
        self._loop_subjects: Optional[frozenset[str]] = None  # see `loop_subjects`
        self._prefix_bound: Optional[dict[str, frozenset[str]]] = None  # see `prefix_bound`
        self._prepare_nested_defs()

    def loop_subjects(self) -> frozenset[str]:
        """What the scope's `for` loops iterate (`items` in `for x in enumerate(items)`), computed once
        and without positions."""
        if self._loop_subjects is None:
            out = set()
            body = getattr(self.info.node, "body", [])
            stack = list(body) if isinstance(body, list) else []  # a lambda's body is one expression
            while stack:
                st = stack.pop()
                if isinstance(st, (T.FunctionDef, T.AsyncFunctionDef, T.ClassDef)):
                    continue
                if isinstance(st, (T.For, T.AsyncFor)):
                    subject = iter_subject(st.iter)
                    text = subject_text(subject) if subject is not None else None
                    if text is not None:
                        out.add(text)
                for attr in ("body", "orelse", "finalbody"):
                    stack.extend(getattr(st, attr, ()))
                for part in [*getattr(st, "handlers", ()), *getattr(st, "cases", ())]:
                    stack.extend(part.body)
            self._loop_subjects = frozenset(out)
        return self._loop_subjects

    def prefix_bound(self) -> dict[str, frozenset[str]]:
        """Name -> the names surely bound wherever it is (`names.prefix_bound`), computed once."""
        if self._prefix_bound is None:
            # an argument is bound before any statement; `exec` may bind anything anywhere
            found = {} if self.info.dynamic else prefix_bound(self.info.node)
            self._prefix_bound = {name: names for name, names in found.items() if name not in self.params}
        return self._prefix_bound

    def _annotated_params(self) -> list[T.arg]:
        args = getattr(self.info.node, "args", None) if self.info.kind == "function" else None
        if not isinstance(args, T.arguments):
            return []
        return [a for a in list(args.posonlyargs) + list(args.args) + list(args.kwonlyargs) if a.annotation is not None]

    def _with_enum_params(self, closed: dict) -> dict:
        """`closed` plus the parameters annotated with an Enum class of this module (`mode: Mode`):
        their values are its members."""
        annotated = self._annotated_params()
        if not annotated:
            return closed
        if self.sink.enums is None:
            self.sink.enums = module_enums(self.module.tree)
        extra = {a.arg: self.sink.enums[a.annotation.id] for a in annotated
                 if isinstance(a.annotation, T.Name) and a.annotation.id in self.sink.enums and a.arg not in closed}
        return {**closed, **extra} if extra else closed

    def closed_values(self, name: str) -> Optional[frozenset]:
        """The values an argument the function never rebinds can take, as its declaration lists
        them: `Literal[...]` (or an alias of one), an Enum of this module, a parametrize list, or
        the classes of a union (`x: Foo | Bar`, `Union[Foo, Bar]`; `None` among them counts)."""
        if name not in self.params or self.binding_lines(name):
            return None
        values = self.closed_params.get(name)
        if values is not None:
            return values
        for a in self._annotated_params():
            if a.arg == name:
                return union_classes(a.annotation)
        return None

    def report(self, node: T.AST, name: str, kind: UseKind, other_line: int = 0, certain: bool = False,
               detail: str = "", trace: Optional[Callable[[], tuple]] = None) -> None:
        """Record a verdict; `trace` (called only when it is recorded) gives its witness path."""
        if self.dry:
            return
        if kind in _ONE_PER_NAME:
            # the second read of a name missing on the same kind of paths is the same gap: one
            # binding fixes both, so it is reported once, at its first read
            if (name, kind) in self.gaps:
                return
            self.gaps.add((name, kind))
        if self.sink.only is not None and id(node) not in self.sink.only:
            return
        self.sink.use(NameUse(node, name, kind, self.qualname, other_line, certain, self.info.node, detail,
                              trace() if trace is not None and id(node) not in self.sink.seen else ()))

    def _register_nested(self, node: T.AST, parent: "ScopeInfo", qualname: str) -> None:
        if not self.dry:
            self.sink.nested(node, parent, qualname)

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

    def _test_subjects(self) -> NodeLines:
        return self.facts.test_lines()

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
        expr = T.expr
        while stack:
            node = stack.pop()
            # exact types (node classes are never subclassed): this walk sees every statement of the
            # body (a def is a statement; a lambda inside an expression is no nested def)
            kind = type(node)
            if kind is T.FunctionDef or kind is T.AsyncFunctionDef:
                if node.name in defs:
                    redefined.add(node.name)
                defs.setdefault(node.name, node)
                continue
            if kind is T.ClassDef or kind is T.Lambda:
                continue
            if (kind is T.Assign and len(node.targets) == 1 and isinstance(node.targets[0], T.Name)
                    and isinstance(node.value, T.Lambda)):
                # `scale = lambda: alpha / denom`, called later like a nested function
                lambdas.setdefault(node.targets[0].id, []).append(node.value)
            stack.extend(c for c in T.iter_child_nodes(node) if not isinstance(c, expr))
        for lname, found in lambdas.items():
            if len(found) == 1 and lname not in defs and len(self.binding_lines(lname)) == 1:
                defs[lname] = found[0]
                lambda_names.add(lname)
        if not defs:
            return
        escaping: set[str] = set()
        callee_ids: set[int] = set()
        loads: list[T.Name] = []
        for node in walk_body(body):
            kind = type(node)
            if kind is T.Call:
                if isinstance(node.func, T.Name):
                    callee_ids.add(id(node.func))
            elif kind is T.Name and node.id in defs and isinstance(node.ctx, T.Load):
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
        facts = []
        for key, names, truth in self.facts.entry_facts() if self.info.kind == "function" else ():
            self.fact_names[key] = names
            facts.append(Fact(key, truth))
        return (Path(self.param_mask, self.param_mask, frozenset(facts)),)

    def mask_of(self, names: Iterable[str]) -> int:
        m = 0
        for n in names:
            m |= self.index.get(n, 0)
        return m

    def bind(self, state: tuple, name: str, shape: Optional[Shape] = None) -> tuple:
        mask = self.index.get(name, 0)
        killed = self._killed(state, (name,))
        out = []
        for p in state:
            if killed:
                p = _drop(p, killed)
            if mask:
                p = p.bind(mask)
                p = self._set_shape(p, mask, shape)
            out.append(p)
        return self._join(out)

    def unbind(self, state: tuple, name: str) -> tuple:
        mask = self.index.get(name, 0)
        if not mask:
            return state
        killed = self._killed(state, (name,))
        return self._join([_drop(p, killed).unbind(mask) for p in state])

    def _set_shape(self, p: Path, mask: int, shape: Optional[Shape]) -> Path:
        if not p.shapes and shape is None:
            return p
        rest = tuple(item for item in p.shapes if item[0] != mask)
        if shape is not None:
            rest = rest + ((mask, shape),)
        return p.with_shapes(rest) if rest != p.shapes else p

    def _killed(self, state: tuple, names: Iterable[str]) -> frozenset:
        """The keys of the facts in `state` that read one of `names` or an attribute of one (a
        fact on `x.mode` dies when `x` is rebound): looked up once per state, not once per path."""
        keys = {f.key for p in state for f in p.facts}
        if not keys:
            return frozenset()
        names = frozenset(names)
        get = self.fact_names.get
        return frozenset(k for k in keys if any(_reads(n, names) for n in get(k, ())))

    def _invalidate(self, p: Path, name: str) -> Path:
        return _drop(p, self._killed((p,), (name,)))

    def invalidate_all(self, state: tuple, names: Iterable[str]) -> tuple:
        names = list(names)
        if not names:
            return state
        killed = self._killed(state, names)
        return self._join([_drop(p, killed) for p in state])

    def binding_lines(self, name: str) -> list[int]:
        return self.facts.binding_lines(name)

    def _parent_map(self) -> dict:
        return self.facts.parent_map()

    def nest_parent(self) -> ScopeInfo:
        """The parent scope for a nested function: comprehension variables in scope count."""
        if not self.shadow:
            return self.info
        names = frozenset().union(*self.shadow)
        return ScopeInfo("function", self.info.node, names, self.info, "<comprehension>")

    def _split(self, state: tuple, node: T.expr) -> tuple[tuple, tuple]:
        a = self.facts.atom_of(node)
        if a is None:
            return state, state
        key, names, polarity = a
        self.fact_names[key] = names
        t_paths, f_paths = [], []
        for p in state:
            if p.dropped and key.subject in p.dropped and not p.imprecise:
                p = p._replace(imprecise=True)
            pt = assume(p, key, polarity)
            pf = assume(p, key, not polarity)
            if pt is not None:
                t_paths.append(pt)
            if pf is not None:
                f_paths.append(pf)
        return self._join(t_paths), self._join(f_paths)

    def _with_fact(self, state: tuple, key: FactKey, truth: bool) -> tuple:
        """`state` with a fact that an assignment just made true (kept as is where it cannot hold)."""
        out = []
        for p in state:
            q = assume(p, key, truth)
            out.append(q if q is not None else p)
        return self._join(out)

    def _keep_facts(self, p: Path, names: set[str]) -> Path:
        keep = frozenset(f for f in p.facts if self.fact_names.get(f.key, frozenset()) & names)
        return p if keep == p.facts else p.with_facts(keep)

    def _widen_by_body(self, state: tuple, body: list[T.stmt]) -> tuple:
        """The state at an arbitrary point of `body`: what it binds is possibly bound."""
        inner = self.module.bindings_of(body)
        mask = self.mask_of(inner.bound)
        dmask = self.mask_of(inner.deleted)
        state = self.invalidate_all(state, inner.bound | attribute_targets(body))
        return self._join([p._replace(bound=p.bound & ~dmask, maybe=p.maybe | mask) for p in state])


def _reads(dotted: str, names: frozenset) -> bool:
    """Whether the dotted name `dotted` is one of `names` or an attribute path below one."""
    if dotted in names:
        return True
    cut = dotted.find(".")
    while cut >= 0:
        if dotted[:cut] in names:
            return True
        cut = dotted.find(".", cut + 1)
    return False


def _drop(p: Path, killed: frozenset) -> Path:
    """`p` without the facts whose keys are in `killed`."""
    if not killed or not p.facts:
        return p
    keep = frozenset(f for f in p.facts if f.key not in killed)
    return p if len(keep) == len(p.facts) else p.with_facts(keep)


# ------------------------------------------------------------------------- closed types in annotations

# Enum bases whose members are the only values (a Flag's members combine into others)
_ENUM_BASES = frozenset({"Enum", "IntEnum", "StrEnum", "ReprEnum"})


def module_enums(tree: T.Module) -> dict[str, frozenset]:
    """The module's top-level Enum classes (`class Mode(Enum)`, or `(str, Enum)`), name -> the
    values of their members (`Mode.TRAIN`, as `conditions.literal_value` reads a case or test)."""
    out: dict[str, frozenset] = {}
    for st in tree.body:
        if not isinstance(st, T.ClassDef):
            continue
        bases = {(dotted_name(b) or "").split(".")[-1] for b in st.bases}
        if not (bases & _ENUM_BASES or bases & out.keys()) or st.keywords:
            continue
        members = set()
        for item in st.body:
            target = item.targets[0] if isinstance(item, T.Assign) and len(item.targets) == 1 else (
                item.target if isinstance(item, T.AnnAssign) and item.value is not None else None)
            if isinstance(target, T.Name) and not target.id.startswith("_"):
                members.add(Literal("name", f"{st.name}.{target.id}", None))
        inherited = [out[b] for b in bases & out.keys()]
        if inherited and any(inherited):
            continue  # an Enum with members cannot be subclassed
        out[st.name] = frozenset(members)
    return {name: values for name, values in out.items() if values}


def union_classes(ann: Optional[T.expr]) -> Optional[frozenset]:
    """`Foo | Bar`, `Union[Foo, Bar]`, `Optional[Foo]`: the classes (and None) a value can be."""
    if isinstance(ann, T.BinOp) and isinstance(ann.op, T.BitOr):
        left, right = union_classes(ann.left), union_classes(ann.right)
        return None if left is None or right is None else left | right
    if isinstance(ann, T.Subscript) and (dotted_name(ann.value) or "").split(".")[-1] in ("Union", "Optional"):
        items = ann.slice.elts if isinstance(ann.slice, T.Tuple) else [ann.slice]
        out: set = {NONE_LITERAL} if (dotted_name(ann.value) or "").endswith("Optional") else set()
        for item in items:
            part = union_classes(item)
            if part is None:
                return None
            out |= part
        return frozenset(out)
    if isinstance(ann, T.Constant) and ann.value is None:
        return frozenset({NONE_LITERAL})
    name = dotted_name(ann) if isinstance(ann, (T.Name, T.Attribute)) else None
    return None if name is None else frozenset({class_key(name)})
