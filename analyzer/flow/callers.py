"""What the callers of a function pass it, when every caller is in view.

A function whose every use is a direct call in the same file gets, for each parameter:
- the literal values those calls pass (or leave at a literal default): a closed set, as if
  declared `Literal[...]` (`closed_by_callers`);
- the conditions every call site has already decided about the argument it passes, mapped onto
  the parameter (`guarded_by_callers`): a call made under `if mode in ("lora", "oft"):`, after
  `if split not in SPLITS: raise ...`, or after `assert cfg.kind != "none"`, tells the callee
  `mode in ("lora", "oft")`, `split in SPLITS`, `cfg.kind != "none"` on entry. Only facts all
  call sites share are kept, and only while the caller does not rebind what the condition read
  between the test and the call.

Every use is in view for a module-level function the module keeps private (`_name`, no
decorator, not named in any of the module's strings, as `__all__` or `getattr` would), for a
function nested in another one, and for a private method (`_name`, no decorator) that the
module only ever calls as `self._name(...)` from its own class. Other methods are not (a
subclass or any holder of the object may call them). `functools.partial(f, k=v)` counts as a
call that passes `k` (the other parameters stay open). A use that is not a call (the function
passed on, stored, returned), a call with `*` or `**` arguments, or one argument that is not a
literal leaves the parameter (or the function) open. Callers out of view can only make these
facts too strong, which silences a finding rather than raising one.
"""

from __future__ import annotations

import re
from typing import Callable, Iterable, Optional

from analyzer import tree as T
from analyzer.flow.arg_values import ArgValues, keeps_calls, launch_target, ParamRef
from analyzer.flow.conditions import atom, literal_value, subject_text
from analyzer.flow.names import all_binding_lines
from analyzer.flow.state import Fact, FactKey
from analyzer.flow.syntax import inner_blocks

__all__ = ["HANDED_ON", "attribute_stores", "calls_in_view", "closed_by_callers", "decided_atoms", "functions_in_view",
           "guarded_by_callers"]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DEFS = (T.FunctionDef, T.AsyncFunctionDef)
_PARTIAL = frozenset({"partial", "functools.partial"})
# fact kinds a caller's test can hand on: they compare the subject with literals only
HANDED_ON = frozenset({"eq", "in", "truthy"})


class _Site:
    """One call of an in-view function: the call, the arguments by parameter, and whether it is a
    `partial` (parameters it does not give stay open)."""

    __slots__ = ("call", "given", "partial")

    def __init__(self, call: T.Call, given: dict, partial: bool) -> None:
        self.call, self.given, self.partial = call, given, partial


def closed_by_callers(in_view: dict, values: ArgValues,
                      outer: Callable[[T.AST], dict[str, frozenset]]) -> dict[int, dict[str, frozenset]]:
    """id(def) -> parameter -> the literal values every call passes it (`in_view`: what
    `functions_in_view` gives for the module). An argument counts by what it can hold where the
    call runs (`arg_values`); a caller's own parameter passed on holds what the caller's callers
    pass it: in view, or `outer(caller)` (what the run's calls pass a top-level function)."""
    out: dict[int, dict[str, frozenset]] = {}
    busy: set[int] = set()

    def closed(func: T.AST) -> dict[str, frozenset]:
        key = id(func)
        if key in out or key in busy:
            return out.get(key, {})  # a cycle of callers: open
        sites = in_view.get(func)
        if sites is None:
            return outer(func)
        busy.add(key)
        found = _param_values(func, sites, values, closed)
        busy.discard(key)
        out[key] = found
        return found

    for func in in_view:
        closed(func)
    return {k: v for k, v in out.items() if v}


def calls_in_view(tree: T.Module, in_view: dict) -> dict[int, tuple[list, T.AST]]:
    """id(call) -> (the tests that hold where it runs, the scope it runs in), for the calls of the
    functions `in_view`: computed once, for `guarded_by_callers` and the scopes `closed_by_callers`
    reads the arguments in."""
    if not in_view:
        return {}
    return _guards_at(tree, {id(s.call) for sites in in_view.values() for s in sites})


