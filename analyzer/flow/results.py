"""What the flow analysis hands to the rules: the records of one module's analysis.

Nothing here analyses anything; `analyzer.flow.definite` fills these records and the rules in
`analyzer.rules` read them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Optional

from analyzer import tree as T
from analyzer.flow.shapes import Shape

__all__ = ["UseKind", "NameUse", "UnpackSite", "ReturnSite", "ReturnRecord", "FunctionFlow", "ModuleFlow"]


@dataclass(frozen=True)
class ReturnSite:
    """One `return` (or the implicit one at the end of the body).

    arity: number of items when the value is a known tuple, else None.
    starred: the tuple has a starred item; `arity` then counts the fixed items (a lower bound).
    none_slots: 0-based slots filled with a literal None.
    is_none: bare `return`, `return None`, or falling off the end.
    """

    line: int
    arity: int | None
    starred: bool = False
    none_slots: frozenset[int] = field(default_factory=frozenset)
    is_none: bool = False


class UseKind(str, enum.Enum):
    """What a load of a name found: the verdict the interpreter hands to the rules.

    Members are strings (`use.kind == "maybe"` holds for `UseKind.MAYBE`), hash like them and
    print as them, so code written against the bare strings keeps working.
    """

    # nothing binds the name in any enclosing scope, the module or builtins
    UNDEFINED = "undefined"
    # bound only under `if TYPE_CHECKING:`, loaded at run time
    TYPE_CHECKING = "type_checking"
    # bound only in an enclosing class body, which methods cannot see
    CLASS_SCOPE = "class_scope"
    # a local bound elsewhere in the scope but on no path reaching this load
    UNBOUND = "unbound"
    # a local bound on some paths reaching this load and not on others
    MAYBE = "maybe"
    # MAYBE, but only when an argument is None or an optional argument takes some value (a caller
    # contract the analysis cannot see)
    MAYBE_ARGUMENT = "maybe_argument"
    # MAYBE, and the load sits under a later test (`if`, `while`, `and`/`or`, a conditional
    # expression, a `match` case) that holds no binding of the name: the test may well imply the
    # binding, in ways the analysis cannot see
    MAYBE_GUARDED = "maybe_guarded"
    # MAYBE, but only when a loop over data the caller passed in (a parameter, or a value reached
    # from one) runs zero times
    MAYBE_LOOP = "maybe_loop"
    # MAYBE, but only when a loop over a count (`range(n)`) or a local collection runs zero times
    MAYBE_LOOP_LOCAL = "maybe_loop_local"
    # a local bound later in the loop body, loaded before that on the first pass
    FIRST_ITERATION = "first_iteration"
    # a free variable of a nested function called here while the variable may be unbound
    CLOSURE = "closure"
    # a free variable a closure reads first thing, unbound on some path by which the closure
    # escapes (returned, handed over as a hook) and runs after this function returned
    CLOSURE_EXIT = "closure_exit"
    # a module global that only this function creates (`global K`), read where it may be unbound
    MAYBE_GLOBAL = "maybe_global"
    # a module global bound only by a module-level `try: import x` whose `except ImportError:` goes
    # on without binding it, read by a function that checks nothing (no flag, no availability test)
    MAYBE_IMPORT = "maybe_import"
    # MAYBE_IMPORT, but the read sits under a test that may be such a check in disguise
    MAYBE_IMPORT_GUARDED = "maybe_import_guarded"
    # nothing in the module binds the name, but a star import may: decided across the files of a
    # run, where the star-imported modules are known (`analyzer.flow.exports`)
    STAR_FREE = "star_free"

    # the str mixin's behaviour, not Enum's: hashing, printing and formatting as the bare string
    __hash__ = str.__hash__
    __str__ = str.__str__
    __format__ = str.__format__


@dataclass(frozen=True)
class NameUse:
    """A load of a name that is not bound on every path reaching it; `kind` says what it found."""

    node: T.AST
    name: str
    kind: UseKind
    scope: str
    # for CLOSURE: line of the call; for FIRST_ITERATION: line of the loop; for UNDEFINED: line of a
    # bare annotation (`x: int`) of the name, taken for a binding (0: none); for MAYBE_IMPORT*: line
    # of the `try` holding the import
    other_line: int = 0
    certain: bool = False
    scope_node: Optional[T.AST] = None
    # for CLOSURE and CLOSURE_EXIT: the nested function's name
    detail: str = ""
    # one path on which the name is unbound here, as `analyzer.flow.witness.Step`s ending at the
    # load (at the call for CLOSURE); empty for verdicts that no path explains (an undefined name)
    trace: tuple = ()


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
    """One `return` of a function, or falling off the end, with the tuple shape its value has on the
    paths that reach it."""

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
    """What the analysis found about one function: its returns, whether it falls off the end."""

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
    """The analysis of one module: every verdict, function and unpack site, and the node indexes
    several rules share."""

    tree: T.Module
    uses: list[NameUse]
    functions: list[FunctionFlow]
    dynamic: bool
    unpacks: list[UnpackSite] = field(default_factory=list)
    classes: list = field(default_factory=list)  # every ClassDef, in walk order
    imports: list = field(default_factory=list)  # every Import / ImportFrom, at any depth
    by_type: dict = field(default_factory=dict)  # node type -> every node of that type
    # what the module binds: its statements' names and those of `global` declarations
    module_names: frozenset = frozenset()
    # derived views that several rules read, computed once (see analyzer.flow.autograd)
    cache: dict = field(default_factory=dict)
    # what the arguments of its calls hold (`flow.arg_values.ArgValues`, with the call scopes the
    # interpreter noted), for the module's summary
    arg_values: object = None
