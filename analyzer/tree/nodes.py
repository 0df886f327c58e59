"""The analysis tree: the LibCST tree of a file, lowered to the abstract grammar the analysis reads.

LibCST's tree is concrete: it keeps every parenthesis, comma and run of whitespace so that a
file round-trips byte for byte, and it spells some constructs in a way that is convenient for
rewriting but not for flow analysis (`a and b and c` as nested binary nodes, `elif` as an `If`
inside `orelse`, `True` as a `Name`, strings as unevaluated source). The flow analysis wants the
abstract grammar of the language reference: one node per construct, fields named as the grammar
names them (`If.test`, `If.body`, `If.orelse`), literal values evaluated.

Each node here is one LibCST node seen through that grammar. `node.cst` is the LibCST node it came
from, so findings are located in, and fixes built from, the very tree that was parsed; positions
(`lineno`, `col_offset`, ... with 1-based lines and 0-based *character* columns) are computed
from that tree on first use only (see `analyzer.tree.positions`): most files report nothing and
never pay for them.

The node and field names follow Python's `ast` module because they are the grammar's own names
and every Python programmer reads them; nothing here imports or calls `ast`.
"""

from __future__ import annotations

from collections import deque
from itertools import chain
from typing import Any, Iterator

__all__ = ["AST", "walk", "iter_child_nodes", "dump", "LOAD", "STORE", "DEL"]


class AST:
    """A node of the analysis tree. `cst` is the LibCST node it stands for (a `(first, last)` pair
    of LibCST nodes only for the tuple in `x[a, b]`, which no LibCST node spans); `pos` answers
    for positions."""

    __slots__ = ("cst", "pos", "_range", "_kids")
    _fields: tuple[str, ...] = ()
    # fields that may hold nodes or lists of nodes (walks skip the plain values)
    _node_fields: tuple[str, ...] = ()

    def _span(self) -> tuple[int, int, int, int]:
        r = self._range
        if r is None or len(r) == 2:
            r = self._range = self.pos.span(self.cst)
        return r

    def _lines(self) -> tuple:
        """(line, end line), or the whole span once a column was asked: lines alone are often
        known without generating the statement's code (see `analyzer.tree.positions`)."""
        r = self._range
        if r is None:
            r = self._range = self.pos.lines(self.cst)
        return r

    @property
    def lineno(self) -> int:
        return self._lines()[0]

    @property
    def col_offset(self) -> int:
        return self._span()[1]

    @property
    def end_lineno(self) -> int:
        r = self._lines()
        return r[2] if len(r) == 4 else r[1]

    @property
    def end_col_offset(self) -> int:
        return self._span()[3]

    def __repr__(self) -> str:
        return dump(self)

    def __copy__(self) -> "AST":
        """A shallow copy that lists its own children (the analysis copies a node to give it other
        fields: `analyzer.flow.slicing`)."""
        cls = type(self)
        new = cls.__new__(cls)
        for klass in cls.__mro__:
            for name in klass.__dict__.get("__slots__", ()):
                if hasattr(self, name):
                    setattr(new, name, getattr(self, name))
        new._kids = None
        if isinstance(new, mod):
            new._walked = None
        return new


def _make(name: str, base: type, fields: str, node_fields: str = "") -> type:
    """A node class with `__slots__` and a positional constructor `(cst, pos, *fields)`.

    The constructor is generated, as `dataclasses` does, because the lowering builds hundreds of
    thousands of nodes per run and a generic `setattr` loop would cost more than the parse."""
    names = tuple(fields.split())
    args = ", ".join(("cst", "pos") + names)
    body = "".join(f"\n    self.{f} = {f}" for f in names) or "\n    pass"
    namespace: dict[str, Any] = {}
    exec(f"def __init__(self, {args}):\n    self.cst = cst\n    self.pos = pos\n    self._range = None\n"
         f"    self._kids = None{body}",
         namespace)
    cls = type(name, (base,), {"__slots__": names, "_fields": names, "__init__": namespace["__init__"],
                               "_node_fields": tuple(node_fields.split()) if node_fields else names})
    return cls


class mod(AST):
    # the module's nodes in walk order, listed by its first `walk` (the tree is never changed)
    __slots__ = ("_walked",)


class stmt(AST):
    __slots__ = ()


class expr(AST):
    __slots__ = ()


class pattern(AST):
    __slots__ = ()


class excepthandler(AST):
    __slots__ = ()


class type_param(AST):
    __slots__ = ()


class expr_context(AST):
    __slots__ = ()


class boolop(AST):
    __slots__ = ()


class operator(AST):
    __slots__ = ()


class unaryop(AST):
    __slots__ = ()


class cmpop(AST):
    __slots__ = ()


Module = _make("Module", mod, "body type_ignores", "body")