def guarded_by_callers(in_view: dict, guards: dict[int, tuple[list, T.AST]]) -> dict[int, list[tuple[FactKey, frozenset, bool]]]:
    """id(def) -> (key, names, truth) facts about its parameters that hold at every call
    (`in_view`: what `functions_in_view` gives for the module; `guards`: `calls_in_view`)."""
    scopes: dict[int, tuple[dict, list]] = {}
    out: dict[int, list[tuple[FactKey, frozenset, bool]]] = {}
    for func, sites in in_view.items():
        common: Optional[dict] = None
        for site in sites:
            facts = _site_facts(site, guards.get(id(site.call), ()), scopes)
            common = facts if common is None else {f: n for f, n in common.items() if f in facts}
            if not common:
                break
        if common:
            out[id(func)] = [(f.key, names, f.truth) for f, names in common.items()]
    return out


# ---------------------------------------------------------------- which functions have every use in view


def functions_in_view(tree: T.Module, by_type: dict[type, list[T.AST]],
                      module_words: Callable[[], frozenset[str]], values: ArgValues) -> dict[T.AST, list[_Site]]:
    """Each function whose every use is a call in view, with those calls (never empty); computed
    once per module for `closed_by_callers` and `guarded_by_callers`. `by_type`: the module's
    nodes by exact type, in walk order; `module_words`: its `string_words`; `values`: its
    `ArgValues` (how many arguments a `*name` spreads)."""
    out: dict[T.AST, list[_Site]] = {}
    private = [st for st in tree.body if isinstance(st, _DEFS) and _private(st)]
    words: Optional[frozenset] = None
    if private:
        words = module_words()
        candidates = [d for d in private if d.name not in words]
        if candidates:
            out.update(_sites_in(tree, candidates, values, by_type))
    nested, classes = _nested_and_classes(tree)
    for scope, defs in nested:
        defs = [d for d in defs if keeps_calls(d)]
        if defs:
            out.update(_sites_in(scope, defs, values))
    uses: Optional[tuple] = None
    for cls in classes:
        methods = [st for st in cls.body if isinstance(st, _DEFS) and _private(st)]
        if methods:
            words = module_words() if words is None else words
            methods = [m for m in methods if m.name not in words]
            if methods:
                uses = _member_uses(by_type) if uses is None else uses
                out.update(_method_sites(uses, cls, methods, values))
    return out


def _nested_and_classes(tree: T.Module) -> tuple[list, list]:
    """(each function with the defs its body holds, not inside a class or another def), and
    every class. Defs and classes are statements, so only statement lists are walked."""
    nested: dict[int, tuple] = {}
    classes = []
    stack: list[tuple[T.AST, Optional[T.AST]]] = [(st, None) for st in tree.body]
    while stack:
        st, owner = stack.pop()
        inner = owner
        if isinstance(st, _DEFS):
            if owner is not None:
                nested.setdefault(id(owner), (owner, []))[1].append(st)
            inner = st
        elif isinstance(st, T.ClassDef):
            classes.append(st)
            inner = None
        for block in inner_blocks(st):
            stack.extend((c, inner) for c in block)
    return list(nested.values()), classes


def _member_uses(by_type: dict[type, list[T.AST]]) -> tuple[dict, set]:
    """Attribute nodes by attribute name, and the identifiers read or bound as names."""
    attrs: dict[str, list] = {}
    for node in by_type.get(T.Attribute, ()):
        attrs.setdefault(node.attr, []).append(node)
    return attrs, {node.id for node in by_type.get(T.Name, ())}


def _private(d: T.AST) -> bool:
    return d.name.startswith("_") and not d.name.startswith("__") and keeps_calls(d)


def string_words(by_type: dict[type, list[T.AST]]) -> frozenset[str]:
    """Every identifier-like word inside a string constant of a module (`by_type`: its nodes by
    exact type): a name spelled there may be looked up by that string."""
    words: set[str] = set()
    for node in by_type.get(T.Constant, ()):
        if isinstance(node.value, str):
            words.update(_IDENTIFIER.findall(node.value))
    return frozenset(words)


def _is_partial(call: T.Call) -> bool:
    f = call.func
    text = f.id if isinstance(f, T.Name) else subject_text(f) if isinstance(f, T.Attribute) else None
    return text in _PARTIAL and bool(call.args)


