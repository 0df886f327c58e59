"""Branch conditions as facts a path can assume.

`atom(expr)` turns a condition into a key (`state.FactKey`): ``FactKey("truthy", subject)`` for a
plain value or anything else side-effect free, ``FactKey("eq", subject, literal)`` for ``x == 1`` /
``x is None``. Subjects are source-like strings (``self.merged``), so the same test written
twice gets the same key. `assume` adds a fact to a path, or returns None when the path already
holds a contradicting fact (the branch is impossible on that path).
"""

from __future__ import annotations

from typing import NamedTuple, Optional

from analyzer import tree as T
from analyzer.flow.names import NodeLines
from analyzer.flow.state import Fact, FactKey, Literal, Path
from analyzer.flow.syntax import dotted_name, irrefutable, iter_subject

__all__ = ["Atom", "atom", "assume", "condition_subjects", "dispatch_subject", "len_subject", "literal_truth",
           "literal_value", "match_exhaustive", "subject_text", "test_lines", "value_dispatch_on_local"]


class Atom(NamedTuple):
    """A condition as a fact key: `key`, the dotted names it reads (`names`), and whether the
    condition holds when the key does (`polarity` False for ``x is not None``)."""

    key: FactKey
    names: frozenset
    polarity: bool


_UNSUPPORTED = (T.Await, T.Yield, T.YieldFrom, T.NamedExpr, T.Lambda, T.ListComp,
                T.SetComp, T.DictComp, T.GeneratorExp, T.JoinedStr, T.Starred)


def subject_text(node: T.expr) -> Optional[str]:
    """A stable text for a side-effect-free expression, or None."""
    if isinstance(node, T.Name):
        return node.id
    if isinstance(node, T.Attribute):
        base = subject_text(node.value)
        return None if base is None else f"{base}.{node.attr}"
    for sub in T.walk(node):
        if isinstance(sub, _UNSUPPORTED):
            return None
    return T.dump(node)


def _names(node: T.expr) -> frozenset[str]:
    out: set[str] = set()
    for sub in T.walk(node):
        if isinstance(sub, T.Name):
            out.add(sub.id)
        elif isinstance(sub, T.Attribute):
            text = subject_text(sub)
            if text is not None and "(" not in text:
                out.add(text)
    return frozenset(out)


_LITERAL_TRUTH = object()


def literal_value(node: T.expr) -> Optional[Literal]:
    """The literal a comparison compares with, as a hashable key, or None."""
    if isinstance(node, T.Constant) and isinstance(node.value, (str, bytes, int, float, bool, type(None))):
        return Literal("const", type(node.value).__name__, node.value)
    if isinstance(node, T.UnaryOp) and isinstance(node.op, T.USub) and isinstance(node.operand, T.Constant):
        if isinstance(node.operand.value, (int, float)):
            return Literal("const", type(node.operand.value).__name__, -node.operand.value)
    if isinstance(node, T.Attribute) and isinstance(node.value, (T.Name, T.Attribute)):
        text = subject_text(node)
        if text is not None and text.split(".")[-1][:1].isupper():
            # Enum-like constant (Mode.TRAIN); distinct names are taken to be distinct values
            return Literal("name", text, None)
    return None


def literal_truth(lit: Optional[Literal]) -> Optional[bool]:
    if lit is not None and lit.kind == "const":
        return bool(lit.value)
    return None


def len_subject(node: T.expr) -> Optional[T.expr]:
    if (isinstance(node, T.Call) and isinstance(node.func, T.Name) and node.func.id == "len"
            and len(node.args) == 1 and not node.keywords):
        return node.args[0]
    return None