FunctionDef = _make("FunctionDef", stmt, "name args body decorator_list returns type_comment type_params",
                    "args body decorator_list returns type_params")
AsyncFunctionDef = _make("AsyncFunctionDef", stmt, "name args body decorator_list returns type_comment type_params",
                         "args body decorator_list returns type_params")
ClassDef = _make("ClassDef", stmt, "name bases keywords body decorator_list type_params",
                 "bases keywords body decorator_list type_params")
Return = _make("Return", stmt, "value")
Delete = _make("Delete", stmt, "targets")
Assign = _make("Assign", stmt, "targets value type_comment", "targets value")
TypeAlias = _make("TypeAlias", stmt, "name type_params value")
AugAssign = _make("AugAssign", stmt, "target op value")
AnnAssign = _make("AnnAssign", stmt, "target annotation value simple", "target annotation value")
For = _make("For", stmt, "target iter body orelse type_comment", "target iter body orelse")
AsyncFor = _make("AsyncFor", stmt, "target iter body orelse type_comment", "target iter body orelse")
While = _make("While", stmt, "test body orelse")
If = _make("If", stmt, "test body orelse")
With = _make("With", stmt, "items body type_comment", "items body")
AsyncWith = _make("AsyncWith", stmt, "items body type_comment", "items body")
Match = _make("Match", stmt, "subject cases")
Raise = _make("Raise", stmt, "exc cause")
Try = _make("Try", stmt, "body handlers orelse finalbody")
TryStar = _make("TryStar", stmt, "body handlers orelse finalbody")
Assert = _make("Assert", stmt, "test msg")
Import = _make("Import", stmt, "names")
ImportFrom = _make("ImportFrom", stmt, "module names level", "names")
Global = _make("Global", stmt, "names", "")
Nonlocal = _make("Nonlocal", stmt, "names", "")
Expr = _make("Expr", stmt, "value")
Pass = _make("Pass", stmt, "")
Break = _make("Break", stmt, "")
Continue = _make("Continue", stmt, "")
Global._node_fields = Nonlocal._node_fields = ()

BoolOp = _make("BoolOp", expr, "op values")
NamedExpr = _make("NamedExpr", expr, "target value")
BinOp = _make("BinOp", expr, "left op right")
UnaryOp = _make("UnaryOp", expr, "op operand")
Lambda = _make("Lambda", expr, "args body")
IfExp = _make("IfExp", expr, "test body orelse")
Dict = _make("Dict", expr, "keys values")
Set = _make("Set", expr, "elts")
ListComp = _make("ListComp", expr, "elt generators")
SetComp = _make("SetComp", expr, "elt generators")
DictComp = _make("DictComp", expr, "key value generators")
GeneratorExp = _make("GeneratorExp", expr, "elt generators")
Await = _make("Await", expr, "value")
Yield = _make("Yield", expr, "value")
YieldFrom = _make("YieldFrom", expr, "value")
Compare = _make("Compare", expr, "left ops comparators")
Call = _make("Call", expr, "func args keywords")
FormattedValue = _make("FormattedValue", expr, "value conversion format_spec", "value format_spec")
JoinedStr = _make("JoinedStr", expr, "values")
Constant = _make("Constant", expr, "value kind", "")
Attribute = _make("Attribute", expr, "value attr ctx", "value")
Subscript = _make("Subscript", expr, "value slice ctx", "value slice")
Starred = _make("Starred", expr, "value ctx", "value")
Name = _make("Name", expr, "id ctx", "")
List = _make("List", expr, "elts ctx", "elts")
Tuple = _make("Tuple", expr, "elts ctx", "elts")
Slice = _make("Slice", expr, "lower upper step")
Constant._node_fields = Name._node_fields = ()

Load = _make("Load", expr_context, "")
Store = _make("Store", expr_context, "")
Del = _make("Del", expr_context, "")
# the contexts carry no data: one instance of each serves every node
LOAD, STORE, DEL = Load(None, None), Store(None, None), Del(None, None)
And = _make("And", boolop, "")
Or = _make("Or", boolop, "")
Add = _make("Add", operator, "")
Sub = _make("Sub", operator, "")
Mult = _make("Mult", operator, "")
MatMult = _make("MatMult", operator, "")
Div = _make("Div", operator, "")
Mod = _make("Mod", operator, "")
Pow = _make("Pow", operator, "")
LShift = _make("LShift", operator, "")
RShift = _make("RShift", operator, "")
BitOr = _make("BitOr", operator, "")
BitXor = _make("BitXor", operator, "")
BitAnd = _make("BitAnd", operator, "")
FloorDiv = _make("FloorDiv", operator, "")
Invert = _make("Invert", unaryop, "")
Not = _make("Not", unaryop, "")
UAdd = _make("UAdd", unaryop, "")
USub = _make("USub", unaryop, "")
Eq = _make("Eq", cmpop, "")
NotEq = _make("NotEq", cmpop, "")
Lt = _make("Lt", cmpop, "")
LtE = _make("LtE", cmpop, "")
Gt = _make("Gt", cmpop, "")
GtE = _make("GtE", cmpop, "")
Is = _make("Is", cmpop, "")
IsNot = _make("IsNot", cmpop, "")
In = _make("In", cmpop, "")
NotIn = _make("NotIn", cmpop, "")

