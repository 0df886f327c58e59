"""Facts about the module and about one scope, computed once and read by the interpreter: calls
that never return, context managers that may swallow exceptions, global names, the bindings of
each block.
"""

from __future__ import annotations

import re
from functools import lru_cache
from dataclasses import dataclass
from typing import Optional

from analyzer import tree as T
from analyzer.flow.call_facts import backward_entry_facts, CallFacts, ModuleCallFacts, RunFacts
from analyzer.flow.callers import closed_by_callers, functions_in_view, guarded_by_callers, string_words
from analyzer.flow.conditions import Atom, atom, test_lines
from analyzer.flow.names import all_binding_lines, NodeLines, BUILTIN_NAMES, co_bound_groups, collect_bindings, ScopeBindings
from analyzer.flow.signature import (
    annotated_class, closed_params, collector_tests, falsy_values, literal_aliases, literal_fields, optional_params,
    param_literal_defaults,
)
from analyzer.flow.state import FactKey
from analyzer.flow.value_aliases import alias_candidates, value_aliases
from analyzer.flow.syntax import dotted_name, ends_every_path, param_names, walk_body


NORETURN_CALLS = {
    "sys.exit", "exit", "quit", "os._exit", "os.abort", "pytest.fail", "pytest.skip", "pytest.exit",
    "pytest.xfail", "_pytest.outcomes.fail", "_pytest.outcomes.skip", "_pytest.outcomes.exit",
    "_pytest.outcomes.xfail", "typing.assert_never", "assert_never", "typing_extensions.assert_never",
    "self.fail", "self.skipTest",
}
RAISE_HELPER = re.compile(r"_?raise_[a-z0-9_]+$")
# unittest.TestCase methods that always raise, also called on a test case passed around by name
# (`def check(test_case): ... test_case.fail(msg)`)
_TESTCASE_NORETURN = frozenset({"fail", "skipTest"})
# (`pytest.warns` / `assertWarns` record warnings but let exceptions through: not here)
SUPPRESSING_CMS = {"suppress", "contextlib.suppress", "pytest.raises", "raises", "self.assertRaises",
                   "self.assertRaisesRegex"}


def raise_helper(name: str, defined_functions) -> bool:
    """`raise_type_error(...)`, `unimplemented(...)` imported from elsewhere: helpers named for
    raising are taken never to return (a same-module one is judged by its body instead);
    `raise_if_...` / `maybe_raise...` are conditional and do return."""
    last = name.rsplit(".", 1)[-1]
    if last in defined_functions:
        return False
    if last in ("unimplemented", "unreachable"):
        return True
    return (RAISE_HELPER.match(last) is not None
            and not any(w in last for w in ("_if", "_unless", "maybe", "_on_", "_when")))


def testcase_noreturn(name: str) -> bool:
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
    name = dotted_name(ann)
    return name is not None and name.split(".")[-1] in {"NoReturn", "Never"}


_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException", "OSError",
                            "RuntimeError", "AttributeError"})


@dataclass(frozen=True)
class OptionalImport:
    """A module-level `try: import x` whose `except ImportError:` handler goes on without binding
    `x` (`HAVE_X = False`, a warning, `pass`): `x` is bound only when the import succeeded."""

    name: str
    try_node: T.Try
    # what the handlers bind instead (`HAVE_X`): reading one of them is checking the import
    flags: frozenset[str]


def _catches_import_error(h: T.ExceptHandler) -> bool:
    if h.type is None:
        return True
    types = h.type.elts if isinstance(h.type, T.Tuple) else [h.type]
    return any((dotted_name(t) or "").split(".")[-1] in _IMPORT_ERRORS for t in types)


def _block_falls_through(body: list[T.stmt], noreturn: set[str]) -> bool:
    """A handler body that may complete normally (not ending in `raise` or a never-returning call)."""
    if not body:
        return True
    last = body[-1]
    if isinstance(last, T.Raise) or ends_every_path(body):
        return False
    if isinstance(last, T.Expr) and isinstance(last.value, T.Call):
        name = dotted_name(last.value.func)
        if name is not None and (name in NORETURN_CALLS or name in noreturn):
            return False
    return True


