"""Lowering of expressions, `match` patterns and parameter lists (see `analyzer.tree.lower`)."""

from __future__ import annotations

from typing import Any, Callable, Optional

import libcst as cst

from analyzer.tree import nodes as N
from analyzer.tree.literals import number_value, string_value, unescape
from analyzer.tree.positions import Positions

__all__ = ["ExpressionLowering", "dotted"]

_LOAD, _STORE, _DEL = N.LOAD, N.STORE, N.DEL

_BOOL_OPS = {cst.And: N.And, cst.Or: N.Or}
_BIN_OPS = {
    cst.Add: N.Add, cst.Subtract: N.Sub, cst.Multiply: N.Mult, cst.MatrixMultiply: N.MatMult, cst.Divide: N.Div,
    cst.Modulo: N.Mod, cst.Power: N.Pow, cst.LeftShift: N.LShift, cst.RightShift: N.RShift, cst.BitOr: N.BitOr,
    cst.BitXor: N.BitXor, cst.BitAnd: N.BitAnd, cst.FloorDivide: N.FloorDiv,
}
_UNARY_OPS = {cst.BitInvert: N.Invert, cst.Not: N.Not, cst.Plus: N.UAdd, cst.Minus: N.USub}
_CMP_OPS = {
    cst.Equal: N.Eq, cst.NotEqual: N.NotEq, cst.LessThan: N.Lt, cst.LessThanEqual: N.LtE, cst.GreaterThan: N.Gt,
    cst.GreaterThanEqual: N.GtE, cst.Is: N.Is, cst.IsNot: N.IsNot, cst.In: N.In, cst.NotIn: N.NotIn,
}
_SINGLETONS = {"True": True, "False": False, "None": None}


def dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{dotted(node.value)}.{node.attr.value}"
    return ""


