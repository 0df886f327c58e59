"""What a call tells its caller once it has returned: the values the function can give back, and
the conditions on its arguments that it has checked.

Two summaries of a function's body, read where it is called (in its own module, or in another
module of the run through the project index):
- `returns`: every `return` gives a literal (or a conditional expression between two), so
  `kind = _kind_of(cfg)` holds one of those values and an `if kind == ...` / `elif` chain that
  handles them all is complete. A `return` of anything else, or a `yield`, leaves it open; an end
  the body may fall off adds `None`.
- `ensures`: a validator (`def check_mode(mode): if mode not in MODES: raise ValueError(...)`)
  returns only when its checks passed, so after `check_mode(args.mode)` the caller's
  `args.mode in MODES` holds. The checks are the body's leading `if test: raise ...` and `assert
  test` statements, read up to the first statement that may return, on parameters the function
  never rebinds (nor assigns an attribute of). Only comparisons with literals and truthiness are
  handed on, as for the callers' own tests (`callers.guarded_by_callers`).

A decorated function is skipped (the decorator may change what a call does), except for caches
(`functools.cache`, `lru_cache`), which return what the function returned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from analyzer import tree as T
from analyzer.flow.argparse_facts import option_choices
from analyzer.flow.callers import attribute_stores, decided_atoms, HANDED_ON
from analyzer.flow.conditions import Atom, atom, literal_value, subject_text
from analyzer.flow.names import all_binding_lines, NodeLines, collect_bindings
from analyzer.flow.signature import annotated_class, bind_arguments, Signature, signature_of
from analyzer.flow.state import FactKey, Literal
from analyzer.flow.syntax import bound_first, ctx_param, dotted_name, elif_chain, ends_every_path

__all__ = ["names_in", "backward_entry_facts", "init_entry_facts", "CallFacts", "call_facts", "facts_after_call", "facts_digest", "module_call_facts",
           "ModuleCallFacts", "RunFacts"]

_CACHES = frozenset({"cache", "lru_cache", "functools.cache", "functools.lru_cache"})
_NONE = Literal("const", "NoneType", None)
# scopes whose `return` and `yield` are not the function's own
_OTHER_SCOPES = (T.FunctionDef, T.AsyncFunctionDef, T.ClassDef, T.Lambda)


@dataclass(frozen=True)
class CallFacts:
    """A function's summary for its callers: how a call's arguments reach its parameters
    (`signature`), the literals it returns, and what it `ensures`: (parameter, key, names, truth),
    the key, written in the parameter's name, holding with that truth whenever the function
    returns; `names` are what it reads."""

    signature: Signature
    returns: Optional[frozenset] = None
    ensures: tuple = ()
    # (attribute, values) the returned object holds: the options of `return parser.parse_args()`
    # (`argparse_facts.option_choices`)
    fields: tuple = ()


@dataclass(frozen=True)
class RunFacts:
    """What the other modules of the run tell one module: what calls of their functions tell it
    (`calls`, by the name it calls them: `check_mode`, `utils.check_mode`), and for its own
    top-level functions the literals every call in the run passes each parameter (`callers`:
    function -> parameter -> values; see `run_sites`)."""

    calls: dict
    callers: dict
    # class, by the name this module writes it -> attribute -> the literals it is declared to take
    fields: dict = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.calls or self.callers or self.fields)

    def used_by(self, names: Optional[frozenset[str]]) -> "RunFacts":
        """Only the facts about `names` (what `names_in` found around a module's findings; None:
        every fact): a fact about a call or a function that no flagged scope involves cannot
        change a finding, since the second pass changes only the findings of the scopes it runs."""
        if names is None:
            return self
        return RunFacts({k: v for k, v in self.calls.items() if k in names},
                        {k: v for k, v in self.callers.items() if k in names},
                        {k: v for k, v in self.fields.items() if k in names})


def names_in(stmts: list[T.stmt], classes: list[T.ClassDef]) -> frozenset[str]:
    """Every name a run fact about `stmts` can be keyed by: the functions they call (as written:
    `check`, `utils.check`), the functions they define, the classes that annotate their
    parameters, and the bases of the module's `classes` (a local class may take the declared
    fields of a base from another module)."""
    out: set[str] = set()
    for st in stmts:
        for node in T.walk(st):
            kind = type(node)
            if kind is T.Call:
                name = dotted_name(node.func)
                if name is not None:
                    out.add(name)
            elif kind is T.FunctionDef or kind is T.AsyncFunctionDef:
                out.add(node.name)
                args = node.args
                for a in list(args.posonlyargs) + list(args.args) + list(args.kwonlyargs):
                    cls = annotated_class(a.annotation)
                    if cls is not None:
                        out.add(cls)
    for cls in classes:
        out.update(name for name in map(dotted_name, cls.bases) if name is not None)
    return frozenset(out)


def call_facts(func: T.AST) -> Optional[CallFacts]:
    """The summary of a plain function, or None when a call of it tells the caller nothing."""
    if not isinstance(func, T.FunctionDef) or not all(_cache(d) for d in func.decorator_list):
        return None
    ensures = _ensures(func)
    fields = _parsed_options(func)
    if fields:
        return CallFacts(signature_of(func), None, tuple(ensures), fields)
    # without checks, the first `return` of something else settles it: no need to look further
    returns = _literal_returns(func, stop_early=not ensures)
    if returns is _GENERATOR or (returns is None and not ensures):
        return None
    return CallFacts(signature_of(func), returns, tuple(ensures))


def _parsed_options(func: T.FunctionDef) -> tuple:
    """(option, values) of what `func` returns when it ends `return parser.parse_args(...)` (or
    binds that to a local it returns next) and that one `return` is its only one."""
    body = func.body
    if not body or not isinstance(body[-1], T.Return) or body[-1].value is None:
        return ()
    value = body[-1].value
    if isinstance(value, T.Name) and len(body) > 1 and isinstance(body[-2], T.Assign) \
            and len(body[-2].targets) == 1 and isinstance(body[-2].targets[0], T.Name) \
            and body[-2].targets[0].id == value.id:
        value = body[-2].value
    if not (isinstance(value, T.Call) and isinstance(value.func, T.Attribute) and value.func.attr == "parse_args"
            and isinstance(value.func.value, T.Name)):
        return ()
    if sum(isinstance(n, T.Return) for n in _own_nodes(body)) != 1:
        return ()
    return tuple(sorted(option_choices(func).get(value.func.value.id, {}).items()))


class ModuleCallFacts:
    """The summaries of a module's own functions, each computed when a call first asks for it:
    a top-level `def` the module binds nowhere else (not by another statement, nor `global`)."""

    def __init__(self, tree: T.Module, global_decls: dict) -> None:
        self.tree = tree
        self.global_decls = global_decls
        self.defs = {st.name: st for st in tree.body if isinstance(st, T.FunctionDef)}
        self._found: dict[str, Optional[CallFacts]] = {}
        self._bindings: Optional[NodeLines] = None

    def get(self, name: str) -> Optional[CallFacts]:
        if name not in self.defs:
            return None
        if name not in self._found:
            self._found[name] = call_facts(self.defs[name]) if self.bound_once(name) else None
        return self._found[name]

    def bound_once(self, name: str) -> bool:
        """Does one module-level statement bind `name`, and no `global` declaration rebind it?"""
        if self._bindings is None:
            self._bindings = all_binding_lines(self.tree)
        return self._bindings.once(name) and name not in self.global_decls


def module_call_facts(tree: T.Module, global_names: set) -> dict[str, CallFacts]:
    """The summary of every top-level function the module binds once, for the calls other
    modules of the run make (`ModuleCallFacts` is the lazy form for the module's own calls)."""
    found = {st.name: call_facts(st) for st in tree.body if isinstance(st, T.FunctionDef)}
    found = {name: facts for name, facts in found.items() if facts is not None and name not in global_names}
    if found:
        bindings = all_binding_lines(tree)
        found = {name: facts for name, facts in found.items() if bindings.once(name)}
    return found


def facts_digest(facts: RunFacts) -> str:
    """A text that is the same for equal summaries in any process (a frozenset's order, and so its
    repr, depends on the process's string hashing): for cache keys."""
    def stable(value) -> str:
        if isinstance(value, (frozenset, set)):
            return "{" + ",".join(sorted(stable(v) for v in value)) + "}"
        if isinstance(value, tuple):
            return "(" + ",".join(stable(v) for v in value) + ")"
        return repr(value)

    parts = []
    for name in sorted(facts.calls):
        f = facts.calls[name]
        sig = f.signature
        parts.append(stable((name, sig.positional, sig.keyword, sig.star, sig.double_star, sig.defaults, f.returns,
                             f.ensures, f.fields)))
    for table in (facts.callers, facts.fields):
        for name in sorted(table):
            parts.append(stable((name, tuple(sorted((p, stable(v)) for p, v in table[name].items())))))
        parts.append("|")
    return ";".join(parts)


def facts_after_call(facts: CallFacts, call: T.Call) -> list[tuple[FactKey, frozenset, bool]]:
    """(key, names, truth) for what `facts.ensures` says about the arguments of `call`, written in
    the caller's expressions. An argument that is not a name or an attribute chain, or a call
    that cannot be matched to the parameters (`*`, `**`, too many arguments), says nothing."""
    if not facts.ensures:
        return []
    unpacked = any(isinstance(a, T.Starred) for a in call.args) or any(k.arg is None for k in call.keywords)
    given = None if unpacked else bind_arguments(facts.signature, call.args, ((k.arg, k.value) for k in call.keywords))
    out = []
    for param, key, names, truth in facts.ensures if given is not None else ():
        expr = given.get(param)
        text = subject_text(expr) if isinstance(expr, (T.Name, T.Attribute)) else None
        if text is None or "(" in text:
            continue
        subject = text + key.subject[len(param):]
        moved = frozenset(text + n[len(param):] for n in names)
        out.append((FactKey(key.kind, subject, key.value), moved | {text.split(".")[0]}, truth))
    return out


def _cache(decorator: T.expr) -> bool:
    target = decorator.func if isinstance(decorator, T.Call) else decorator
    return dotted_name(target) in _CACHES


_GENERATOR = frozenset({"generator"})  # a marker: the body yields, so a call returns a generator


def _own_nodes(stmts: list):
    """The nodes of `stmts` outside the scopes nested in them."""
    stack = list(stmts)
    while stack:
        node = stack.pop()
        yield node
        stack.extend(c for c in T.iter_child_nodes(node) if not isinstance(c, _OTHER_SCOPES))


def _literal_returns(func: T.AST, stop_early: bool) -> Optional[frozenset]:
    """The literals every `return` gives (None when one gives something else or none returns),
    `_GENERATOR` for a generator. `stop_early`: give None at the first other `return`, without
    looking for a `yield` further on."""
    values: Optional[set] = set()
    found = False
    for node in _own_nodes(func.body):
        if isinstance(node, (T.Yield, T.YieldFrom, T.Await)):
            return _GENERATOR
        if not isinstance(node, T.Return):
            continue
        found = True
        if values is None:
            continue
        given = _literals(node.value)
        if given is None and stop_early:
            return None
        values = None if given is None else values | given
    if not found or values is None:
        return None
    if not ends_every_path(func.body, (T.Return, T.Raise)):
        values.add(_NONE)
    return frozenset(values)


def _literals(value: Optional[T.expr]) -> Optional[set]:
    if value is None:
        return {_NONE}
    if isinstance(value, T.IfExp):
        body, orelse = _literals(value.body), _literals(value.orelse)
        return None if body is None or orelse is None else body | orelse
    lit = literal_value(value)
    return None if lit is None else {lit}


def _ensures(func: T.AST) -> list:
    """(parameter, key, names, truth) for each check the body's leading statements make on a
    parameter before anything may return."""
    args = func.args
    params = {a.arg for a in list(args.posonlyargs) + list(args.args) + list(args.kwonlyargs)}
    out: list = []
    rebound: Optional[tuple] = None
    for st in func.body:
        for a, holds in _checks(st):
            root = a.key.subject.split(".")[0]
            if (a.key.kind not in HANDED_ON or root not in params or "(" in a.key.subject
                    or "[" in a.key.subject or not all(n.split(".")[0] == root for n in a.names)):
                continue
            if rebound is None:
                bindings, stores = all_binding_lines(func), attribute_stores(func)
                rebound = (bindings, {text.split(".")[0] for text, _ in stores})
            if root in rebound[0] or root in rebound[1]:
                continue
            out.append((root, a.key, a.names, holds))
        if _may_return(st):
            break
    return out


def backward_entry_facts(cls: T.ClassDef) -> tuple[Optional[T.AST], list]:
    """(backward, its (key, names, truth) entry facts) for an autograd Function whose forward saves
    a checked value on ctx: `assert checkpoint_lvl in [0, 1, 2]` ... `ctx.checkpoint_lvl =
    checkpoint_lvl` in forward tells backward `ctx.checkpoint_lvl in {0, 1, 2}` (PyTorch hands
    backward the ctx forward filled). Read from forward's head (`_head_attribute_facts`); an
    attribute forward stores more than once carries nothing."""
    methods = {st.name: st for st in cls.body if isinstance(st, T.FunctionDef)}
    forward, backward = methods.get("forward"), methods.get("backward")
    if (forward is None or backward is None or "setup_context" in methods
            or not any((dotted_name(b) or "").split(".")[-1] == "Function" for b in cls.bases)):
        return None, []
    fctx, bctx = ctx_param(forward), ctx_param(backward)
    if fctx is None or bctx is None:
        return None, []
    stores: dict[str, int] = {}
    for text, _ in attribute_stores(forward):
        stores[text] = stores.get(text, 0) + 1
    held = _head_attribute_facts(forward.body, fctx, on_attributes=False)
    return backward, _renamed({text: facts for text, facts in held.items() if stores.get(text) == 1}, fctx, bctx)


def init_entry_facts(cls: T.ClassDef) -> dict[int, list]:
    """id(method) -> the (key, names, truth) entry facts about `self` attributes that `__init__`
    established: `if self.num_ln == 1: ... elif self.num_ln == 2: ... else: raise` (or an
    `assert`, an `if test: raise`, or a checked argument stored as `self.mode = mode`) tells every
    other method `self.num_ln in {1, 2}`. Read from `__init__`'s head (`_head_attribute_facts`);
    a store of the attribute in any other method of the class forgets it. That nothing outside
    the class rebinds the attribute is the contract this relies on, as the analysis does for any
    attribute fact."""
    methods = [st for st in cls.body if isinstance(st, (T.FunctionDef, T.AsyncFunctionDef))]
    inits = [m for m in methods if m.name == "__init__"]
    if len(inits) != 1 or bound_first(inits[0]):
        return {}
    init = inits[0]
    me = ctx_param(init)
    if me is None:
        return {}
    facts = _head_attribute_facts(init.body, me, on_attributes=True)
    others = [m for m in methods if m is not init]
    for m in others:
        if not facts:
            return {}  # (most classes: nothing checked, so no method body need be read)
        own = ctx_param(m) or me
        for text in _stored_attributes(m.body, own):
            facts.pop(me + text[len(own):], None)
    if not facts:
        return {}
    ordered = dict(sorted(facts.items()))
    return {id(m): _renamed(ordered, me, ctx_param(m)) for m in others
            if not bound_first(m) and ctx_param(m) is not None and not any(_names_static(d) for d in m.decorator_list)}


def _head_attribute_facts(body: list[T.stmt], me: str, on_attributes: bool) -> dict[str, list]:
    """`me.attr` -> the (key, holds) checks that hold of it after `body`'s head, the statements up
    to the first that may return: an `assert` or `if test: raise` checks a local, a rebinding of
    the local forgets its checks, and `me.attr = local` (or a literal) carries them over; a store
    of the attribute anywhere in a later statement forgets what was carried. `on_attributes`:
    checks of `me.attr` itself count too, and so does a dispatch on it that ends `else: raise`."""
    known: dict[str, list] = {}  # local -> (key, holds) checked and not rebound since
    facts: dict[str, list] = {}  # "me.attr" -> (key, holds) established and not stored since
    for st in body:
        for a, holds in _checks(st) + (_chain_checks(st) if on_attributes else []):
            subject = a.key.subject
            if a.key.kind not in HANDED_ON:
                continue
            if subject.isidentifier() and a.names == frozenset({subject}):
                known.setdefault(subject, []).append((a.key, holds))
            elif on_attributes and subject.startswith(me + ".") and subject[len(me) + 1:].isidentifier() \
                    and a.names <= frozenset({me, subject}):
                facts.setdefault(subject, []).append((a.key, holds))
        for text in _stored_attributes([st], me):
            facts.pop(text, None)
        if isinstance(st, T.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], T.Attribute):
            target = st.targets[0]
            text = f"{me}.{target.attr}"
            if isinstance(target.value, T.Name) and target.value.id == me:
                lit = literal_value(st.value)
                if lit is not None:
                    facts[text] = [(FactKey("eq", text, lit), True)]
                elif isinstance(st.value, T.Name) and st.value.id in known:
                    facts[text] = [(FactKey(k.kind, text, k.value), holds) for k, holds in known[st.value.id]]
        elif not isinstance(st, (T.Assert, T.Expr)):
            for name in collect_bindings([st]).bound:
                known.pop(name, None)
        if _may_return(st):
            break
    return facts


