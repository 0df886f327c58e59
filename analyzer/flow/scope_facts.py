"""Facts about one scope, each computed on first use and read by the interpreter: the lines
binding each name, the subjects its tests read and where, the names only ever bound together, the
locals that alias one value, and what its signature and its callers say about the arguments.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Optional

from analyzer import tree as T
from analyzer.flow.arg_values import memo_binding_lines
from analyzer.flow.argparse_facts import option_choices
from analyzer.flow.conditions import Atom, atom, test_lines
from analyzer.flow.context import ModuleContext
from analyzer.flow.names import co_bound_groups, NodeLines
from analyzer.flow.signature import (
    annotated_class, closed_params, collector_tests, falsy_values, optional_params, param_literal_defaults,
)
from analyzer.flow.state import FactKey
from analyzer.flow.syntax import param_names, walk_body
from analyzer.flow.value_aliases import alias_candidates, SHAPE_ATTRIBUTES, SHAPE_READS, value_aliases

__all__ = ["ScopeFacts"]


class ScopeFacts:
    """What one scope's syntax says, each fact computed on first use and kept: the lines binding
    each name, the subjects its tests read and where, the parent of each node, the names only ever
    bound together, and what its signature declares about the arguments."""

    def __init__(self, node: T.AST, module: ModuleContext) -> None:
        self.node = node
        self._module = module
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
        self._aliases: Optional[dict[str, tuple[str, frozenset, bool]]] = None
        self._candidates: Optional[frozenset[str]] = None
        self._options: Optional[dict] = None
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
            self._binding_lines = memo_binding_lines(self.node, self._module.binding_lines)
        return self._binding_lines

    def entry_facts(self) -> list[tuple[FactKey, frozenset, bool]]:
        """(key, names it reads, truth) for what holds when the function starts: the values its
        callers pass (`mode in {"a", "b"}`), what every caller tested before the call, the one falsy value of a `str` / `int` argument, and
        that `*args` is a tuple and `**kwargs` a dict."""
        out = [(FactKey("in", n, v), frozenset({n}), True) for n, v in sorted(self.caller_values.items())]
        out += self.caller_guards
        out += self._declared_fields()
        out += self._module.backward_facts(self.node)
        held = self._module.init_facts(self.node)
        if held:  # only about what the method tests: the others would only weigh on every path
            tested = self.test_lines()
            out += [f for f in held if f[0].subject in tested]
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
        for a in list(args.posonlyargs) + list(args.args) + list(args.kwonlyargs):
            cls = annotated_class(a.annotation)
            fields = self._module.class_fields(cls) if cls is not None else {}
            if fields:
                out += self.tested_fields(a.arg, fields)
        return out

    def tested_fields(self, owner: str, fields: dict[str, frozenset]) -> list[tuple[FactKey, frozenset, bool]]:
        """`owner.attr in values` for each attribute of `fields` (attribute -> its values) that the
        scope tests: facts about the others would only weigh on every path."""
        tested = self.test_lines()
        return [(FactKey("in", f"{owner}.{attr}", values), frozenset({owner, f"{owner}.{attr}"}), True)
                for attr, values in sorted(fields.items()) if f"{owner}.{attr}" in tested]

    def atom_of(self, node: T.expr) -> Optional[Atom]:
        """`conditions.atom` of a test, reading a local that only ever holds one side-effect-free
        value as that value: after `args_type = type(args)`, `args_type is tuple` is the test
        `type(args) is tuple` (which `*args` always passes)."""
        a = atom(node)
        if a is None:
            return a
        subject = a.key.subject
        if subject.startswith(_SHAPE_DUMPS):
            return self._shape_alias(a)
        root = subject.split(".", 1)[0]
        alias = self._alias(root) if root != subject or subject.isidentifier() else None
        if alias is None:
            return a
        text, names, shape_only = alias
        if shape_only and not subject[len(root):].startswith(SHAPE_READS):
            return a
        return Atom(a.key._replace(subject=text + subject[len(root):]), a.names | names, a.polarity)

    def _shape_alias(self, a: Atom) -> Atom:
        """A shape test written as a call or subscript (`y.dim() == 2`, `y.shape[0] == 1`, whose
        subject is the structural dump of the expression) on a tensor made in the shape of
        another (`y = torch.empty_like(x)`): the same test of that other tensor."""
        subject = a.key.subject
        root = subject.split("'", 2)[1]
        name = f"Name(id='{root}', ctx=Load())"
        if subject.count(name) != 1 or not any(f"{name}, attr='{attr}'" in subject for attr in SHAPE_ATTRIBUTES):
            return a
        alias = self._alias(root)
        if alias is None or not alias[2]:
            return a
        source = alias[0]
        return Atom(a.key._replace(subject=subject.replace(name, f"Name(id='{source}', ctx=Load())")),
                    a.names | alias[1], a.polarity)

    def aliases(self) -> dict[str, tuple[str, frozenset, bool]]:
        """Local -> (text, names read, shape only) of the one value it ever holds: a local bound by
        a single `v = expr` statement in the whole function, where expr reads only names and
        attributes the function never rebinds (`args_type = type(args)`, `cfg = self.config`), so
        that `v` equals `expr` wherever it is bound; or a tensor made in the shape of another
        (`y = torch.empty_like(x)`), which equals it in shape tests (`y.dim() == 2`)."""
        if self._aliases is None:
            self._aliases = value_aliases(self.node, self._bindings()) if self._function_body() else {}
        return self._aliases

    def _alias(self, root: str) -> Optional[tuple[str, frozenset, bool]]:
        """`aliases()` of `root`, asked only for a local the scope binds once by an alias-able
        assignment (most tests read arguments and `self`, and this needs no walk of every
        expression)."""
        if not self.binds(root):
            return None
        if self._candidates is None:
            self._candidates = alias_candidates(self.node) if self._function_body() else frozenset()
        return self.aliases().get(root) if root in self._candidates else None

    def _function_body(self) -> bool:
        # (a lambda's body is one expression: it binds nothing to alias)
        return isinstance(getattr(self.node, "body", None), list) and isinstance(getattr(self.node, "args", None),
                                                                                T.arguments)

    def option_choices(self) -> dict:
        """parser -> option -> its values (`argparse_facts.option_choices`), for this scope."""
        if self._options is None:
            self._options = option_choices(self.node)
        return self._options

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


# how the structural dump of a shape read on a name begins (`y.dim()`, `y.shape[0]`, `y.size(1)`)
_SHAPE_DUMPS = ("Call(func=Attribute(value=Name(id='", "Subscript(value=Attribute(value=Name(id='",
                "Attribute(value=Name(id='")


@lru_cache(maxsize=256)
def _atom_of(text: str):
    """The fact a test written as `text` establishes (a test that holds on entry)."""
    return atom(T.parse(text)[1].body[0].value)