def atom(expr: T.expr) -> Optional[Atom]:
    """(key, names, polarity) for a condition, or None when it cannot be tracked.

    polarity False means the condition holds when the keyed fact is false (``x is not None``).
    """
    if isinstance(expr, T.Compare) and len(expr.ops) == 1:
        op = expr.ops[0]
        left, right = expr.left, expr.comparators[0]
        len_subj = len_subject(left)
        if len_subj is not None and isinstance(right, T.Constant) and right.value == 0 and type(right.value) is int:
            # len(x) == 0, len(x) > 0, len(x) != 0
            if isinstance(op, (T.Eq, T.LtE)):
                return _truthy(len_subj, False)
            if isinstance(op, (T.NotEq, T.Gt)):
                return _truthy(len_subj, True)
        if len_subj is not None and isinstance(right, T.Constant) and right.value == 1 and type(right.value) is int:
            if isinstance(op, T.GtE):
                return _truthy(len_subj, True)
            if isinstance(op, T.Lt):
                return _truthy(len_subj, False)
        if isinstance(op, (T.Lt, T.LtE, T.Gt, T.GtE)):
            # one key per unordered pair: a <= b, with a < b as its negation (b <= a false)
            lt, rt = subject_text(left), subject_text(right)
            if lt is not None and rt is not None:
                names = _names(left) | _names(right)
                if isinstance(op, T.LtE):
                    return Atom(FactKey("le", lt, rt), names, True)
                if isinstance(op, T.GtE):
                    return Atom(FactKey("le", rt, lt), names, True)
                if isinstance(op, T.Lt):
                    return Atom(FactKey("le", rt, lt), names, False)
                return Atom(FactKey("le", lt, rt), names, False)
        if isinstance(op, (T.In, T.NotIn)) and isinstance(right, (T.Tuple, T.List, T.Set)):
            lits = [literal_value(e) for e in right.elts]
            text = subject_text(left)
            if text is not None and lits and all(lit is not None for lit in lits):
                return Atom(FactKey("in", text, frozenset(lits)), _names(left), isinstance(op, T.In))
        if isinstance(op, (T.Eq, T.NotEq, T.Is, T.IsNot)):
            lit = literal_value(right)
            subj = left
            if lit is None:
                lit = literal_value(left)
                subj = right
            if lit is not None:
                text = subject_text(subj)
                if text is not None:
                    return Atom(FactKey("eq", text, lit), _names(subj), isinstance(op, (T.Eq, T.Is)))
            if isinstance(op, (T.Is, T.IsNot)) and isinstance(right, T.Name):
                # `out is not _MISSING`: identity with a sentinel object held in a name; no
                # "distinct names are distinct values" deduction, only the same test agreeing
                text = subject_text(left)
                if text is not None:
                    return Atom(FactKey("same", text, right.id), _names(left) | {right.id}, isinstance(op, T.Is))
    len_subj = len_subject(expr)
    if len_subj is not None:
        return _truthy(len_subj, True)
    if isinstance(expr, (T.Name, T.Attribute)):
        return _truthy(expr, True)
    text = subject_text(expr)
    if text is None:
        return None
    return Atom(FactKey("truthy", text, None), _names(expr), True)


def _truthy(subj: T.expr, polarity: bool) -> Optional[Atom]:
    text = subject_text(subj)
    if text is None:
        return None
    return Atom(FactKey("truthy", text, None), _names(subj), polarity)


def assume(path: Path, key: FactKey, value: bool) -> Optional[Path]:
    """`path` with the fact key=value added, or None if the path contradicts it."""
    facts = path.facts
    if Fact(key, not value) in facts:
        return None
    fact = Fact(key, value)
    if fact in facts:
        return path
    new = facts | {fact}
    if key.kind in ("eq", "in", "truthy") and not _consistent(new, key.subject):
        return None
    return path.with_facts(new)


def _consistent(facts: frozenset, subj: str) -> bool:
    """Can `subj` take one value that satisfies every eq / in / truthy fact about it? A "falsy"
    fact (the subject's type has one falsy value: `""` for a str) ties truthiness to equality:
    `x == ""` false and `x` falsy cannot hold together."""
    candidates: Optional[set] = None  # None: unconstrained
    excluded: set = set()
    truth: Optional[bool] = None
    falsy: Optional[Literal] = None
    for k, v in facts:
        if k.subject != subj:
            continue
        if k.kind == "eq":
            if v:
                candidates = {_value(k.value)} if candidates is None else candidates & {_value(k.value)}
            else:
                excluded.add(_value(k.value))
        elif k.kind == "in":
            values = {_value(lit) for lit in k.value}
            if v:
                candidates = values if candidates is None else candidates & values
            else:
                excluded |= values
        elif k.kind == "truthy":
            truth = v
        elif k.kind == "falsy" and v:
            falsy = k.value
    if truth is False and falsy is not None:
        candidates = {_value(falsy)} if candidates is None else candidates & {_value(falsy)}
    if candidates is None:
        # x truthy and x == None / 0 / "" cannot hold together (handled via candidates), and
        # "x is not None" says nothing about truthiness; nothing else to check
        return True
    candidates -= excluded
    if truth is not None:
        candidates = {c for c in candidates if _truth(c) in (None, truth)}
    return bool(candidates)


