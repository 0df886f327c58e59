"""Helpers that read the syntax tree and hold no analysis state: dotted names, assignment targets,
what a test reads, elif chains, statements that may leave a block, iterables known non-empty.
"""

from __future__ import annotations

from typing import Callable, Optional

from analyzer import tree as T
from analyzer.flow.names import ScopeBindings, target_names


# -------------------------------------------------------------------- names, targets and reads

def dotted_name(node: T.expr) -> Optional[str]:
    """`a.b.c` for a Name/Attribute chain, else None."""
    if isinstance(node, T.Name):
        return node.id
    if isinstance(node, T.Attribute):
        base = dotted_name(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def walk_body(body: list[T.stmt]):
    stack: list[T.AST] = list(body)
    while stack:
        node = stack.pop()
        yield node
        stack.extend(T.iter_child_nodes(node))


def inner_blocks(stmt: T.AST) -> list[list[T.stmt]]:
    """The statement lists a statement holds: its `body`, `orelse` and `finalbody`, and the body of
    each of its handlers and `case`s."""
    out = [b for b in (getattr(stmt, "body", None), getattr(stmt, "orelse", None), getattr(stmt, "finalbody", None))
           if isinstance(b, list)]
    out += [h.body for h in getattr(stmt, "handlers", ())]
    out += [c.body for c in getattr(stmt, "cases", ())]
    return out


def returns_under_tests(body: list[T.stmt], decides: Callable[[T.expr], bool]) -> set[int]:
    """The ids of the `return` statements of `body` (nested scopes excluded) that lie in either arm
    of an `if` whose test `decides` accepts. A loop over a stack rather than a nested recursive
    function: one that calls itself is a reference cycle, freed only by a garbage collection."""
    out: set[int] = set()
    stack: list[tuple[list[T.stmt], bool]] = [(body, False)]
    while stack:
        stmts, under = stack.pop()
        for st in stmts:
            if isinstance(st, T.Return):
                if under:
                    out.add(id(st))
            elif isinstance(st, T.If):
                inner = under or decides(st.test)
                stack.append((st.body, inner))
                stack.append((st.orelse, inner))
            elif not isinstance(st, (T.FunctionDef, T.AsyncFunctionDef, T.ClassDef)):
                stack.extend((block, under) for block in inner_blocks(st))
    return out


def node_in(node: T.AST, body: list[T.stmt]) -> bool:
    """`node` lies within one of the statements of `body` (by position)."""
    return any(st.lineno <= node.lineno and (node.end_lineno or node.lineno) <= (st.end_lineno or st.lineno)
               for st in body)


def assignment_targets(stmt: T.stmt) -> list[T.expr]:
    if isinstance(stmt, T.Assign):
        return stmt.targets
    return [stmt.target]


def attribute_targets(body: list[T.stmt]) -> set[str]:
    out: set[str] = set()
    for node in T.walk(T.Module(None, None, list(body), [])):
        if isinstance(node, T.Attribute) and isinstance(node.ctx, T.Store):
            text = dotted_name(node)
            if text is not None:
                out.add(text)
    return out


def all_args(args: T.arguments) -> list[T.arg]:
    out = list(args.posonlyargs) + list(args.args) + list(args.kwonlyargs)
    if args.vararg:
        out.append(args.vararg)
    if args.kwarg:
        out.append(args.kwarg)
    return out


def param_names(args: T.arguments) -> set[str]:
    return {a.arg for a in all_args(args)}


def values_read(expr: T.expr) -> set[str]:
    """Dotted values a test reads (`proj.merged`, `cache`), not the functions it calls."""
    out: set[str] = set()
    skip = {id(n.func) for n in T.walk(expr) if isinstance(n, T.Call)}
    # `proj.merged` reads `proj.merged`; counting `proj` too would tie every test of `proj`
    skip |= {id(n.value) for n in T.walk(expr) if isinstance(n, T.Attribute)}
    for n in T.walk(expr):
        if isinstance(n, (T.Name, T.Attribute)) and id(n) not in skip:
            text = dotted_name(n)
            if text is not None and text not in ("self", "cls"):
                out.add(text)
    return out


# -------------------------------------------------------------------------------- control flow

def may_exit(stmt: T.stmt) -> bool:
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


def bound_first(fn: T.AST) -> int:
    """1 for a `@classmethod` (its first parameter is the class, bound by the call), else 0: an
    autograd Function's classmethod forward or backward takes ctx second."""
    return int(any((dotted_name(d) or "").split(".")[-1] == "classmethod" for d in fn.decorator_list))


def ctx_param(fn: T.AST) -> Optional[str]:
    """The ctx parameter of an autograd Function's forward or backward: the first, or the second
    of a classmethod."""
    params = (list(fn.args.posonlyargs) + list(fn.args.args))[bound_first(fn):]
    return params[0].arg if params else None


def ends_every_path(body: list[T.stmt], ends: tuple = (T.Raise,)) -> bool:
    """Syntactic: every path through `body` ends in one of the statement kinds `ends` (`raise`,
    by default), read from its last statement through `if`/`else` arms and `with` blocks."""
    while body:
        last = body[-1]
        if isinstance(last, ends):
            return True
        if isinstance(last, T.If):
            if not ends_every_path(last.orelse, ends):
                return False
            body = last.body
        elif isinstance(last, (T.With, T.AsyncWith)):
            body = last.body
        else:
            return False
    return False


def elif_chain(node: T.If) -> list[T.If]:
    chain = [node]
    while len(chain[-1].orelse) == 1 and isinstance(chain[-1].orelse[0], T.If):
        chain.append(chain[-1].orelse[0])
    return chain


def handler_catches_nameerror(h: T.ExceptHandler) -> bool:
    if h.type is None:
        return False
    types = h.type.elts if isinstance(h.type, T.Tuple) else [h.type]
    for t in types:
        name = dotted_name(t)
        if name is not None and name.split(".")[-1] in {"NameError", "UnboundLocalError"}:
            return True
    return False


def irrefutable(p: T.pattern) -> bool:
    if isinstance(p, T.MatchAs):
        return p.pattern is None or irrefutable(p.pattern)
    if isinstance(p, T.MatchOr):
        return any(irrefutable(x) for x in p.patterns)
    return False


def reads_in_both_arms(branch: T.AST, name: str) -> bool:
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


def first_pass_test(test: T.expr) -> bool:
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


_SIMPLE = (T.Expr, T.Assign, T.AugAssign, T.AnnAssign, T.Pass, T.Assert, T.Import, T.ImportFrom)
_LEAVING = (T.Break, T.Continue, T.Return, T.Yield, T.YieldFrom)


def index_search(loop: T.AST) -> Optional[T.If]:
    """The `if i == k:` of `for i in range(...):` whose pass `i == k` surely runs: the test is the
    body's first compound statement (only simple statements before it), `k` is a literal in range
    or a value the loop does not rebind (`pi == state.local_process_index`: the index of this
    process among `num_processes` is a contract of the caller's, like any `k in range(n)`), and
    nothing outside the test's arm can end a pass early or the loop (`break`, `continue`,
    `return`, `yield`). `for pi in range(world): if pi == rank: load()` loads on every process,
    one after the other."""
    if not (isinstance(loop, T.For) and isinstance(loop.target, T.Name) and isinstance(loop.iter, T.Call)):
        return None
    it = loop.iter
    if not (isinstance(it.func, T.Name) and it.func.id == "range" and 1 <= len(it.args) <= 2 and not it.keywords
            and not any(isinstance(a, T.Starred) for a in it.args)):
        return None
    arm = next((st for st in loop.body if not isinstance(st, _SIMPLE)), None)
    if not isinstance(arm, T.If):
        return None
    test, index = arm.test, loop.target.id
    if not (isinstance(test, T.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], T.Eq)):
        return None
    sides = [test.left, test.comparators[0]]
    if not any(isinstance(side, T.Name) and side.id == index for side in sides):
        return None
    other = next(side for side in sides if not (isinstance(side, T.Name) and side.id == index))
    if isinstance(other, T.Constant):
        bounds = [a.value if isinstance(a, T.Constant) else None for a in it.args]
        if type(other.value) is not int or any(type(b) is int for b in bounds) and not _in_range(other.value, bounds):
            return None
    elif not isinstance(other, (T.Name, T.Attribute)) or dotted_name(other) is None:
        return None
    root = dotted_name(other).split(".")[0] if not isinstance(other, T.Constant) else index
    in_arm = {id(n) for n in walk_body(arm.body)}
    for node in walk_body(loop.body):
        if isinstance(node, _LEAVING) and id(node) not in in_arm:
            return None
        if isinstance(node, T.Name) and node.id in (root, index) and not isinstance(node.ctx, T.Load):
            return None  # the searched value (or the index) changes inside the loop
    return arm