comprehension = _make("comprehension", AST, "target iter ifs is_async", "target iter ifs")
ExceptHandler = _make("ExceptHandler", excepthandler, "type name body", "type body")
arguments = _make("arguments", AST, "posonlyargs args vararg kwonlyargs kw_defaults kwarg defaults")
arg = _make("arg", AST, "arg annotation type_comment", "annotation")
keyword = _make("keyword", AST, "arg value", "value")
alias = _make("alias", AST, "name asname", "")
withitem = _make("withitem", AST, "context_expr optional_vars")
match_case = _make("match_case", AST, "pattern guard body")

MatchValue = _make("MatchValue", pattern, "value")
MatchSingleton = _make("MatchSingleton", pattern, "value", "")
MatchSequence = _make("MatchSequence", pattern, "patterns")
MatchMapping = _make("MatchMapping", pattern, "keys patterns rest", "keys patterns")
MatchClass = _make("MatchClass", pattern, "cls patterns kwd_attrs kwd_patterns", "cls patterns kwd_patterns")
MatchStar = _make("MatchStar", pattern, "name", "")
MatchAs = _make("MatchAs", pattern, "pattern name", "pattern")
MatchOr = _make("MatchOr", pattern, "patterns")
alias._node_fields = MatchSingleton._node_fields = MatchStar._node_fields = ()

TypeVar = _make("TypeVar", type_param, "name bound default_value", "bound default_value")
ParamSpec = _make("ParamSpec", type_param, "name default_value", "default_value")
TypeVarTuple = _make("TypeVarTuple", type_param, "name default_value", "default_value")


def _make_children(cls: type) -> None:
    """Give `cls` a `_children()` that lists its child nodes in field order, once per node (kept in
    `_kids`): generated, like the constructors, because the analysis walks the tree many times
    over (a generic loop over the fields with `getattr` cost a tenth of the flow analysis). The
    tree is never changed once lowered; a copy (`__copy__`) lists its own children."""
    fields = cls._node_fields
    if not fields:
        cls._children = _no_children
        return
    body = "".join(f"\n    v = self.{f}\n    if isinstance(v, AST):\n        out.append(v)"
                   f"\n    elif type(v) is list:\n        out += [x for x in v if isinstance(x, AST)]" for f in fields)
    namespace: dict[str, Any] = {"AST": AST}
    # listed once per node and kept (a tuple: callers cannot change it)
    exec(f"def _children(self):\n    kids = self._kids\n    if kids is not None:\n        return kids\n"
         f"    out = []{body}\n    kids = self._kids = tuple(out)\n    return kids", namespace)
    cls._children = namespace["_children"]


def _no_children(self) -> tuple:
    return ()


def iter_child_nodes(node: AST) -> Iterator[AST]:
    """The direct children of `node`, in field order."""
    return iter(node._children())


def walk(node: AST) -> Iterator[AST]:
    """`node` and every node below it, breadth first (the order the analysis was written for).

    A whole module's walk is listed once and kept on the module: the analysis and the rules walk
    every module many times over (nine in ten of the nodes walked on installed peft)."""
    if type(node) is Module:
        below = getattr(node, "_walked", None)
        if below is None:
            # without the module itself: a list holding it would make a reference cycle, and the
            # tree would outlive its file until a garbage collection found it
            below = node._walked = tuple(_walk(node))[1:]
        return chain((node,), below)
    return _walk(node)


def _walk(node: AST) -> Iterator[AST]:
    todo = deque([node])
    pop = todo.popleft
    extend = todo.extend
    while todo:
        node = pop()
        extend(node._children())
        yield node


def dump(node: Any) -> str:
    """A structural key: equal for nodes that spell the same expression, whatever their position
    or parentheses (conditions are compared by it)."""
    if isinstance(node, AST):
        parts = []
        for f in node._fields:
            v = getattr(node, f)
            if v is None and f not in node._node_fields and not isinstance(node, (Constant, MatchSingleton)):
                continue
            parts.append(f"{f}={dump(v)}")
        return f"{type(node).__name__}({', '.join(parts)})"
    if type(node) is list:
        return "[" + ", ".join(dump(v) for v in node) + "]"
    return repr(node)


__all__ += [_n for _n, _v in list(globals().items()) if isinstance(_v, type) and issubclass(_v, AST) and _n != "AST"]
for _v in list(globals().values()):
    if isinstance(_v, type) and issubclass(_v, AST):
        _make_children(_v)