class ExpressionLowering:
    """Expressions, patterns and parameter lists; `pos` is shared by every node built."""

    def __init__(self, pos: Positions) -> None:
        self.pos = pos
        self._expr: dict[type, Callable[[Any, N.AST], N.AST]] = {
            cst.Name: self._name, cst.Attribute: self._attribute, cst.Call: self._call,
            cst.Subscript: self._subscript, cst.Tuple: self._tuple, cst.List: self._list, cst.Set: self._set,
            cst.Dict: self._dict, cst.ListComp: self._listcomp, cst.SetComp: self._setcomp,
            cst.GeneratorExp: self._genexp, cst.DictComp: self._dictcomp, cst.BinaryOperation: self._binop,
            cst.BooleanOperation: self._boolop, cst.UnaryOperation: self._unaryop, cst.Comparison: self._compare,
            cst.IfExp: self._ifexp, cst.Lambda: self._lambda, cst.NamedExpr: self._namedexpr,
            cst.Await: self._await, cst.Yield: self._yield, cst.Ellipsis: self._ellipsis,
            cst.Integer: self._number, cst.Float: self._number, cst.Imaginary: self._number,
            cst.SimpleString: self._string, cst.ConcatenatedString: self._concat,
            cst.FormattedString: self._fstring, cst.StarredElement: self._starred_element,
        }

    # -------------------------------------------------------------------------------- patterns

    def pattern(self, p) -> N.AST:
        pos = self.pos
        if isinstance(p, cst.MatchAs):
            name = None if p.name is None else p.name.value
            return N.MatchAs(p, pos, None if p.pattern is None else self.pattern(p.pattern), name)
        if isinstance(p, cst.MatchValue):
            return N.MatchValue(p, pos, self.expr(p.value))
        if isinstance(p, cst.MatchSingleton):
            return N.MatchSingleton(p, pos, _SINGLETONS.get(p.value.value))
        if isinstance(p, (cst.MatchList, cst.MatchTuple)):
            return N.MatchSequence(p, pos, [self._sequence_item(e) for e in p.patterns])
        if isinstance(p, cst.MatchMapping):
            keys = [self.expr(e.key) for e in p.elements]
            pats = [self.pattern(e.pattern) for e in p.elements]
            return N.MatchMapping(p, pos, keys, pats, None if p.rest is None else p.rest.value)
        if isinstance(p, cst.MatchClass):
            return N.MatchClass(p, pos, self.expr(p.cls), [self._sequence_item(e) for e in p.patterns],
                                [k.key.value for k in p.kwds], [self.pattern(k.pattern) for k in p.kwds])
        if isinstance(p, cst.MatchOr):
            return N.MatchOr(p, pos, [self.pattern(e.pattern) for e in p.patterns])
        return N.MatchAs(p, pos, None, None)

    def _sequence_item(self, e) -> N.AST:
        if isinstance(e, cst.MatchStar):
            return N.MatchStar(e, self.pos, None if e.name is None else e.name.value)
        return self.pattern(e.value)

    # ------------------------------------------------------------------------------ parameters

    def _arg(self, p: cst.Param) -> N.arg:
        ann = None if p.annotation is None else p.annotation.annotation
        return N.arg(p, self.pos, p.name.value, None if ann is None else self.expr(ann), None)

    def parameters(self, ps: cst.Parameters) -> N.arguments:
        posonly = [self._arg(p) for p in ps.posonly_params]
        args = [self._arg(p) for p in ps.params]
        defaults = [self.expr(p.default) for p in list(ps.posonly_params) + list(ps.params) if p.default is not None]
        vararg = self._arg(ps.star_arg) if isinstance(ps.star_arg, cst.Param) else None
        kwonly = [self._arg(p) for p in ps.kwonly_params]
        kw_defaults = [None if p.default is None else self.expr(p.default) for p in ps.kwonly_params]
        kwarg = self._arg(ps.star_kwarg) if ps.star_kwarg is not None else None
        return N.arguments(ps, self.pos, posonly, args, vararg, kwonly, kw_defaults, kwarg, defaults)

    # ----------------------------------------------------------------------------- expressions

    def expr(self, e: cst.BaseExpression) -> N.AST:
        handler = self._expr.get(type(e))
        if handler is None:
            return N.Constant(e, self.pos, ..., None)
        return handler(e, _LOAD)

    def target(self, e: cst.BaseExpression, ctx: N.AST) -> N.AST:
        """An expression in a binding position (`ctx` is Store or Del)."""
        t = type(e)
        if t is cst.Name:
            return N.Name(e, self.pos, e.value, ctx)
        if t is cst.Tuple or t is cst.List:
            elts = [self._target_element(el, ctx) for el in e.elements]
            if t is cst.Tuple:
                return N.Tuple(e, self.pos, elts, ctx)
            return N.List(e, self.pos, elts, ctx)
        if t is cst.Attribute:
            return N.Attribute(e, self.pos, self.expr(e.value), e.attr.value, ctx)
        if t is cst.Subscript:
            return N.Subscript(e, self.pos, self.expr(e.value), self._slice(e), ctx)
        if t is cst.StarredElement:
            return N.Starred(e, self.pos, self.target(e.value, ctx), ctx)
        return self.expr(e)

    def _target_element(self, el, ctx) -> N.AST:
        if isinstance(el, cst.StarredElement):
            return N.Starred(el, self.pos, self.target(el.value, ctx), ctx)
        return self.target(el.value, ctx)

    def _name(self, e: cst.Name, ctx) -> N.AST:
        v = e.value
        if v in _SINGLETONS:
            return N.Constant(e, self.pos, _SINGLETONS[v], None)
        return N.Name(e, self.pos, v, ctx)

    def _attribute(self, e: cst.Attribute, ctx) -> N.AST:
        return N.Attribute(e, self.pos, self.expr(e.value), e.attr.value, ctx)

    def _positional(self, a: cst.Arg) -> N.AST:
        if a.star == "*":
            return N.Starred(a, self.pos, self.expr(a.value), _LOAD)
        return self.expr(a.value)

    def _keyword(self, a: cst.Arg) -> N.AST:
        name = None if a.keyword is None else a.keyword.value
        return N.keyword(a, self.pos, name, self.expr(a.value))

    def _call(self, e: cst.Call, ctx) -> N.AST:
        args, keywords = [], []
        for a in e.args:
            if a.keyword is not None or a.star == "**":
                keywords.append(self._keyword(a))
            else:
                args.append(self._positional(a))
        return N.Call(e, self.pos, self.expr(e.func), args, keywords)

    def _slice_item(self, s) -> N.AST:
        if isinstance(s, cst.Slice):
            return N.Slice(s, self.pos, None if s.lower is None else self.expr(s.lower),
                           None if s.upper is None else self.expr(s.upper),
                           None if s.step is None else self.expr(s.step))
        if getattr(s, "star", None) == "*":
            return N.Starred(s, self.pos, self.expr(s.value), _LOAD)
        return self.expr(s.value)

    def _slice(self, e: cst.Subscript) -> N.AST:
        items = e.slice
        if len(items) == 1 and items[0].comma in (cst.MaybeSentinel.DEFAULT, None):
            return self._slice_item(items[0].slice)
        elts = [self._slice_item(i.slice) for i in items]
        return N.Tuple((items[0].slice, items[-1].slice), self.pos, elts, _LOAD)

    def _subscript(self, e: cst.Subscript, ctx) -> N.AST:
        return N.Subscript(e, self.pos, self.expr(e.value), self._slice(e), ctx)

    def _element(self, el) -> N.AST:
        if isinstance(el, cst.StarredElement):
            return N.Starred(el, self.pos, self.expr(el.value), _LOAD)
        return self.expr(el.value)

    def _tuple(self, e: cst.Tuple, ctx) -> N.AST:
        return N.Tuple(e, self.pos, [self._element(x) for x in e.elements], ctx)

    def _list(self, e: cst.List, ctx) -> N.AST:
        return N.List(e, self.pos, [self._element(x) for x in e.elements], ctx)

    def _set(self, e: cst.Set, ctx) -> N.AST:
        return N.Set(e, self.pos, [self._element(x) for x in e.elements])

    def _starred_element(self, e: cst.StarredElement, ctx) -> N.AST:
        return N.Starred(e, self.pos, self.expr(e.value), ctx)

    def _dict(self, e: cst.Dict, ctx) -> N.AST:
        keys, values = [], []
        for el in e.elements:
            if isinstance(el, cst.StarredDictElement):
                keys.append(None)
            else:
                keys.append(self.expr(el.key))
            values.append(self.expr(el.value))
        return N.Dict(e, self.pos, keys, values)

    def _generators(self, comp: cst.CompFor) -> list:
        out = []
        c: Optional[cst.CompFor] = comp
        while c is not None:
            out.append(N.comprehension(c, self.pos, self.target(c.target, _STORE), self.expr(c.iter),
                                       [self.expr(i.test) for i in c.ifs], 1 if c.asynchronous else 0))
            c = c.inner_for_in
        return out

    def _listcomp(self, e: cst.ListComp, ctx) -> N.AST:
        return N.ListComp(e, self.pos, self.expr(e.elt), self._generators(e.for_in))

    def _setcomp(self, e: cst.SetComp, ctx) -> N.AST:
        return N.SetComp(e, self.pos, self.expr(e.elt), self._generators(e.for_in))

    def _genexp(self, e: cst.GeneratorExp, ctx) -> N.AST:
        return N.GeneratorExp(e, self.pos, self.expr(e.elt), self._generators(e.for_in))

    def _dictcomp(self, e: cst.DictComp, ctx) -> N.AST:
        return N.DictComp(e, self.pos, self.expr(e.key), self.expr(e.value), self._generators(e.for_in))

    def _binop(self, e: cst.BinaryOperation, ctx) -> N.AST:
        op = _BIN_OPS[type(e.operator)](e.operator, None)
        return N.BinOp(e, self.pos, self.expr(e.left), op, self.expr(e.right))

    def _boolop(self, e: cst.BooleanOperation, ctx) -> N.AST:
        kind = type(e.operator)
        values = []
        # `a and b and c` nests to the left in LibCST; the grammar has one operator, many values
        chain = []
        node: cst.BaseExpression = e
        while isinstance(node, cst.BooleanOperation) and type(node.operator) is kind and (node is e or not node.lpar):
            chain.append(node.right)
            node = node.left
        values.append(self.expr(node))
        values.extend(self.expr(r) for r in reversed(chain))
        return N.BoolOp(e, self.pos, _BOOL_OPS[kind](e.operator, None), values)

    def _unaryop(self, e: cst.UnaryOperation, ctx) -> N.AST:
        return N.UnaryOp(e, self.pos, _UNARY_OPS[type(e.operator)](e.operator, None), self.expr(e.expression))

    def _compare(self, e: cst.Comparison, ctx) -> N.AST:
        ops = [_CMP_OPS[type(c.operator)](c.operator, None) for c in e.comparisons]
        return N.Compare(e, self.pos, self.expr(e.left), ops, [self.expr(c.comparator) for c in e.comparisons])

    def _ifexp(self, e: cst.IfExp, ctx) -> N.AST:
        return N.IfExp(e, self.pos, self.expr(e.test), self.expr(e.body), self.expr(e.orelse))

    def _lambda(self, e: cst.Lambda, ctx) -> N.AST:
        return N.Lambda(e, self.pos, self.parameters(e.params), self.expr(e.body))

    def _namedexpr(self, e: cst.NamedExpr, ctx) -> N.AST:
        return N.NamedExpr(e, self.pos, self.target(e.target, _STORE), self.expr(e.value))

    def _await(self, e: cst.Await, ctx) -> N.AST:
        return N.Await(e, self.pos, self.expr(e.expression))

    def _yield(self, e: cst.Yield, ctx) -> N.AST:
        if isinstance(e.value, cst.From):
            return N.YieldFrom(e, self.pos, self.expr(e.value.item))
        return N.Yield(e, self.pos, None if e.value is None else self.expr(e.value))

    def _ellipsis(self, e, ctx) -> N.AST:
        return N.Constant(e, self.pos, ..., None)

    def _number(self, e, ctx) -> N.AST:
        return N.Constant(e, self.pos, number_value(e.value, type(e).__name__), None)

    def _string(self, e: cst.SimpleString, ctx) -> N.AST:
        return N.Constant(e, self.pos, string_value(e.value), "u" if e.value[:1] in "uU" else None)

    def _concat(self, e: cst.ConcatenatedString, ctx) -> N.AST:
        parts: list = []
        stack: list = [e]
        while stack:  # left to right through the nesting
            node = stack.pop()
            if isinstance(node, cst.ConcatenatedString):
                stack.append(node.right)
                stack.append(node.left)
            else:
                parts.append(node)
        if all(isinstance(p, cst.SimpleString) for p in parts):
            values = [string_value(p.value) for p in parts]
            value = values[0][:0].join(values)
            return N.Constant(e, self.pos, value, None)
        values = []
        for p in parts:
            values.extend(self._fstring_values(p) if isinstance(p, cst.FormattedString)
                          else [N.Constant(p, self.pos, string_value(p.value), None)])
        return N.JoinedStr(e, self.pos, _merge_texts(values, self.pos))

    def _fstring_values(self, e) -> list:
        return self._fstring_parts(e.parts, "r" in e.prefix.lower())

    def _fstring_parts(self, parts, raw: bool) -> list:
        out = []
        for part in parts:
            if isinstance(part, cst.FormattedStringText):
                text = part.value.replace("{{", "{").replace("}}", "}")
                if not raw and "\\" in text:
                    text = unescape(text)
                out.append(N.Constant(part, self.pos, text, None))
            elif isinstance(part, cst.FormattedStringExpression):
                conv = -1 if not part.conversion else ord(part.conversion)
                spec = None
                if part.format_spec is not None:
                    spec = N.JoinedStr(part, self.pos, self._fstring_parts(part.format_spec, raw))
                out.append(N.FormattedValue(part, self.pos, self.expr(part.expression), conv, spec))
        return out

    def _fstring(self, e: cst.FormattedString, ctx) -> N.AST:
        return N.JoinedStr(e, self.pos, _merge_texts(self._fstring_values(e), self.pos))


def _merge_texts(values: list, pos: Positions) -> list:
    """Adjacent text parts as one `Constant`, and no empty ones, as the compiler leaves them."""
    out: list = []
    for v in values:
        if isinstance(v, N.Constant) and isinstance(v.value, str):
            if not v.value:
                continue
            if out and isinstance(out[-1], N.Constant) and isinstance(out[-1].value, str):
                prev = out[-1]
                out[-1] = N.Constant(prev.cst, pos, prev.value + v.value, None)
                continue
        out.append(v)
    return out
