"""Branch conditions as facts a path can assume.

`atom(expr)` turns a condition into a key: ``("truthy", subject, None)`` for a plain value, ``("eq",
subject, literal)`` for ``x == 1`` / ``x is None``, and ``("expr", text)`` for anything else
side-effect free. Subjects are source-like strings (``self.merged``), so the same test written
twice gets the same key. `assume` adds a fact to a path, or returns None when the path already
holds a contradicting fact (the branch is impossible on that path).
"""

from __future__ import annotations

from analyzer import tree as T
from typing import Optional

from analyzer.flow.state import Path

__all__ = ["Atom", "atom", "assume", "literal_truth", "subject_text"]

Atom = tuple  # (key, names): key is hashable, names the dotted names it reads


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


def literal_value(node: T.expr):
    """The literal a comparison compares with, as a hashable key, or None."""
    if isinstance(node, T.Constant) and isinstance(node.value, (str, bytes, int, float, bool, type(None))):
        return ("const", type(node.value).__name__, node.value)
    if isinstance(node, T.UnaryOp) and isinstance(node.op, T.USub) and isinstance(node.operand, T.Constant):
        if isinstance(node.operand.value, (int, float)):
            return ("const", type(node.operand.value).__name__, -node.operand.value)
    if isinstance(node, T.Attribute) and isinstance(node.value, (T.Name, T.Attribute)):
        text = subject_text(node)
        if text is not None and text.split(".")[-1][:1].isupper():
            # Enum-like constant (Mode.TRAIN); distinct names are taken to be distinct values
            return ("name", text, None)
    return None


def literal_truth(lit) -> Optional[bool]:
    if lit is not None and lit[0] == "const":
        return bool(lit[2])
    return None


def _len_subject(node: T.expr) -> Optional[T.expr]:
    if (isinstance(node, T.Call) and isinstance(node.func, T.Name) and node.func.id == "len"
            and len(node.args) == 1 and not node.keywords):
        return node.args[0]
    return None


def atom(expr: T.expr) -> Optional[tuple[tuple, frozenset[str], bool]]:
    """(key, names, polarity) for a condition, or None when it cannot be tracked.

    polarity False means the condition holds when the keyed fact is false (``x is not None``).
    """
    if isinstance(expr, T.Compare) and len(expr.ops) == 1:
        op = expr.ops[0]
        left, right = expr.left, expr.comparators[0]
        len_subj = _len_subject(left)
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
                    return (("le", lt, rt), names, True)
                if isinstance(op, T.GtE):
                    return (("le", rt, lt), names, True)
                if isinstance(op, T.Lt):
                    return (("le", rt, lt), names, False)
                return (("le", lt, rt), names, False)
        if isinstance(op, (T.In, T.NotIn)) and isinstance(right, (T.Tuple, T.List, T.Set)):
            lits = [literal_value(e) for e in right.elts]
            text = subject_text(left)
            if text is not None and lits and all(lit is not None for lit in lits):
                return (("in", text, frozenset(lits)), _names(left), isinstance(op, T.In))
        if isinstance(op, (T.Eq, T.NotEq, T.Is, T.IsNot)):
            lit = literal_value(right)
            subj = left
            if lit is None:
                lit = literal_value(left)
                subj = right
            if lit is not None:
                text = subject_text(subj)
                if text is not None:
                    return (("eq", text, lit), _names(subj), isinstance(op, (T.Eq, T.Is)))
            if isinstance(op, (T.Is, T.IsNot)) and isinstance(right, T.Name):
                # `out is not _MISSING`: identity with a sentinel object held in a name; no
                # "distinct names are distinct values" deduction, only the same test agreeing
                text = subject_text(left)
                if text is not None:
                    return (("same", text, right.id), _names(left) | {right.id}, isinstance(op, T.Is))
    len_subj = _len_subject(expr)
    if len_subj is not None:
        return _truthy(len_subj, True)
    if isinstance(expr, (T.Name, T.Attribute)):
        return _truthy(expr, True)
    text = subject_text(expr)
    if text is None:
        return None
    return (("truthy", text, None), _names(expr), True)


def _truthy(subj: T.expr, polarity: bool):
    text = subject_text(subj)
    if text is None:
        return None
    return (("truthy", text, None), _names(subj), polarity)


def assume(path: Path, key: tuple, value: bool) -> Optional[Path]:
    """`path` with the fact key=value added, or None if the path contradicts it."""
    facts = path.facts
    if (key, not value) in facts:
        return None
    if (key, value) in facts:
        return path
    new = facts | {(key, value)}
    if key[0] in ("eq", "in", "truthy") and not _consistent(new, key[1]):
        return None
    return path.with_facts(new)


def _consistent(facts: frozenset, subj: str) -> bool:
    """Can `subj` take one value that satisfies every eq / in / truthy fact about it?"""
    candidates: Optional[set] = None  # None: unconstrained
    excluded: set = set()
    truth: Optional[bool] = None
    for (k, v) in facts:
        if k[1] != subj:
            continue
        kind = k[0]
        if kind == "eq":
            if v:
                candidates = {k[2]} if candidates is None else candidates & {k[2]}
            else:
                excluded.add(k[2])
        elif kind == "in":
            if v:
                candidates = set(k[2]) if candidates is None else candidates & k[2]
            else:
                excluded |= k[2]
        elif kind == "truthy":
            truth = v
    if candidates is None:
        if truth is not None:
            # x truthy and x == None / 0 / "" cannot hold together (handled via candidates), and
            # "x is not None" says nothing about truthiness; nothing else to check
            return True
        return True
    candidates -= excluded
    if truth is not None:
        candidates = {c for c in candidates if literal_truth(c) in (None, truth)}
    return bool(candidates)
