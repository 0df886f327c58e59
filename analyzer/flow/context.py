"""Facts about the module, computed once and read by the interpreter: calls that never return,
context managers that may swallow exceptions, global names, the bindings of each block, what the
callers in view and the run's other modules tell it (one scope's facts: `scope_facts`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from analyzer import tree as T
from analyzer.flow.call_facts import backward_entry_facts, init_entry_facts, CallFacts, ModuleCallFacts, RunFacts
from analyzer.flow.arg_values import ArgValues
from analyzer.flow.callers import calls_in_view, closed_by_callers, functions_in_view, guarded_by_callers, string_words
from analyzer.flow.names import all_binding_lines, NodeLines, BUILTIN_NAMES, collect_bindings, ScopeBindings
from analyzer.flow.signature import literal_aliases, literal_fields
from analyzer.flow.syntax import dotted_name, ends_every_path


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
        self._init_facts: Optional[dict[int, list]] = None
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
        self._class_attributes: Optional[frozenset[str]] = None
        self.literal_aliases = literal_aliases(tree)
        # what resolves past the module: the builtins of the target Python, and the names of PEP 695
        # type parameters (bound in annotation scopes that the analysis does not model one by one)
        params = [p.name for cls in (T.TypeVar, T.ParamSpec, T.TypeVarTuple) for p in self.by_type.get(cls, ())]
        self.builtins = builtins | frozenset(params) if params else builtins
        self._optional_imports: Optional[dict[str, OptionalImport]] = None
        self._closed_by_callers: Optional[dict[int, dict[str, frozenset]]] = None
        self._guarded_by_callers: Optional[dict[int, list]] = None
        self._functions_in_view: Optional[dict] = None
        self._arg_values: Optional[ArgValues] = None
        self._calls_in_view: Optional[dict] = None
        # id(call) -> the scope that runs it (a def, a lambda, a class body or the module), noted by
        # the interpreter and the callers' scan: where a call's arguments are read (`flow.arg_values`)
        self.call_scopes: dict[int, T.AST] = {}
        # id(scope) -> (scope, its `all_binding_lines`): shared by the scopes' facts and `arg_values`
        self.binding_lines: dict[int, tuple] = {}
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
        if self._closed_by_callers is None and self.dynamic:
            self._closed_by_callers = {}
        if self._closed_by_callers is None:
            # a top-level function every use of which in the run is a call (`ProjectIndex.run_closed_params`)
            run = {id(st): self.run_callers[st.name] for st in self.tree.body
                   if isinstance(st, (T.FunctionDef, T.AsyncFunctionDef)) and st.name in self.run_callers}
            self._guards()  # (notes the scope of each call in view)
            self._closed_by_callers = closed_by_callers(self._in_view(), self.arg_values(),
                                                        lambda func: run.get(id(func), {}))
            for key, values in run.items():
                self._closed_by_callers.setdefault(key, values)
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

    def init_facts(self, node: T.AST) -> list:
        """What holds of `self` when `node` is a method: what `__init__` checked of the attributes
        nothing else in the class stores (`call_facts.init_entry_facts`)."""
        if self._init_facts is None:
            self._init_facts = {}
            for cls in self.classes:
                self._init_facts.update(init_entry_facts(cls))
        return self._init_facts.get(id(node), [])

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

    def arg_values(self) -> ArgValues:
        """What the arguments of the module's calls can hold (`flow.arg_values`), in the scopes the
        interpreter ran each call in, or the callers' scan found it in (`call_scopes`)."""
        if self._arg_values is None:
            self._arg_values = ArgValues(self.tree, self.by_type, self.call_scopes, self.binding_lines)
        return self._arg_values

    def _in_view(self) -> dict:
        if self._functions_in_view is None:
            self._functions_in_view = functions_in_view(self.tree, self.by_type, self.string_words, self.arg_values())
        return self._functions_in_view

    def _guards(self) -> dict:
        if self._calls_in_view is None:
            self._calls_in_view = calls_in_view(self.tree, self._in_view())
            self.call_scopes.update((key, scope) for key, (_, scope) in self._calls_in_view.items())
        return self._calls_in_view

    def guarded_by_callers(self, node: T.AST) -> list:
        """(key, names, truth) facts about the parameters of `node` that every call in this module
        has already decided (see `callers.guarded_by_callers`)."""
        if self._guarded_by_callers is None:
            self._guarded_by_callers = {} if self.dynamic else guarded_by_callers(self._in_view(), self._guards())
        return self._guarded_by_callers.get(id(node), [])

    def may_come_from_exec(self, name: str) -> bool:
        """In a module that runs `exec` or writes its namespace (`globals()[key] = v`; no star
        import), could that define `name`? Generated source and computed keys are built from the
        module's strings or from the names of class attributes (`for m in Kind: ns[m.name] = m`
        for an enum `Kind`), so only if some string or class body of the module spells it."""
        if self.bindings.star_import:
            return True
        if self._class_attributes is None:
            self._class_attributes = frozenset(
                t.id for cls in self.classes for st in cls.body if type(st) is T.Assign
                for t in st.targets if type(t) is T.Name)
        return name in self.string_words() or name in self._class_attributes

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