def _sites_in(scope: T.AST, defs: Iterable[T.AST], values: ArgValues,
              by_type: Optional[dict[type, list[T.AST]]] = None) -> dict[T.AST, list[_Site]]:
    """For the `defs` whose every use inside `scope` is a direct call (or the function of a
    `partial`, or a Triton launch `f[grid](...)`): those calls. `by_type`: the nodes of `scope`
    by exact type, when known."""
    by_name: dict[str, list[T.AST]] = {}
    for d in defs:
        by_name.setdefault(d.name, []).append(d)
    calls: dict[str, list[tuple[T.Call, bool, bool]]] = {name: [] for name in by_name}
    open_names: set[str] = {name for name, ds in by_name.items() if len(ds) > 1}
    call_funcs: set[int] = set()
    if by_type is None:
        nodes = list(T.walk(scope))
        by_type = {}
        for node in nodes:
            by_type.setdefault(type(node), []).append(node)
    for node in by_type.get(T.Call, ()):
        kernel = launch_target(node.func)
        if isinstance(node.func, T.Name) and node.func.id in calls:
            calls[node.func.id].append((node, False, False))
            call_funcs.add(id(node.func))
        elif isinstance(kernel, T.Name) and kernel.id in calls:
            calls[kernel.id].append((node, False, True))
            call_funcs.add(id(kernel))
        elif _is_partial(node) and isinstance(node.args[0], T.Name) and node.args[0].id in calls:
            calls[node.args[0].id].append((node, True, False))
            call_funcs.add(id(node.args[0]))
    for node in by_type.get(T.Name, ()):
        if node.id in by_name and id(node) not in call_funcs:
            open_names.add(node.id)  # passed on, stored, rebound or deleted
    for kind in (T.ImportFrom, T.Import):
        for node in by_type.get(kind, ()):
            open_names.update(a.asname or a.name for a in node.names)
    for kind in (T.Global, T.Nonlocal):
        for node in by_type.get(kind, ()):
            open_names.update(node.names)
    for kind in (*_DEFS, T.ClassDef):
        for node in by_type.get(kind, ()):
            if node.name in by_name and all(node is not d for d in by_name[node.name]):
                open_names.add(node.name)
    out: dict[T.AST, list[_Site]] = {}
    for name, ds in by_name.items():
        if name in open_names or not calls[name]:
            continue
        sites = [_site(ds[0], call, partial, False, values, launch) for call, partial, launch in calls[name]]
        if all(s is not None for s in sites):
            out[ds[0]] = sites
    return out


def _method_sites(uses: tuple, cls: T.ClassDef, methods: list[T.AST], values: ArgValues) -> dict[T.AST, list[_Site]]:
    """For the private `methods` of `cls` that the module uses only as `self._m(...)` inside the
    class's own methods: those calls."""
    attrs, names = uses
    by_name: dict[str, list[T.AST]] = {}
    for m in methods:
        by_name.setdefault(m.name, []).append(m)
    inside: set[int] = set()
    calls: dict[str, list[T.Call]] = {name: [] for name in by_name}
    for item in cls.body:
        if not isinstance(item, _DEFS):
            continue
        for node in T.walk(item):
            if (isinstance(node, T.Call) and isinstance(node.func, T.Attribute) and node.func.attr in calls
                    and isinstance(node.func.value, T.Name) and node.func.value.id == "self"):
                calls[node.func.attr].append(node)
                inside.add(id(node.func))
    out: dict[T.AST, list[_Site]] = {}
    for name, ms in by_name.items():
        # another object's method, passed on, called from outside, or a name of that spelling
        if len(ms) > 1 or not calls[name] or name in names or any(id(a) not in inside for a in attrs.get(name, ())):
            continue
        sites = [_site(ms[0], call, False, True, values) for call in calls[name]]
        if all(s is not None for s in sites):
            out[ms[0]] = sites
    return out