def _value(lit: Literal) -> object:
    """A literal as the value it compares equal to: `1`, `1.0` and `True` are one value."""
    if lit.kind == "const" and lit.type_name in ("int", "float", "bool"):
        return ("number", lit.value)
    return lit


def _truth(value: object) -> Optional[bool]:
    if isinstance(value, tuple) and len(value) == 2 and value[0] == "number":
        return bool(value[1])
    return literal_truth(value)


# ------------------------------------------------- which subjects a scope tests; if/elif dispatch chains


def test_lines(scope: T.AST) -> NodeLines:
    """Subjects (`flag`, `x.mode`, `len(xs)`) of the conditions a scope's statements test (`if`,
    `while`, `assert`, and `a and b` as a whole statement or assigned value), with the sorted lines
    that test them (each subject's lines found when first asked: most are never asked, and a line
    may cost code generation). Statements only: tests inside expressions are rarer, and this runs
    per scope."""
    out: dict[str, list[T.AST]] = {}

    def test(expr: T.expr) -> None:
        for part, subject in _condition_atoms(expr):
            out.setdefault(subject, []).append(part)

    stack = list(getattr(scope, "body", ()))
    while stack:
        st = stack.pop()
        if isinstance(st, (T.FunctionDef, T.AsyncFunctionDef, T.ClassDef)):
            continue
        if isinstance(st, (T.If, T.While, T.Assert)):
            test(st.test)
        elif isinstance(st, (T.For, T.AsyncFor)):
            # entering a loop tests whether its data is empty (again on each pass of an outer loop)
            subject = iter_subject(st.iter)
            if subject is not None:
                test(subject)
        elif isinstance(st, (T.Assign, T.Expr, T.Return)) and isinstance(st.value, T.BoolOp):
            test(st.value)
        elif isinstance(st, (T.Assign, T.Return)) and isinstance(st.value, T.IfExp):
            test(st.value.test)  # `unet = unet if train_unet else None`
        for attr in ("body", "orelse", "finalbody"):
            stack.extend(getattr(st, attr, ()))
        for h in getattr(st, "handlers", ()):
            stack.extend(h.body)
        for c in getattr(st, "cases", ()):
            stack.extend(c.body)
    return NodeLines(out)


def _test_subject(test: T.expr) -> Optional[str]:
    """The value a dispatch test looks at: `x` in `x == 1`, `x in (...)`, `isinstance(x, T)`."""
    if isinstance(test, T.Compare) and len(test.ops) == 1:
        if isinstance(test.ops[0], (T.Eq, T.Is)):
            return T.dump(test.left)
        # `x in ("a", "b")` dispatches over values; `x in self.lora_A` tests membership in a
        # container, and a chain of those is no exhaustive dispatch
        if (isinstance(test.ops[0], T.In) and isinstance(test.comparators[0], (T.Tuple, T.List, T.Set))
                and all(isinstance(e, T.Constant) for e in test.comparators[0].elts)):
            return T.dump(test.left)
    if (isinstance(test, T.Call) and isinstance(test.func, T.Name)
            and test.func.id in ("isinstance", "issubclass", "hasattr") and test.args):
        return T.dump(test.args[0])
    return None


