"""What a `def` declares about its arguments: how a call's arguments reach its parameters
(`Signature`), which are optional, which defaults are literals, and which take a closed set of
values (`Literal[...]`, a pytest `parametrize` list).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

from analyzer import tree as T
from analyzer.flow.conditions import literal_value
from analyzer.flow.state import Literal
from analyzer.flow.syntax import dotted_name


@dataclass(frozen=True)
class Signature:
    """What a call needs to match its arguments to a def's parameters, and the literal defaults:
    the parameters a call fills by position and by keyword, whether `*args` and `**kwargs` take
    the rest, and (parameter, Literal) for each literal default."""

    positional: tuple[str, ...]
    keyword: frozenset[str]
    star: bool
    double_star: bool
    defaults: tuple[tuple[str, object], ...]


def signature_of(func: T.AST) -> Signature:
    args = func.args
    positional = list(args.posonlyargs) + list(args.args)
    defaults = list(zip(positional[len(positional) - len(args.defaults):], args.defaults))
    defaults += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
    literal = tuple((a.arg, lit) for a, d in defaults if (lit := literal_value(d)) is not None)
    return Signature(tuple(a.arg for a in positional), frozenset(a.arg for a in list(args.args) + list(args.kwonlyargs)),
                     args.vararg is not None, args.kwarg is not None, literal)


def bind_arguments(sig: Signature, positional: Sequence, keywords: Iterable[tuple[str, object]]) -> Optional[dict]:
    """parameter -> what a call passes it (an expression, a literal: whatever the items are), or
    None for a call that fails: too many positional arguments, or a keyword the def does not take.
    Arguments that `*args` / `**kwargs` take are left out."""
    if len(positional) > len(sig.positional) and not sig.star:
        return None
    given = dict(zip(sig.positional, positional))
    for name, value in keywords:
        if name in sig.keyword:
            given[name] = value
        elif not sig.double_star:
            return None
    return given


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
        if isinstance(dec, T.Call) and (dotted_name(dec.func) or "").split(".")[-1] == "parametrize" and len(dec.args) >= 2:
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
    return isinstance(node, T.Subscript) and (dotted_name(node.value) or "").split(".")[-1] == "Literal"


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


def literal_fields(cls: T.ClassDef, aliases: dict) -> dict[str, frozenset]:
    """A class body's attributes declared `Literal[...]` (a dataclass or pydantic field, or a
    plain class annotation), directly, through a module-level alias, or as `Optional[...]` /
    `... | None` of one: name -> the values, `None` among them when the annotation allows it or
    the default is `None` (`metric: Literal["acc", "rouge"] = None` holds None until set)."""
    out: dict[str, frozenset] = {}
    for st in cls.body:
        if not (isinstance(st, T.AnnAssign) and isinstance(st.target, T.Name)):
            continue
        values = _declared_literals(st.annotation, aliases)
        if values is None:
            continue
        if _defaults_to_none(st.value):
            values = values | {_NONE}
        out[st.target.id] = values
    return out


_NONE = Literal("const", "NoneType", None)


def _defaults_to_none(value: Optional[T.expr]) -> bool:
    """`= None`, `= field(default=None)`, `= Field(None, ...)` (pydantic)."""
    if isinstance(value, T.Constant):
        return value.value is None
    if not isinstance(value, T.Call):
        return False
    if any(k.arg == "default" and isinstance(k.value, T.Constant) and k.value.value is None for k in value.keywords):
        return True
    first = value.args[0] if value.args else None
    return ((dotted_name(value.func) or "").endswith("Field") and isinstance(first, T.Constant)
            and first.value is None)


def _declared_literals(ann: Optional[T.AST], aliases: dict) -> Optional[frozenset]:
    if _is_literal_type(ann):
        return _literal_members(ann)
    if isinstance(ann, T.Name):
        return aliases.get(ann.id)
    inner = optional_inner(ann)
    if inner is not None:
        values = _declared_literals(inner, aliases)
        return None if values is None else values | {_NONE}
    return None


def optional_inner(ann: Optional[T.AST]) -> Optional[T.AST]:
    """`X` of `Optional[X]`, `X | None` or `None | X`, else None."""
    if isinstance(ann, T.Subscript) and (dotted_name(ann.value) or "").split(".")[-1] == "Optional":
        return ann.slice
    if isinstance(ann, T.BinOp) and isinstance(ann.op, T.BitOr):
        for side, other in ((ann.left, ann.right), (ann.right, ann.left)):
            if isinstance(other, T.Constant) and other.value is None:
                return side
    return None


def annotated_class(ann: Optional[T.AST]) -> Optional[str]:
    """The dotted class name an annotation names: `Config`, `cfg.Config`, `"Config"`,
    `Optional[Config]`, `Config | None`; None for anything else."""
    if isinstance(ann, T.Constant) and isinstance(ann.value, str):
        text = ann.value.strip()
        return text if all(part.isidentifier() for part in text.split(".")) else None
    inner = optional_inner(ann)
    if inner is not None:
        return annotated_class(inner)
    return dotted_name(ann) if isinstance(ann, (T.Name, T.Attribute)) else None


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
        if lit is not None and lit.kind == "const":
            out[a.arg] = lit
    return out


# the one falsy value of each type a declaration can fix (`x != ""` is `x` truthy for a str)
_FALSY = {"str": Literal("const", "str", ""), "int": Literal("const", "int", 0)}


def falsy_values(node: T.AST) -> dict[str, Literal]:
    """Parameters whose declaration fixes their type to `str` or `int`, with the type's one falsy
    value: annotated `str` / `int` (with no default or a default of that type), or unannotated with
    a default of that type (`include=""`, `bits=0`). A `None` default (`x: str = None`), another
    annotation (`Optional[str]`) or no declaration at all says nothing: `None` is falsy and
    unequal to `""` and `0`."""
    args = getattr(node, "args", None)
    if not isinstance(args, T.arguments):
        return {}
    defaults = param_literal_defaults(node)
    out: dict[str, Literal] = {}
    for a in list(args.posonlyargs) + list(args.args) + list(args.kwonlyargs):
        default = defaults.get(a.arg)
        if a.annotation is None:
            type_name = default.type_name if default is not None else None
        elif isinstance(a.annotation, T.Name) and a.annotation.id in _FALSY:
            type_name = a.annotation.id
            if a.arg in _with_default(args) and (default is None or default.type_name != type_name):
                continue  # `x: str = None` (implicit Optional), or a default of another kind
        else:
            continue
        if type_name in _FALSY:
            out[a.arg] = _FALSY[type_name]
    return out


def _with_default(args: T.arguments) -> set[str]:
    positional = list(args.posonlyargs) + list(args.args)
    out = {a.arg for a in positional[len(positional) - len(args.defaults):]} if args.defaults else set()
    return out | {a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None}


def collector_tests(node: T.AST) -> list[str]:
    """Tests that hold on entry for the collector parameters: `*args` is a tuple and `**kwargs` a
    dict (`type(args) is tuple`, `isinstance(kwargs, dict)`), whatever the caller passes."""
    args = getattr(node, "args", None)
    if not isinstance(args, T.arguments):
        return []
    out = []
    for a, cls in ((args.vararg, "tuple"), (args.kwarg, "dict")):
        if a is not None:
            out += [f"isinstance({a.arg}, {cls})", f"type({a.arg}) is {cls}", f"type({a.arg}) == {cls}"]
    return out