def _site(func: T.AST, call: T.Call, partial: bool, skip_self: bool, values: ArgValues,
          launch: bool = False) -> Optional[_Site]:
    """The call's arguments by parameter name, or None when they cannot be matched (a `**`
    argument, a `*` argument of unknown length, or a call that fails: too many arguments, an
    unknown keyword). A `*strides` of known length fills that many parameters with what it holds
    (unknown); a Triton launch's keywords that are not parameters are its launch options."""
    args = func.args
    positional = list(args.posonlyargs) + list(args.args)
    if skip_self:
        positional = positional[1:]
    by_keyword = {a.arg for a in list(args.args) + list(args.kwonlyargs)}
    passed = call.args[1:] if partial else call.args
    if any(k.arg is None for k in call.keywords):
        return None
    if any(isinstance(a, T.Starred) for a in passed):
        spread: list[T.expr] = []
        for a in passed:
            n = values.star_length(a.value, values.scope_of(call, walk=True)) if isinstance(a, T.Starred) else 1
            if n is None:
                return None
            spread += [a] * n
        passed = spread
    given: dict[str, T.expr] = {}
    for i, a in enumerate(passed):
        if i < len(positional):
            given[positional[i].arg] = a
        elif args.vararg is None:
            return None
    for k in call.keywords:
        if k.arg in by_keyword:
            given[k.arg] = k.value
        elif args.kwarg is None and not launch:
            return None
    return _Site(call, given, partial)


# ---------------------------------------------------------------- literal values


def _param_values(func: T.AST, sites: list[_Site], arg_values: ArgValues,
                  closed: Callable[[T.AST], dict[str, frozenset]]) -> dict[str, frozenset]:
    args = func.args
    positional = list(args.posonlyargs) + list(args.args)
    defaults = dict(zip([a.arg for a in positional[len(positional) - len(args.defaults):]], args.defaults))
    defaults.update({a.arg: d for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None})
    names = [a.arg for a in positional + list(args.kwonlyargs)]
    values: dict[str, Optional[set]] = {n: set() for n in names}
    for site in sites:
        scope = None
        for n in names:
            if values[n] is None:
                continue
            expr = site.given.get(n)
            if expr is None and not site.partial:
                expr = defaults.get(n)
            if expr is None:
                values[n] = None
                continue
            lit = literal_value(expr)
            if lit is not None:
                values[n].add(lit)
                continue
            scope = arg_values.scope_of(site.call) if scope is None else scope
            held = arg_values.value(expr, scope)
            if isinstance(held, ParamRef):
                held = closed(scope).get(held.name)
            values[n] = None if held is None else values[n] | held
    return {n: frozenset(v) for n, v in values.items() if v}


# ---------------------------------------------------------------- conditions decided at the call


def _guards_at(tree: T.Module, wanted: set[int]) -> dict[int, tuple[list, T.AST]]:
    """For each wanted call: the tests (test, truth, statement) that hold where it runs, and the
    scope it runs in (the statement, not its line: a line costs code generation, asked only for
    a test that says something about an argument). A test holds in the `if` or `while` arm around the call, after an `if` whose arm
    always leaves the block (`if x not in S: raise ...`), and after an `assert`."""
    out: dict[int, tuple[list, T.AST]] = {}
    # an explicit stack, not recursion: generated code nests deeper than Python's recursion limit
    stack: list[tuple[list, list, T.AST]] = [(tree.body, [], tree)]
    while stack:
        body, guards, scope = stack.pop()
        guards = list(guards)
        for st in body:
            if isinstance(st, (*_DEFS, T.ClassDef)):
                for e in _header_exprs(st):  # decorators and defaults run where the def is
                    _calls_in(e, guards, scope, wanted, out)
                stack.append((st.body, [], st))
                continue
            if isinstance(st, T.If):
                _calls_in(st.test, guards, scope, wanted, out)
                stack.append((st.body, guards + [(st.test, True, st)], scope))
                stack.append((st.orelse, guards + [(st.test, False, st)], scope))
                body_leaves, else_leaves = _leaves(st.body), _leaves(st.orelse)
                if body_leaves and not else_leaves:
                    guards.append((st.test, False, st))
                elif else_leaves and not body_leaves:
                    guards.append((st.test, True, st))
                continue
            if isinstance(st, T.Assert):
                _calls_in(st.test, guards, scope, wanted, out)
                guards.append((st.test, True, st))
                continue
            inner = guards + [(st.test, True, st)] if isinstance(st, T.While) else guards
            for child in T.iter_child_nodes(st):
                if isinstance(child, T.expr):
                    _calls_in(child, guards, scope, wanted, out)
            stack.append((getattr(st, "body", None) or [], inner, scope))
            for attr in ("orelse", "finalbody"):
                stack.append((getattr(st, attr, None) or [], guards, scope))
            for h in getattr(st, "handlers", ()):
                stack.append((h.body, guards, scope))
            for c in getattr(st, "cases", ()):
                stack.append((c.body, guards, scope))
    return out