def optional_imports(tree: T.Module, module_lines: NodeLines, global_decls: dict[str, int],
                     noreturn: set[str]) -> dict[str, OptionalImport]:
    """The names that a module-level `try` imports, that a handler catching the import's failure
    leaves unbound and goes on, and that nothing else in the module binds."""
    out: dict[str, OptionalImport] = {}
    for st in tree.body:
        if not isinstance(st, T.Try):
            continue
        if any(isinstance(imp, T.ImportFrom) and imp.level for imp in st.body):
            continue  # `try: from . import config`: an import-order guard within a package, not an extra
        handlers = [h for h in st.handlers if _catches_import_error(h)]
        going_on = [h for h in handlers if _block_falls_through(h.body, noreturn)]
        if not going_on:
            continue
        elsewhere = collect_bindings(st.orelse + st.finalbody + [x for h in st.handlers for x in h.body]).bound
        flags = frozenset(collect_bindings([x for h in going_on for x in h.body]).bound)
        for imp in st.body:
            if not isinstance(imp, (T.Import, T.ImportFrom)):
                continue
            for alias in imp.names:
                if alias.name == "*":
                    continue
                name = alias.asname or (alias.name if isinstance(imp, T.ImportFrom) else alias.name.split(".")[0])
                if name in elsewhere or name in global_decls or len(module_lines.get(name, ())) != 1:
                    continue
                out[name] = OptionalImport(name, st, flags)
    return out


