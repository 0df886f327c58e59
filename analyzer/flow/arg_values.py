"""What an argument at a call site can hold, read from the caller's scope: the values a parameter
receives from its callers (`callers.closed_by_callers`, `run_sites`) are not only the literals
written in the call.

- `f(mode="fast")`: that literal.
- `f(mode)`, where the caller binds `mode` only by assignments of literals
  (`mode = "none"` ... `if bias is not None: mode = "matrix"`): one of those literals, whatever
  path reached the call. Flow-insensitive, and so sound only while nothing else can write the
  name: a name declared `global` or `nonlocal` anywhere in the module, bound by anything but a
  plain assignment of a literal, or free in the caller, stays open.
- `f(mode=args.mode)`, where `args = parser.parse_args()` and the caller's own `add_argument`
  calls give `--mode` literal `choices` (`argparse_facts`): one of the choices, or the default.
- `f(mode)`, where `mode` is the caller's own parameter, never rebound: `ParamRef("mode")`, what
  the caller's callers pass (resolved by whoever knows them, one level at a time).
- `f(*strides)`, where `strides` is bound once to a tuple display (or a conditional between two
  of one length): that many positional arguments, each open.

A Triton kernel keeps its call semantics under `@triton.jit` / `autotune` / `heuristics`, and a
launch `kernel[grid](...)` is a call of it whose launch options (`num_warps=...`) are not
parameters (`launch_target`, `keeps_calls`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union

from analyzer import tree as T
from analyzer.flow.argparse_facts import option_choices
from analyzer.flow.conditions import literal_value
from analyzer.flow.names import all_binding_lines, NodeLines
from analyzer.flow.state import Literal
from analyzer.flow.syntax import dotted_name, param_names

__all__ = ["ArgValues", "ParamRef", "Value", "keeps_calls", "launch_target", "memo_binding_lines"]


@dataclass(frozen=True)
class ParamRef:
    """The caller passes its own parameter `name` on, unchanged."""

    name: str


# what an argument holds: one of these literals, the caller's parameter, or None (anything)
Value = Union[frozenset, ParamRef, None]

_DEFS = (T.FunctionDef, T.AsyncFunctionDef)
# decorators that keep a function's call semantics (Triton compiles it; the launch binds the
# same parameters, and autotune / heuristics fill the ones the launch leaves out)
_CALL_KEEPING = frozenset({"triton.jit", "triton.autotune", "triton.heuristics", "jit", "autotune", "heuristics"})


def keeps_calls(func: T.AST) -> bool:
    """Do `func`'s decorators (if any) keep how a call's arguments reach its parameters?"""
    for d in func.decorator_list:
        name = dotted_name(d.func if isinstance(d, T.Call) else d)
        if name not in _CALL_KEEPING:
            return False
    return True


def launch_target(func: T.expr) -> Optional[T.expr]:
    """The kernel of a Triton launch `kernel[grid](...)` (the function of the call), else None."""
    if isinstance(func, T.Subscript) and isinstance(func.value, (T.Name, T.Attribute)):
        return func.value
    return None


class ArgValues:
    """The argument values of one module's calls, computed on first use: the scope each call runs
    in (as the interpreter and the callers' scan noted it), and which names each scope binds only
    to literals."""

    def __init__(self, tree: T.Module, by_type: dict[type, list[T.AST]], scopes: dict[int, T.AST],
                 binding_lines: dict) -> None:
        self.tree = tree
        self.by_type = by_type
        self.scopes = scopes  # id(call) -> the scope that runs it, as far as known (see `scope_of`)
        self.binding_lines = binding_lines  # the module's memo of `all_binding_lines` per scope
        self._walked: Optional[dict[int, T.AST]] = None
        self._assigned: Optional[dict[int, T.expr]] = None
        self._declared: Optional[frozenset[str]] = None
        self._stored_attrs: Optional[frozenset[str]] = None
        self._options: dict[int, dict] = {}

    def scope_of(self, call: T.Call, walk: bool = False) -> Optional[T.AST]:
        """The scope whose own code makes `call` (a def, the module, a class body, a lambda), as
        the interpreter or the callers' scan noted it; None when neither reached the call, unless
        `walk`: then one walk of the module finds it."""
        found = self.scopes.get(id(call))
        if found is not None or not walk:
            return found
        if self._walked is None:
            self._walked = _call_scopes(self.tree)
        return self._walked.get(id(call))

    def value(self, expr: T.expr, scope: Optional[T.AST], depth: int = 0) -> Value:
        lit = literal_value(expr)
        if lit is not None:
            return frozenset((lit,))
        if scope is None or depth > 4:  # (`mode = mode if ok else "a"` must not loop)
            return None
        if isinstance(expr, T.IfExp):
            a, b = self.value(expr.body, scope, depth + 1), self.value(expr.orelse, scope, depth + 1)
            return a | b if isinstance(a, frozenset) and isinstance(b, frozenset) else None
        if isinstance(expr, T.Name):
            return self._name_value(expr.id, scope, depth)
        if isinstance(expr, T.Attribute) and isinstance(expr.value, T.Name):
            return self._option_value(expr.value.id, expr.attr, scope)
        return None

    def star_length(self, expr: T.expr, scope: Optional[T.AST], depth: int = 0) -> Optional[int]:
        """How many items `*expr` spreads: a display, or a name bound once to displays of one length."""
        if isinstance(expr, (T.Tuple, T.List)):
            return None if any(isinstance(e, T.Starred) for e in expr.elts) else len(expr.elts)
        if depth > 4:
            return None
        if isinstance(expr, T.IfExp):
            a, b = self.star_length(expr.body, scope, depth + 1), self.star_length(expr.orelse, scope, depth + 1)
            return a if a is not None and a == b else None
        if not isinstance(expr, T.Name) or scope is None or expr.id in self._declared_names():
            return None
        nodes = self._bindings_of(scope).nodes(expr.id)
        if len(nodes) != 1:
            return None
        value = self._assignments().get(id(nodes[0]))
        return None if value is None or isinstance(value, T.Name) else self.star_length(value, scope, depth + 1)

    def _name_value(self, name: str, scope: T.AST, depth: int) -> Value:
        if name in self._declared_names():
            return None
        nodes = self._bindings_of(scope).nodes(name)
        if not nodes:
            if isinstance(scope, _DEFS) and name in param_names(scope.args):
                return ParamRef(name)
            return None  # free in the caller: bound elsewhere, when the call runs
        if isinstance(scope, _DEFS) and name in param_names(scope.args):
            return None  # a parameter rebound on some path
        out: set[Literal] = set()
        assigned = self._assignments()
        for node in nodes:
            value = assigned.get(id(node))
            found = None if value is None or isinstance(value, T.Name) else self.value(value, scope, depth + 1)
            if not isinstance(found, frozenset):
                return None
            out |= found
        return frozenset(out)

    def _option_value(self, args: str, dest: str, scope: T.AST) -> Value:
        """`args.dest` after `args = parser.parse_args()` in `scope`, for an option with choices."""
        if args in self._declared_names() or dest in self._attributes_stored():
            return None
        nodes = self._bindings_of(scope).nodes(args)
        if len(nodes) != 1:
            return None
        value = self._assignments().get(id(nodes[0]))
        if not (isinstance(value, T.Call) and isinstance(value.func, T.Attribute)
                and value.func.attr == "parse_args" and isinstance(value.func.value, T.Name)):
            return None
        options = self._options.get(id(scope))
        if options is None:
            options = self._options[id(scope)] = option_choices(scope)
        return options.get(value.func.value.id, {}).get(dest)

    def _bindings_of(self, scope: T.AST) -> NodeLines:
        return memo_binding_lines(scope, self.binding_lines)

    def _assignments(self) -> dict[int, T.expr]:
        """id(Name target) -> value, for every `name = value` and `name: ann = value` with one target."""
        if self._assigned is None:
            self._assigned = {}
            for node in self.by_type.get(T.Assign, ()):
                if len(node.targets) == 1 and type(node.targets[0]) is T.Name:
                    self._assigned[id(node.targets[0])] = node.value
            for node in self.by_type.get(T.AnnAssign, ()):
                if node.value is not None and type(node.target) is T.Name:
                    self._assigned[id(node.target)] = node.value
        return self._assigned

    def _declared_names(self) -> frozenset[str]:
        """Names some scope of the module declares `global` or `nonlocal`: others may write them."""
        if self._declared is None:
            self._declared = frozenset(n for kind in (T.Global, T.Nonlocal)
                                       for node in self.by_type.get(kind, ()) for n in node.names)
        return self._declared

    def _attributes_stored(self) -> frozenset[str]:
        """Attribute names the module stores or deletes anywhere (`args.mode = ...`)."""
        if self._stored_attrs is None:
            self._stored_attrs = frozenset(node.attr for node in self.by_type.get(T.Attribute, ())
                                           if not isinstance(node.ctx, T.Load))
        return self._stored_attrs


def memo_binding_lines(scope: T.AST, memo: dict) -> NodeLines:
    """`all_binding_lines(scope)`, once per scope of a module (`memo` holds the scope itself, so
    no id in it can be reused by a node made later)."""
    found = memo.get(id(scope))
    if found is None or found[0] is not scope:
        found = memo[id(scope)] = (scope, all_binding_lines(scope))
    return found[1]


def _call_scopes(tree: T.Module) -> dict[int, T.AST]:
    """id(call) -> the scope whose own code makes it, as the interpreter runs it: a def, a class
    body, a lambda or the module. Decorators, defaults and bases run in the scope around. A
    comprehension counts as its def's code: its targets are among the def's bindings
    (`all_binding_lines`), so a name it binds is never taken for one bound only to literals."""
    out: dict[int, T.AST] = {}
    stack: list[tuple[T.AST, T.AST]] = [(st, tree) for st in tree.body]
    while stack:
        node, scope = stack.pop()
        kind = type(node)
        if kind is T.Call:
            out[id(node)] = scope
        if kind is T.FunctionDef or kind is T.AsyncFunctionDef or kind is T.ClassDef or kind is T.Lambda:
            body = node.body if isinstance(node.body, list) else [node.body]
            inner = {id(c) for c in body}
            stack.extend((c, node if id(c) in inner else scope) for c in T.iter_child_nodes(node))
            continue
        stack.extend((c, scope) for c in T.iter_child_nodes(node))
    return out
