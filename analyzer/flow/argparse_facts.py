"""The values an `argparse` option can hold, from the `add_argument` calls of one scope.

`parser.add_argument("--quantization", choices=["none", "int4", "int8"], default="none")` then
`args = parser.parse_args()` makes `args.quantization` one of those three: a chain over them is
complete. Used by the interpreter when a local is bound to `<parser>.parse_args(...)`.
"""

from __future__ import annotations

from typing import Optional

from analyzer import tree as T
from analyzer.flow.conditions import literal_value
from analyzer.flow.state import Literal, NONE_LITERAL
from analyzer.flow.syntax import inner_blocks

__all__ = ["option_choices"]


def option_choices(scope: T.AST) -> dict[str, dict[str, frozenset[Literal]]]:
    """parser name -> option dest -> the values `parse_args` can give it, for the parsers the
    scope's own statements fill. An option counts when it lists literal `choices` and takes one
    value (no `nargs`, no `action`): its values are the choices, its literal default, and `None`
    when it may be left out (an optional without `default` or `required=True`). A dest added
    twice, a call with `**kwargs`, or a `set_defaults` / `add_argument_group` on the parser
    leaves the parser's options open."""
    body = getattr(scope, "body", None)
    if not isinstance(body, list):
        return {}
    out: dict[str, dict[str, Optional[frozenset[Literal]]]] = {}
    spoiled: set[str] = set()
    stack = [body]
    while stack:
        for st in stack.pop():
            kind = type(st)
            if kind is T.FunctionDef or kind is T.AsyncFunctionDef or kind is T.ClassDef:
                continue
            stack.extend(inner_blocks(st))
            if kind is not T.Expr or type(st.value) is not T.Call:
                continue
            call = st.value
            f = call.func
            if not (type(f) is T.Attribute and type(f.value) is T.Name):
                continue
            parser = f.value.id
            if f.attr != "add_argument":
                if f.attr in ("set_defaults", "add_argument_group", "add_mutually_exclusive_group", "add_subparsers"):
                    spoiled.add(parser)
                continue
            found = _option(call)
            if found is None:
                continue
            dest, values = found
            options = out.setdefault(parser, {})
            options[dest] = None if dest in options else values
    return {p: {d: v for d, v in opts.items() if v is not None}
            for p, opts in out.items() if p not in spoiled}


def _option(call: T.Call) -> Optional[tuple[str, Optional[frozenset[Literal]]]]:
    """(dest, values or None) of one `add_argument` call; None when its dest is not known."""
    names = [a.value for a in call.args if isinstance(a, T.Constant) and isinstance(a.value, str)]
    if len(names) != len(call.args) or not names:
        return None
    keywords = {k.arg: k.value for k in call.keywords}
    if None in keywords:
        return None  # `**kwargs`
    dest_kw = keywords.get("dest")
    if dest_kw is not None:
        if not (isinstance(dest_kw, T.Constant) and isinstance(dest_kw.value, str)):
            return None
        dest = dest_kw.value
    else:
        longs = [n for n in names if n.startswith("--")]
        shorts = [n for n in names if n.startswith("-") and not n.startswith("--")]
        first = longs[0] if longs else shorts[0] if shorts else names[0]
        dest = first.lstrip("-").replace("-", "_")
    if not dest.isidentifier():
        return None
    choices = keywords.get("choices")
    if choices is None or "nargs" in keywords or "action" in keywords \
            or not isinstance(choices, (T.List, T.Tuple, T.Set)):
        return dest, None
    values = {literal_value(e) for e in choices.elts}
    if None in values or not values:
        return dest, None
    optional = names[0].startswith("-")
    if "default" in keywords:
        default = literal_value(keywords["default"])
        if default is None:
            return dest, None
        values.add(default)
    elif optional:
        required = keywords.get("required")
        if not (isinstance(required, T.Constant) and required.value is True):
            values.add(NONE_LITERAL)
    return dest, frozenset(values)