class ModuleContext:
    """Facts about one module, computed once and shared by the interpreters of all its scopes."""

    def __init__(self, tree: T.Module, builtins: frozenset[str] = BUILTIN_NAMES,
                 run_facts: Optional[RunFacts] = None) -> None:
        self.tree = tree
        # what calls of functions that other modules of the run define tell their callers, by the
        # name this module calls them (`check_mode`, `utils.check_mode`; see `call_facts_for`), and
        # what every call in the run passes this module's top-level functions
        self.imported_call_facts = run_facts.calls if run_facts else {}
        self.run_callers = run_facts.callers if run_facts else {}
        self.run_fields = run_facts.fields if run_facts else {}
        self._class_fields: Optional[dict[str, dict[str, frozenset]]] = None
        self._backward_facts: Optional[dict[int, list]] = None
        self._own_call_facts: Optional[ModuleCallFacts] = None
        self.bindings = collect_bindings(tree.body)
        self.global_names = set(self.bindings.bound)
        self.noreturn: set[str] = set()
        self.defined_functions: set[str] = set()
        # name -> how many `global name` statements the module has
        self.global_decls: dict[str, int] = {}
        self.suppressing_classes: set[str] = set()
        self.by_type: dict[type, list[T.AST]] = {}
        self._bindings_memo: dict[tuple[int, ...], tuple[ScopeBindings, tuple]] = {}
        self._scan(tree)
        self.classes = self.by_type.get(T.ClassDef, [])
        self.imports = self.by_type.get(T.Import, []) + self.by_type.get(T.ImportFrom, [])
        self.dynamic = self.bindings.star_import or self.bindings.dynamic
        self._string_words: Optional[frozenset[str]] = None
        self.literal_aliases = literal_aliases(tree)
        # what resolves past the module: the builtins of the target Python, and the names of PEP 695
        # type parameters (bound in annotation scopes that the analysis does not model one by one)
        params = [p.name for cls in (T.TypeVar, T.ParamSpec, T.TypeVarTuple) for p in self.by_type.get(cls, ())]
        self.builtins = builtins | frozenset(params) if params else builtins
        self._optional_imports: Optional[dict[str, OptionalImport]] = None
        self._closed_by_callers: Optional[dict[int, dict[str, frozenset]]] = None
        self._guarded_by_callers: Optional[dict[int, list]] = None
        self._functions_in_view: Optional[dict] = None
        # (top-level statement, optional import) -> whether that statement checks the import
        self.import_checks: dict[tuple[int, str], bool] = {}

    def optional_import(self, name: str) -> Optional[OptionalImport]:
        """`name`, when it is bound only by a module-level import that may fail and be let go."""
        if self._optional_imports is None:
            self._optional_imports = {}
            if any(isinstance(st, T.Try) for st in self.tree.body):
                self._optional_imports = optional_imports(self.tree, all_binding_lines(self.tree),
                                                          self.global_decls, self.noreturn)
        return self._optional_imports.get(name)

    def closed_by_callers(self, node: T.AST) -> dict[str, frozenset]:
        """The parameters of `node` whose every caller is in this module passing literals (see
        `callers.closed_by_callers`), with those values."""
        if self._closed_by_callers is None:
            self._closed_by_callers = {} if self.dynamic else closed_by_callers(self._in_view())
            # a top-level function every use of which in the run is a call (`ProjectIndex.run_closed_params`)
            for st in self.tree.body if self.run_callers and not self.dynamic else ():
                if isinstance(st, (T.FunctionDef, T.AsyncFunctionDef)) and st.name in self.run_callers:
                    self._closed_by_callers.setdefault(id(st), self.run_callers[st.name])
        return self._closed_by_callers.get(id(node), {})

    def call_facts_for(self, func: T.expr) -> Optional[CallFacts]:
        """What a call of `func` tells its caller once it returns (`call_facts.CallFacts`): a function
        this module defines, or one from another module of the run that it imports."""
        name = dotted_name(func)
        if name is None or self.dynamic:
            return None
        if self._own_call_facts is None:
            self._own_call_facts = ModuleCallFacts(self.tree, self.global_decls)
        found = self._own_call_facts.get(name)
        if found is not None or name not in self.imported_call_facts:
            return found
        # the import is the module's only binding of the name (not replaced by a wrapper later)
        return self.imported_call_facts[name] if self._own_call_facts.bound_once(name.split(".")[0]) else None

    def backward_facts(self, node: T.AST) -> list:
        """What holds of ctx when `node` is an autograd Function's backward: the checked values its
        forward saved on ctx (`call_facts.backward_entry_facts`)."""
        if self._backward_facts is None:
            self._backward_facts = {}
            for cls in self.classes:
                backward, facts = backward_entry_facts(cls)
                if facts:
                    self._backward_facts[id(backward)] = facts
        return self._backward_facts.get(id(node), [])

    def class_fields(self, name: str) -> dict[str, frozenset]:
        """The attributes the class named `name` (as this module writes it) declares `Literal[...]`
        (`signature.literal_fields`), with those of its bases: a class of this module, or one
        another module of the run defines (`ProjectIndex.literal_fields`)."""
        if self._class_fields is None:
            own = {c.name: c for c in self.tree.body if isinstance(c, T.ClassDef)}
            self._class_fields = {}
            for cname, cls in own.items():
                fields: dict[str, frozenset] = {}
                todo, seen = [cls], set()
                while todo:  # bases first, so the class's own declarations win
                    c = todo.pop()
                    if id(c) in seen:
                        continue
                    seen.add(id(c))
                    fields = {**literal_fields(c, self.literal_aliases), **fields}
                    for b in c.bases:
                        written = dotted_name(b)
                        if written in own:
                            todo.append(own[written])
                        elif written in self.run_fields:
                            fields = {**self.run_fields[written], **fields}
                if fields:
                    self._class_fields[cname] = fields
        found = self._class_fields.get(name)
        return found if found is not None else self.run_fields.get(name, {})

    def _in_view(self) -> dict:
        if self._functions_in_view is None:
            self._functions_in_view = functions_in_view(self.tree, self.by_type, self.string_words)
        return self._functions_in_view

    def guarded_by_callers(self, node: T.AST) -> list:
        """(key, names, truth) facts about the parameters of `node` that every call in this module
        has already decided (see `callers.guarded_by_callers`)."""
        if self._guarded_by_callers is None:
            self._guarded_by_callers = {} if self.dynamic else guarded_by_callers(self.tree, self._in_view())
        return self._guarded_by_callers.get(id(node), [])

    def may_come_from_exec(self, name: str) -> bool:
        """In a module that runs `exec` into its own namespace (and has no star import), could the
        executed code define `name`? Generated source is built from the module's strings, so only
        if some string of the module mentions the name."""
        if self.bindings.star_import:
            return True
        return name in self.string_words()

    def string_words(self) -> frozenset[str]:
        """Every identifier-like word inside a string constant of the module."""
        if self._string_words is None:
            self._string_words = string_words(self.by_type)
        return self._string_words

    def bindings_of(self, body: list[T.stmt]) -> ScopeBindings:
        """collect_bindings, once per block (nested loops and try blocks ask again and again).

        Keyed by the identity of every statement of the block: a slice of a function
        (`flow.slicing`) holds blocks that share their first statements with the original and
        copies made for the slice. The memo keeps the statements alive, so no id in a key can
        be reused by a node made later (a slice's copies are dropped after their run)."""
        if not body:
            return collect_bindings(body)
        key = tuple(map(id, body))
        found = self._bindings_memo.get(key)
        if found is None:
            found = collect_bindings(body)
            self._bindings_memo[key] = (found, tuple(body))
            return found
        return found[0]

    def _scan(self, tree: T.Module) -> None:
        by_type = self.by_type
        for node in T.walk(tree):
            kind = type(node)
            bucket = by_type.get(kind)
            if bucket is None:
                bucket = by_type[kind] = []
            bucket.append(node)
        # then the few kinds of statement that tell something, bucket by bucket (one pass that
        # tested every node for each of them cost more than the walk)
        for node in by_type.get(T.ImportFrom, ()):
            if node.module:
                for alias in node.names:
                    if f"{node.module}.{alias.name}" in NORETURN_CALLS:
                        self.noreturn.add(alias.asname or alias.name)
        for node in by_type.get(T.Import, ()):
            for alias in node.names:
                if alias.asname:
                    for full in NORETURN_CALLS:
                        if full.startswith(alias.name + "."):
                            self.noreturn.add(alias.asname + full[len(alias.name):])
        for node in by_type.get(T.Global, ()):
            self.global_names.update(node.names)
            for n in node.names:
                self.global_decls[n] = self.global_decls.get(n, 0) + 1
        for node in (*by_type.get(T.FunctionDef, ()), *by_type.get(T.AsyncFunctionDef, ())):
            self.defined_functions.add(node.name)
            if _is_noreturn_annotation(node.returns) or ends_every_path(node.body):
                self.noreturn.add(node.name)
                self.noreturn.add(f"self.{node.name}")
                self.noreturn.add(f"cls.{node.name}")
        for node in by_type.get(T.ClassDef, ()):
            for item in node.body:
                if isinstance(item, (T.FunctionDef, T.AsyncFunctionDef)) and item.name == "__exit__":
                    if _exit_may_suppress(item):
                        self.suppressing_classes.add(node.name)

    def is_global(self, name: str) -> bool:
        return name in self.global_names or name in self.builtins