def _renamed(facts: dict[str, list], me: str, own: str) -> list:
    """The (key, names, truth) entry facts of `facts` about `me.attr`, written `own.attr`."""
    out = []
    for text, held in facts.items():
        attr = own + text[len(me):]
        out += [(FactKey(k.kind, attr, k.value), frozenset({own, attr}), holds) for k, holds in held]
    return out


def _names_static(decorator: T.expr) -> bool:
    return (dotted_name(decorator) or "").split(".")[-1] == "staticmethod"


def _stored_attributes(body: list[T.stmt], me: str) -> set[str]:
    """`me.attr` for each attribute of `me` that `body` assigns or deletes (nested defs too: a
    closure may store it when called)."""
    out = set()
    for st in body:
        for node in T.walk(st):
            if type(node) is T.Attribute and not isinstance(node.ctx, T.Load) and type(node.value) is T.Name \
                    and node.value.id == me:
                out.add(f"{me}.{node.attr}")
    return out


def _chain_checks(st: T.stmt) -> list:
    """`if x == 1: ... elif x == 2: ... else: raise`: (atom of `x in {1, 2}`, True), when every
    arm tests one subject for values and the final `else` raises."""
    if not isinstance(st, T.If):
        return []
    chain = elif_chain(st)
    last = chain[-1].orelse
    if not last or not ends_every_path(last) or len(chain) < 2:
        return []
    values: set = set()
    subject, names = None, frozenset()
    for link in chain:
        a = atom(link.test)
        if a is None or not a.polarity or a.key.kind not in ("eq", "in"):
            return []
        if subject is not None and a.key.subject != subject:
            return []
        subject, names = a.key.subject, names | a.names
        if a.key.kind == "eq":
            values.add(a.key.value)
        else:
            values |= a.key.value
    return [(Atom(FactKey("in", subject, frozenset(values)), names, True), True)]


def _checks(st: T.stmt) -> list:
    """(atom, whether its key holds) for what a statement of a body's head checks: the test of an
    `if` whose body ends in `raise` is false after it, an `assert`'s test true."""
    if isinstance(st, T.If) and st.body and isinstance(st.body[-1], T.Raise):
        return decided_atoms(st.test, False)
    if isinstance(st, T.Assert):
        return decided_atoms(st.test, True)
    return []


def _may_return(st: T.stmt) -> bool:
    return any(isinstance(n, T.Return) for n in _own_nodes([st]))
