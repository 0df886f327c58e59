"""Lowering: a LibCST module in, the analysis tree (`analyzer.tree.nodes`) out.

One pass over the statements and expressions of the LibCST tree; whitespace, comments and
punctuation nodes are never visited. Each analysis node keeps the LibCST node it stands for.
Where the grammar and LibCST disagree on shape, the grammar wins:
- `a and b and c` (nested in LibCST) is one `BoolOp` with three values, unless parenthesized;
- `elif` is an `If` alone in the parent's `orelse`; `True`/`False`/`None`/`...` are `Constant`s;
- strings and numbers carry their values; adjacent strings are one `Constant` (or `JoinedStr`);
- `del a, b` has two targets; `x[a, b]` has a `Tuple` slice; `f(*a, k=v)` splits into
  `args` and `keywords`; a parameter list becomes `arguments` with right-aligned `defaults`.
A construct this module does not know (a newer LibCST node) is lowered to a `Constant` holding
`...`, so the analysis sees an opaque value rather than failing the file.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import libcst as cst

from analyzer.tree import nodes as N
from analyzer.tree.lower_expressions import ExpressionLowering, dotted
from analyzer.tree.positions import Positions

__all__ = ["lower_module"]

_LOAD, _STORE, _DEL = N.LOAD, N.STORE, N.DEL

_AUG_OPS = {
    cst.AddAssign: N.Add, cst.SubtractAssign: N.Sub, cst.MultiplyAssign: N.Mult, cst.MatrixMultiplyAssign: N.MatMult,
    cst.DivideAssign: N.Div, cst.ModuloAssign: N.Mod, cst.PowerAssign: N.Pow, cst.LeftShiftAssign: N.LShift,
    cst.RightShiftAssign: N.RShift, cst.BitOrAssign: N.BitOr, cst.BitXorAssign: N.BitXor,
    cst.BitAndAssign: N.BitAnd, cst.FloorDivideAssign: N.FloorDiv,
}
def lower_module(module: cst.Module, text: Optional[str] = None) -> N.Module:
    """The analysis tree of `module` (which it keeps referring to; do not mutate it). `text`, the
    source parsed into `module`, saves regenerating it when positions are first read."""
    lowering = _Lowering(Positions(module, text))
    try:
        return lowering.module(module)
    finally:
        lowering.close()


class _Lowering(ExpressionLowering):
    """The lowering of one module: statements here, expressions in the layer below."""

    def __init__(self, pos: Positions) -> None:
        super().__init__(pos)
        self.file = pos  # each statement's nodes get the `Unit` of their logical line as `pos`
        self._small: dict[type, Callable[[Any], list]] = {
            cst.Expr: self._expr_stmt, cst.Assign: self._assign, cst.AugAssign: self._augassign,
            cst.AnnAssign: self._annassign, cst.Return: self._return, cst.Raise: self._raise,
            cst.Assert: self._assert, cst.Pass: self._pass, cst.Break: self._break, cst.Continue: self._continue,
            cst.Del: self._del, cst.Import: self._import, cst.ImportFrom: self._importfrom,
            cst.Global: self._global, cst.Nonlocal: self._nonlocal,
        }
        self._compound: dict[type, Callable[[Any], N.AST]] = {
            cst.FunctionDef: self._functiondef, cst.ClassDef: self._classdef, cst.If: self._if, cst.For: self._for,
            cst.While: self._while, cst.Try: self._try, cst.With: self._with, cst.Match: self._match,
        }
        try_star = getattr(cst, "TryStar", None)
        if try_star is not None:
            self._compound[try_star] = self._trystar
        type_alias = getattr(cst, "TypeAlias", None)
        if type_alias is not None:
            self._small[type_alias] = self._typealias

    # ------------------------------------------------------------------------------ statements

    def module(self, m: cst.Module) -> N.Module:
        return N.Module(m, self.pos, self.block(m.body), [])

    def close(self) -> None:
        """Drop the handler tables: their bound methods refer back to this object, a cycle that
        would keep the module's LibCST tree alive until a garbage collection found it."""
        self._small = self._compound = self._expr = {}

    def _enter(self, node: cst.CSTNode):
        """Lower what follows as part of `node`'s unit (a statement line, a header); its `pos`."""
        pos = self.pos = self.file.unit(node)
        return pos

    def block(self, statements, owner: Optional[cst.CSTNode] = None) -> list:
        """Lower `statements`; `owner` is the header a one-line suite (`if x: a; b`) belongs to."""
        out: list = []
        for s in statements:
            if isinstance(s, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
                self._enter(s if owner is None else owner)
                for small in s.body:
                    handler = self._small.get(type(small))
                    if handler is not None:
                        out.extend(handler(small))
            else:
                handler = self._compound.get(type(s))
                if handler is not None:
                    out.append(handler(s))
        return out

    def suite(self, suite: Optional[cst.BaseSuite], owner: cst.CSTNode) -> list:
        if suite is None:
            return []
        if isinstance(suite, cst.SimpleStatementSuite):  # `if x: a; b` on the header's line
            return self.block([suite], owner)
        return self.block(suite.body)

    def _expr_stmt(self, s: cst.Expr) -> list:
        return [N.Expr(s, self.pos, self.expr(s.value))]

    def _assign(self, s: cst.Assign) -> list:
        targets = [self.target(t.target, _STORE) for t in s.targets]
        return [N.Assign(s, self.pos, targets, self.expr(s.value), None)]

    def _augassign(self, s: cst.AugAssign) -> list:
        op = _AUG_OPS[type(s.operator)](s.operator, None)
        return [N.AugAssign(s, self.pos, self.target(s.target, _STORE), op, self.expr(s.value))]

    def _annassign(self, s: cst.AnnAssign) -> list:
        simple = 1 if isinstance(s.target, cst.Name) and not s.target.lpar else 0
        value = None if s.value is None else self.expr(s.value)
        return [N.AnnAssign(s, self.pos, self.target(s.target, _STORE), self.expr(s.annotation.annotation), value,
                            simple)]

    def _return(self, s: cst.Return) -> list:
        return [N.Return(s, self.pos, None if s.value is None else self.expr(s.value))]

    def _raise(self, s: cst.Raise) -> list:
        exc = None if s.exc is None else self.expr(s.exc)
        cause = None if s.cause is None else self.expr(s.cause.item)
        return [N.Raise(s, self.pos, exc, cause)]

    def _assert(self, s: cst.Assert) -> list:
        return [N.Assert(s, self.pos, self.expr(s.test), None if s.msg is None else self.expr(s.msg))]

    def _pass(self, s) -> list:
        return [N.Pass(s, self.pos)]

    def _break(self, s) -> list:
        return [N.Break(s, self.pos)]

    def _continue(self, s) -> list:
        return [N.Continue(s, self.pos)]

    def _del(self, s: cst.Del) -> list:
        t = s.target
        if isinstance(t, cst.Tuple) and not t.lpar:
            targets = [self.target(e.value, _DEL) for e in t.elements]
        else:
            targets = [self.target(t, _DEL)]
        return [N.Delete(s, self.pos, targets)]

    def _alias(self, a: cst.ImportAlias) -> N.alias:
        asname = None if a.asname is None else a.asname.name.value
        return N.alias(a, self.pos, dotted(a.name), asname)

    def _import(self, s: cst.Import) -> list:
        return [N.Import(s, self.pos, [self._alias(a) for a in s.names])]

    def _importfrom(self, s: cst.ImportFrom) -> list:
        module = None if s.module is None else dotted(s.module)
        if isinstance(s.names, cst.ImportStar):
            names = [N.alias(s.names, self.pos, "*", None)]
        else:
            names = [self._alias(a) for a in s.names]
        return [N.ImportFrom(s, self.pos, module, names, len(s.relative))]

    def _global(self, s: cst.Global) -> list:
        return [N.Global(s, self.pos, [n.name.value for n in s.names])]

    def _nonlocal(self, s: cst.Nonlocal) -> list:
        return [N.Nonlocal(s, self.pos, [n.name.value for n in s.names])]

    def _typealias(self, s) -> list:
        name = N.Name(s.name, self.pos, s.name.value, _STORE)
        return [N.TypeAlias(s, self.pos, name, self._type_params(s.type_parameters), self.expr(s.value))]

    def _type_params(self, tp) -> list:
        if tp is None:
            return []
        out = []
        for p in tp.params:
            inner = p.param
            default = None if getattr(p, "default", None) is None else self.expr(p.default)
            if isinstance(inner, cst.TypeVar):
                bound = None if inner.bound is None else self.expr(inner.bound)
                out.append(N.TypeVar(p, self.pos, inner.name.value, bound, default))
            elif isinstance(inner, cst.ParamSpec):
                out.append(N.ParamSpec(p, self.pos, inner.name.value, default))
            else:
                out.append(N.TypeVarTuple(p, self.pos, inner.name.value, default))
        return out

    def _decorators(self, decorators) -> list:
        return [self.expr(d.decorator) for d in decorators]

    # Each compound statement lowers its header first, in its own unit, then its blocks (which
    # move `self.pos` on): the node is built with the header's `pos`.

    def _functiondef(self, s: cst.FunctionDef) -> N.AST:
        pos = self._enter(s)
        cls = N.AsyncFunctionDef if s.asynchronous is not None else N.FunctionDef
        decorators = self._decorators(s.decorators)
        type_params = self._type_params(s.type_parameters)
        args = self.parameters(s.params)
        returns = None if s.returns is None else self.expr(s.returns.annotation)
        return cls(s, pos, s.name.value, args, self.suite(s.body, s), decorators, returns, None, type_params)

    def _classdef(self, s: cst.ClassDef) -> N.AST:
        pos = self._enter(s)
        decorators = self._decorators(s.decorators)
        type_params = self._type_params(s.type_parameters)
        bases = [self._positional(a) for a in s.bases]
        keywords = [self._keyword(a) for a in s.keywords]
        return N.ClassDef(s, pos, s.name.value, bases, keywords, self.suite(s.body, s), decorators, type_params)

    def _orelse(self, orelse) -> list:
        if orelse is None:
            return []
        if isinstance(orelse, cst.If):
            return [self._if(orelse)]
        return self.suite(orelse.body, orelse)

    def _if(self, s: cst.If) -> N.AST:
        pos = self._enter(s)
        test = self.expr(s.test)
        return N.If(s, pos, test, self.suite(s.body, s), self._orelse(s.orelse))

    def _for(self, s: cst.For) -> N.AST:
        pos = self._enter(s)
        cls = N.AsyncFor if s.asynchronous is not None else N.For
        target = self.target(s.target, _STORE)
        it = self.expr(s.iter)
        return cls(s, pos, target, it, self.suite(s.body, s), self._orelse(s.orelse), None)

    def _while(self, s: cst.While) -> N.AST:
        pos = self._enter(s)
        test = self.expr(s.test)
        return N.While(s, pos, test, self.suite(s.body, s), self._orelse(s.orelse))

    def _handler(self, h) -> N.AST:
        pos = self._enter(h)
        name = None
        if h.name is not None and isinstance(h.name.name, cst.Name):
            name = h.name.name.value
        kind = None if h.type is None else self.expr(h.type)
        return N.ExceptHandler(h, pos, kind, name, self.suite(h.body, h))

    def _try(self, s: cst.Try, cls: type = N.Try) -> N.AST:
        pos = self._enter(s)
        body = self.suite(s.body, s)
        handlers = [self._handler(h) for h in s.handlers]
        orelse = self._orelse(s.orelse)
        final = [] if s.finalbody is None else self.suite(s.finalbody.body, s.finalbody)
        return cls(s, pos, body, handlers, orelse, final)

    def _trystar(self, s) -> N.AST:
        return self._try(s, N.TryStar)

    def _with(self, s: cst.With) -> N.AST:
        pos = self._enter(s)
        cls = N.AsyncWith if s.asynchronous is not None else N.With
        items = []
        for item in s.items:
            var = None if item.asname is None else self.target(item.asname.name, _STORE)
            items.append(N.withitem(item, pos, self.expr(item.item), var))
        return cls(s, pos, items, self.suite(s.body, s), None)

    def _match(self, s: cst.Match) -> N.AST:
        pos = self._enter(s)
        subject = self.expr(s.subject)
        cases = []
        for c in s.cases:
            case_pos = self._enter(c)
            pattern = self.pattern(c.pattern)
            guard = None if c.guard is None else self.expr(c.guard)
            cases.append(N.match_case(c, case_pos, pattern, guard, self.suite(c.body, c)))
        return N.Match(s, pos, subject, cases)