def _exit_may_suppress(func: T.AST) -> bool:
    for node in T.walk(func):
        if isinstance(node, T.Return) and node.value is not None:
            v = node.value
            if isinstance(v, T.Constant) and not v.value:
                continue
            return True
    return False


@dataclass
class ScopeInfo:
    """A scope as the scopes nested in it see it: its kind, node, local names and enclosing scope."""

    kind: str  # "module" | "class" | "function"
    node: T.AST
    locals: frozenset[str]
    parent: Optional["ScopeInfo"]
    name: str
    dynamic: bool = False
    # when dynamic through `exec` of string literals only: the identifiers they mention (None: any)
    dynamic_words: Optional[frozenset[str]] = None

    def may_bind_dynamically(self, name: str) -> bool:
        """Could `exec` or a write through `locals()`/`globals()` in this scope bind `name`? Only
        names its literal code mentions (as for a module that runs `exec`, see
        `ModuleContext.may_come_from_exec`)."""
        return self.dynamic and (self.dynamic_words is None or name in self.dynamic_words)


class ScopeFacts:
    """What one scope's syntax says, each fact computed on first use and kept: the lines binding
    each name, the subjects its tests read and where, the parent of each node, the names only ever
    bound together, and what its signature declares about the arguments."""

    def __init__(self, node: T.AST, module: ModuleContext) -> None:
        self.node = node
        self.optional_params = optional_params(node)
        self.closed_params = closed_params(node, module.literal_aliases)
        self.param_defaults = param_literal_defaults(node)
        args = getattr(node, "args", None)
        self.params = (param_names(args) - {"self", "cls"}) if isinstance(args, T.arguments) else set()
        self._binding_lines: Optional[NodeLines] = None
        # what the callers pass, for the arguments the function never rebinds: closed like `Literal`
        by_callers = module.closed_by_callers(node) if isinstance(args, T.arguments) else {}
        self.caller_values = {n: v for n, v in by_callers.items() if not self.binds(n)}
        if self.caller_values:
            self.closed_params = {**self.caller_values, **self.closed_params}
        self.caller_guards = module.guarded_by_callers(node) if isinstance(args, T.arguments) else []
        self._module = module
        self._aliases: Optional[dict[str, tuple[str, frozenset]]] = None
        self._candidates: Optional[frozenset[str]] = None
        self._test_lines: Optional[NodeLines] = None
        self._parents: Optional[dict] = None
        self._co_bound: Optional[dict[str, frozenset[str]]] = None

    def binding_lines(self, name: str) -> list[int]:
        return self._bindings().get(name, [])

    def binds(self, name: str) -> bool:
        """Does the scope's own body bind `name` (asked without reading a line)?"""
        return name in self._bindings()

    def _bindings(self) -> NodeLines:
        if self._binding_lines is None:
            self._binding_lines = all_binding_lines(self.node)
        return self._binding_lines

    def entry_facts(self) -> list[tuple[FactKey, frozenset, bool]]:
        """(key, names it reads, truth) for what holds when the function starts: the values its
        callers pass (`mode in {"a", "b"}`), what every caller tested before the call, the one falsy value of a `str` / `int` argument, and
        that `*args` is a tuple and `**kwargs` a dict."""
        out = [(FactKey("in", n, v), frozenset({n}), True) for n, v in sorted(self.caller_values.items())]
        out += self.caller_guards
        out += self._declared_fields()
        out += self._module.backward_facts(self.node)
        out += [(FactKey("falsy", n, lit), frozenset({n}), True) for n, lit in sorted(falsy_values(self.node).items())]
        for text in collector_tests(self.node):
            a = _atom_of(text)
            if a is not None:
                out.append((a.key, a.names, a.polarity))
        return out

    def _declared_fields(self) -> list[tuple[FactKey, frozenset, bool]]:
        """`cfg.kind in {"lora", "oft"}` for a parameter annotated with a class that declares
        `kind: Literal["lora", "oft"]`, for the attributes the function tests (a config's other
        fields would only weigh on every path)."""
        args = getattr(self.node, "args", None)
        if not isinstance(args, T.arguments):
            return []
        out = []
        tested: Optional[dict] = None
        for a in list(args.posonlyargs) + list(args.args) + list(args.kwonlyargs):
            cls = annotated_class(a.annotation)
            fields = self._module.class_fields(cls) if cls is not None else {}
            if not fields:
                continue
            tested = self.test_lines() if tested is None else tested
            for attr, values in sorted(fields.items()):
                subject = f"{a.arg}.{attr}"
                if subject in tested:
                    out.append((FactKey("in", subject, values), frozenset({a.arg, subject}), True))
        return out

    def atom_of(self, node: T.expr) -> Optional[Atom]:
        """`conditions.atom` of a test, reading a local that only ever holds one side-effect-free
        value as that value: after `args_type = type(args)`, `args_type is tuple` is the test
        `type(args) is tuple` (which `*args` always passes)."""
        a = atom(node)
        if a is None:
            return a
        subject = a.key.subject
        root = subject.split(".", 1)[0]
        # (only a local the scope binds can be an alias: most tests read arguments and `self`)
        alias = self.aliases().get(root) if (root != subject or subject.isidentifier()) and self.binds(root) \
            and root in self._alias_candidates() else None
        if alias is None:
            return a
        text, names = alias
        return Atom(a.key._replace(subject=text + subject[len(root):]), a.names | names, a.polarity)

    def aliases(self) -> dict[str, tuple[str, frozenset]]:
        """Local -> (text, names read) of the one value it ever holds: a local bound by a single
        `v = expr` statement in the whole function, where expr reads only names and attributes the
        function never rebinds (`args_type = type(args)`, `cfg = self.config`), so that `v` equals
        `expr` wherever it is bound."""
        if self._aliases is None:
            # (a lambda's body is one expression: it binds nothing to alias)
            self._aliases = value_aliases(self.node, self._bindings()) if isinstance(
                getattr(self.node, "body", None), list) and isinstance(getattr(self.node, "args", None), T.arguments) else {}
        return self._aliases

    def _alias_candidates(self) -> frozenset[str]:
        if self._candidates is None:
            self._candidates = alias_candidates(self.node) if isinstance(
                getattr(self.node, "body", None), list) and isinstance(getattr(self.node, "args", None), T.arguments) else frozenset()
        return self._candidates

    def test_lines(self) -> NodeLines:
        """Subject -> the lines that test it (see `conditions.test_lines`)."""
        if self._test_lines is None:
            self._test_lines = test_lines(self.node)
        return self._test_lines

    def parent_map(self) -> dict:
        """Node -> its parent, within the scope's body."""
        if self._parents is None:
            self._parents = {}
            body = getattr(self.node, "body", None) or []
            # a lambda's body is one expression
            for parent in walk_body(body if isinstance(body, list) else [body]):
                for child in T.iter_child_nodes(parent):
                    self._parents[child] = parent
        return self._parents

    def co_bound(self) -> dict[str, frozenset[str]]:
        """Name -> the names bound by every statement that binds it (see `names.co_bound_groups`)."""
        if self._co_bound is None:
            self._co_bound = co_bound_groups(self.node)
        return self._co_bound


@lru_cache(maxsize=256)
def _atom_of(text: str):
    """The fact a test written as `text` establishes (a test that holds on entry)."""
    return atom(T.parse(text)[1].body[0].value)