def surely_bound(body: list[T.stmt]) -> set[str]:
    """The names the simple statements at the head of `body` bind (up to its first compound
    statement): every run of the block binds them."""
    out: set[str] = set()
    for st in body:
        if not isinstance(st, _SIMPLE):
            break
        if isinstance(st, (T.Import, T.ImportFrom)):
            out.update((a.asname or a.name.split(".")[0]) for a in st.names if a.name != "*")
        elif isinstance(st, (T.Assign, T.AugAssign)) or isinstance(st, T.AnnAssign) and st.value is not None:
            for target in assignment_targets(st):
                out.update(n.id for n in target_names(target))
    return out


def _in_range(k: int, bounds: list) -> bool:
    """Is `k` in `range(*bounds)`, for the bounds that are literals (None: unknown)?"""
    lo, hi = (0, bounds[0]) if len(bounds) == 1 else (bounds[0], bounds[1])
    return (lo is None or lo <= k) and (hi is None or k < hi)


# -------------------------------------------------------------------------------------- values

def repetition(node: T.AST) -> Optional[tuple[T.expr, int]]:
    """`seq * n` or `n * seq` with a small literal count: (seq, n)."""
    if not (isinstance(node, T.BinOp) and isinstance(node.op, T.Mult)):
        return None
    for seq, count in ((node.left, node.right), (node.right, node.left)):
        if isinstance(count, T.Constant) and type(count.value) is int and 0 <= count.value <= 256:
            return seq, count.value
    return None