def _header_exprs(st: T.AST) -> list:
    out = list(st.decorator_list)
    if isinstance(st, _DEFS):
        out += st.args.defaults + [d for d in st.args.kw_defaults if d is not None]
    return out


def _leaves(body: list) -> bool:
    """Does the block always leave (its last statement raises, returns, breaks or continues)?"""
    return bool(body) and isinstance(body[-1], (T.Raise, T.Return, T.Break, T.Continue))


def _calls_in(expr: T.expr, guards: list, scope: T.AST, wanted: set[int], out: dict) -> None:
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, T.Lambda):
            continue  # runs later, when the tests may no longer hold
        if isinstance(node, T.Call) and id(node) in wanted:
            out[id(node)] = (guards, scope)
        stack.extend(T.iter_child_nodes(node))


def _site_facts(site: _Site, found, cache: dict) -> dict:
    """Fact -> names, for what the tests around one call say about the arguments it passes,
    written in the callee's parameter names."""
    if not found or not found[0]:
        return {}
    guards, scope = found
    targets = {}
    for param, expr in site.given.items():
        text = subject_text(expr) if isinstance(expr, (T.Name, T.Attribute)) else None
        if text is not None and "(" not in text:
            targets[param] = text
    if not targets:
        return {}
    out = {}
    for test, truth, st in guards:
        for a, holds in decided_atoms(test, truth):
            subject = a.key.subject
            if a.key.kind not in HANDED_ON or "(" in subject or "[" in subject:
                continue
            params = [p for p, text in targets.items() if subject == text or subject.startswith(text + ".")]
            if not params:
                continue
            if id(scope) not in cache:
                cache[id(scope)] = (all_binding_lines(scope), attribute_stores(scope))
            if _rebound(subject, st.lineno, *cache[id(scope)]):
                continue
            for param in params:
                text = targets[param]
                names = frozenset(param + n[len(text):] for n in a.names if n == text or n.startswith(text + "."))
                key = FactKey(a.key.kind, param + subject[len(text):], a.key.value)
                out[Fact(key, holds)] = names | {param}
    return out


def decided_atoms(test: T.expr, truth: bool) -> list:
    """(atom, whether its key holds) for each condition that `test` having `truth` decides."""
    if isinstance(test, T.UnaryOp) and isinstance(test.op, T.Not):
        return decided_atoms(test.operand, not truth)
    if isinstance(test, T.BoolOp):
        if isinstance(test.op, T.And) == truth:  # `a and b` true, `a or b` false: each part
            return [x for v in test.values for x in decided_atoms(v, truth)]
        return []
    a = atom(test)
    return [] if a is None else [(a, a.polarity == truth)]


def attribute_stores(scope: T.AST) -> list[tuple[str, int]]:
    """(text, line) of each attribute assignment or deletion in the scope's own body."""
    out = []
    stack = list(getattr(scope, "body", ()))
    while stack:
        node = stack.pop()
        if isinstance(node, (*_DEFS, T.ClassDef, T.Lambda)):
            continue
        if isinstance(node, T.Attribute) and not isinstance(node.ctx, T.Load):
            text = subject_text(node)
            if text is not None:
                out.append((text, node.lineno))
        stack.extend(T.iter_child_nodes(node))
    return out


def _rebound(subject: str, line: int, bindings: dict, stores: list) -> bool:
    """Might the caller change what `subject` is after the test at `line`?"""
    if any(b > line for b in bindings.get(subject.split(".")[0], ())):
        return True
    return any(at > line and (subject == text or subject.startswith(text + ".")) for text, at in stores)