def value_dispatch_on_local(chain: list[T.If], closed: Optional[dict] = None) -> bool:
    """`if mode == "a": ... elif mode == "b": ...` over an argument or a local (or a value read from
    one): nothing upstream validated it, so a value no arm handles is a real case. Dispatch on the
    object's own configuration (`self.summary_type == ...`) or on types (`isinstance`) is taken to
    be checked where the object was built. Over an argument whose declaration lists its values
    (`Literal[...]`, a pytest parametrize list) the chain is exhaustive when it handles them all."""
    closed = closed or {}
    handled: set = set()
    subjects: set[str] = set()  # declared arguments the chain compares directly
    for link in chain:
        t = link.test
        if not (isinstance(t, T.Compare) and len(t.ops) == 1 and isinstance(t.ops[0], (T.Eq, T.In))):
            return False
        root = t.left
        while isinstance(root, (T.Attribute, T.Subscript)):
            root = root.value
        if not isinstance(root, T.Name) or root.id in ("self", "cls"):
            return False
        if root.id in closed:
            values = closed[root.id]
            if values is None or t.left is not root:
                return False  # values known only to the declaration, or a value derived from it
            subjects.add(root.id)
            right = t.comparators[0]
            items = right.elts if isinstance(t.ops[0], T.In) and isinstance(right, (T.Tuple, T.List, T.Set)) else [right]
            handled.update(literal_value(e) for e in items)
    # a declared value no arm handles is reachable; all handled: the chain is exhaustive
    return not subjects or not all(closed[n] <= handled for n in subjects)


def _test_subjects(test: T.expr) -> set[str]:
    if isinstance(test, T.BoolOp) and isinstance(test.op, T.Or):
        out: set[str] = set()
        for v in test.values:
            out |= _test_subjects(v)
        return out
    subj = _test_subject(test)
    return {subj} if subj is not None else set()


def dispatch_subject(chain: list[T.If]) -> Optional[str]:
    """The value every test of an if/elif chain looks at, if there is one."""
    common = _test_subjects(chain[0].test)
    for link in chain[1:]:
        common &= _test_subjects(link.test)
    return min(common) if common else None


def _condition_atoms(expr: T.expr):
    """(atom expression, subject) for each fact a condition establishes (through `and`, `or`, `not`)."""
    if isinstance(expr, T.BoolOp):
        for v in expr.values:
            yield from _condition_atoms(v)
        return
    if isinstance(expr, T.UnaryOp) and isinstance(expr.op, T.Not):
        yield from _condition_atoms(expr.operand)
        return
    a = atom(expr)
    if a is not None:
        yield expr, a.key.subject


def condition_subjects(expr: T.expr) -> set[str]:
    """Subjects of the facts a condition establishes."""
    return {subject for _, subject in _condition_atoms(expr)}


# ------------------------------------------------------------------ match statements over closed values


def class_key(name: str) -> Literal:
    """The value a closed union of classes (`x: Foo | Bar`) lists for the class `name`."""
    return Literal("class", name, None)


def _pattern_values(p: T.pattern) -> Optional[set]:
    """The declared values a `case` pattern surely matches: literals (`"a"`, `Color.RED`, `None`),
    classes whose sub-patterns cannot fail (`Foo()`, `Foo(x=x)`), alternatives of those; None
    for any other pattern."""
    if isinstance(p, T.MatchValue):
        lit = literal_value(p.value)
        return None if lit is None else {lit}
    if isinstance(p, T.MatchSingleton):
        return {Literal("const", type(p.value).__name__, p.value)}
    if isinstance(p, T.MatchOr):
        out: set = set()
        for alt in p.patterns:
            values = _pattern_values(alt)
            if values is None:
                return None
            out |= values
        return out
    if isinstance(p, T.MatchAs) and p.pattern is not None:
        return _pattern_values(p.pattern)
    if isinstance(p, T.MatchClass):
        name = dotted_name(p.cls)
        if name is None or not all(irrefutable(sub) for sub in list(p.patterns) + list(p.kwd_patterns)):
            return None
        return {class_key(name)}
    return None


def match_exhaustive(cases: list, values: frozenset) -> bool:
    """`match` cases without a guard that handle every value the subject's declaration lists
    (`Literal["a", "b"]`, the members of an Enum, the classes of a union): no value falls through,
    as an `if/elif` chain that handles them all (see `value_dispatch_on_local`)."""
    handled: set = set()
    for case in cases:
        if case.guard is None:
            handled |= _pattern_values(case.pattern) or set()
    return bool(values) and values <= handled