def nonempty_when(node: T.expr) -> Optional[tuple[list[str], bool]]:
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


# ----------------------------------------------------------------------------------- iterables

# calls whose result iterates over their first argument: a loop over one reads that argument
ITER_WRAPPERS = frozenset({"enumerate", "reversed", "sorted", "list", "tuple", "set", "zip", "iter", "filter"})


# calls whose result is empty exactly when their one argument is
_WRAPPERS = {"enumerate", "reversed", "sorted", "list", "tuple", "iter", "set"}


_VIEWS = {"items", "keys", "values"}


_STRUCTURE_ROOTS = {"self", "config", "cls"}


def iter_subject(it: T.expr) -> Optional[T.expr]:
    """The expression whose truthiness says whether iterating `it` yields anything."""
    if isinstance(it, (T.Name, T.Attribute)):
        return it
    if isinstance(it, T.Call) and not it.keywords:
        f = it.func
        if isinstance(f, T.Name) and f.id in _WRAPPERS and len(it.args) == 1:
            return iter_subject(it.args[0])
        if isinstance(f, T.Name) and f.id == "zip" and it.args:
            return iter_subject(it.args[0])
        if isinstance(f, T.Name) and f.id == "range" and len(it.args) == 1:
            inner = it.args[0]
            if isinstance(inner, T.Call) and isinstance(inner.func, T.Name) and inner.func.id == "len" and len(inner.args) == 1:
                return iter_subject(inner.args[0])
        if isinstance(f, T.Attribute) and f.attr in _VIEWS and not it.args:
            return iter_subject(f.value)
    return None


def literal_nonempty(it: T.expr) -> Optional[bool]:
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


def range_bound(it: T.expr) -> Optional[T.expr]:
    """`n` in `range(n)` / `range(0, n)` when n is a plain name or attribute."""
    if not (isinstance(it, T.Call) and isinstance(it.func, T.Name) and it.func.id == "range" and not it.keywords):
        return None
    args = it.args
    if len(args) == 2 and isinstance(args[0], T.Constant) and args[0].value == 0:
        args = args[1:]
    if len(args) == 1 and isinstance(args[0], (T.Name, T.Attribute)):
        return args[0]
    return None


def model_structure(it: T.expr) -> bool:
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


# ---------------------------------------------------------------------------- nested functions

def leading_free_reads(d: T.AST, inner: ScopeBindings) -> list[T.Name]:
    """Free-variable loads a nested function surely makes when it runs: in its leading plain
    statements, before anything could leave it or branch, outside conditional expressions,
    and before it binds the name itself (`nonlocal total; total = total + x`)."""
    own = (inner.bound | param_names(d.args)) - inner.nonlocals - inner.globals
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
            for t in assignment_targets(st):
                bound_here.update(n.id for n in target_names(t))
        if isinstance(st, T.Return):
            break
    return out


def if_guards(body: list[T.stmt], inner_locals: set[str]) -> dict[int, list[tuple[T.expr, bool]]]:
    """For each name read in a nested function's body, the `if` tests around it (with the arm it
    sits in) that read only the enclosing function's variables: at a direct call, those tests
    are decided by what the caller's paths assumed (`if real_out is not nil:` in the callee)."""
    def pick(node: T.AST, truth: bool):
        if isinstance(node, T.If) and not _reads_any(node.test, inner_locals):
            return node.test, truth
        return None
    return tests_around(body, pick)


def own_tests(body: list[T.stmt], inner_locals: set[str]) -> dict[int, list[T.expr]]:
    """For each name read in a nested function's body, the `if` / `while` tests around it that
    read the function's own locals or parameters (`if i > local_rank:`): no caller decides them."""
    return tests_around(body, lambda node, truth: node.test if _reads_any(node.test, inner_locals) else None)


def tests_around(body: list[T.stmt], pick) -> dict[int, list]:
    """For each name read in `body`: what `pick(branch, truth)` gives for each `if` / `while` arm
    around it (None: that arm adds nothing)."""
    out: dict[int, list] = {}
    # an explicit stack, not recursion: generated code nests deeper than Python's recursion limit
    stack: list[tuple[T.AST, list]] = [(st, []) for st in body]
    while stack:
        node, items = stack.pop()
        if isinstance(node, T.Name):
            if items:
                out[id(node)] = items
            continue
        if isinstance(node, (T.If, T.While)):
            stack.append((node.test, items))
            for arm, truth in ((node.body, True), (node.orelse, False)):
                item = pick(node, truth)
                inner = items + [item] if item is not None else items
                stack.extend((st, inner) for st in arm)
            continue
        stack.extend((child, items) for child in T.iter_child_nodes(node))
    return out


def _reads_any(expr: T.expr, names: set[str]) -> bool:
    return any(isinstance(n, T.Name) and n.id in names for n in T.walk(expr))

