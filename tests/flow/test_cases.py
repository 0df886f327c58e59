"""One test per case of `tests/flow/cases/*.md` (format: `tests/flow/harness.py`), and checks that
the harness itself compares what it claims to."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer import tree as T
from tests.flow.harness import CASES_DIR, Case, CaseFormatError, load_cases, load_file, mismatches

CASES = load_cases()


def _param(case):
    marks = [pytest.mark.xfail(reason=case.xfail, strict=True)] if case.xfail else []
    return pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_case(case):
    problems = mismatches(case)
    assert not problems, f"{case.file}:{case.first_line} {case.name}\n" + "\n".join(problems)


def test_the_cases_are_there():
    # a glob that matched nothing, or a heading format that stopped matching, would pass vacuously
    assert len(CASES) >= 80
    assert len({c.id for c in CASES}) == len(CASES)
    assert {p.name for p in CASES_DIR.glob("*.md")} == {c.file for c in CASES}
    # both sides: cases that expect a report and clean near-miss cases
    assert sum(1 for c in CASES if c.uses) >= 40
    assert sum(1 for c in CASES if not c.uses) >= 40
    # every xfail says why
    assert all(len(c.xfail) > 20 for c in CASES if c.xfail)


# every statement and binding expression the interpreter handles appears in some case
_COVERED = """
    Assign AnnAssign AugAssign Delete Import ImportFrom Global Nonlocal If For AsyncFor While Break
    Continue Try TryStar With AsyncWith Match Return Raise Assert FunctionDef AsyncFunctionDef
    ClassDef TypeAlias Pass Expr Lambda ListComp SetComp DictComp GeneratorExp NamedExpr IfExp
    BoolOp Yield YieldFrom Await JoinedStr Starred MatchValue MatchClass MatchSequence MatchMapping
    MatchOr MatchAs MatchStar MatchSingleton TypeVar TypeVarTuple ParamSpec
""".split()


def test_every_statement_kind_has_a_case():
    seen: set[str] = set()
    guarded: set[str] = set()
    for case in CASES:
        _, tree = T.parse(case.source)
        for node in T.walk(tree):
            seen.add(type(node).__name__)
            if isinstance(node, T.match_case) and node.guard is not None:
                guarded.add("guard")
    missing = [name for name in _COVERED if name not in seen]
    assert not missing, f"no case uses {missing}"
    assert guarded, "no match case with a guard"
    assert all(hasattr(T, name) for name in _COVERED)


def test_else_clauses_have_cases():
    found = set()
    for case in CASES:
        _, tree = T.parse(case.source)
        for node in T.walk(tree):
            if isinstance(node, (T.For, T.AsyncFor, T.While)) and node.orelse:
                found.add(type(node).__name__)
            if isinstance(node, T.Try) and node.orelse:
                found.add("try-else")
            if isinstance(node, T.Try) and node.finalbody:
                found.add("try-finally")
    assert found >= {"For", "AsyncFor", "While", "try-else", "try-finally"}


# ---- the harness compares exactly


def _case(source: str, tmp_path: Path, prose: str = "") -> Case:
    path = tmp_path / "probe.md"
    path.write_text(f"# probe\n\n## the case\n{prose}\n```py\n{source}```\n", encoding="utf-8")
    (case,) = load_file(path)
    return case


SOURCE = "def f(c):\n    if c:\n        x = 1\n    return x{tag}\n"


def test_a_wrong_verdict_is_a_missing_and_an_unexpected_use(tmp_path):
    assert mismatches(_case(SOURCE.format(tag="  # E: maybe x"), tmp_path)) == []
    problems = mismatches(_case(SOURCE.format(tag="  # E: unbound x"), tmp_path))
    assert len(problems) == 2
    assert any("missing use line 4: unbound x" in p for p in problems)
    assert any("unexpected use line 4: maybe x" in p for p in problems)


def test_a_report_on_a_line_without_expectation_fails(tmp_path):
    problems = mismatches(_case(SOURCE.format(tag=""), tmp_path))
    assert len(problems) == 1 and "unexpected use line 4: maybe x" in problems[0]


def test_returns_are_compared_when_tagged_or_asked(tmp_path):
    assert mismatches(_case(SOURCE.format(tag="  # E: maybe x  # R: ?"), tmp_path)) == []
    problems = mismatches(_case(SOURCE.format(tag="  # E: maybe x  # R: 2"), tmp_path))
    assert any("missing return line 4: 2" in p for p in problems)
    asked = _case("def f():\n    pass\n", tmp_path, prose="\nchecks: returns\n")
    assert any("unexpected return line 2: end" in p for p in mismatches(asked))


def test_xfail_and_format_errors(tmp_path):
    case = _case(SOURCE.format(tag="  # E: maybe x"), tmp_path, prose="\nxfail: a reason long enough\n")
    assert case.xfail == "a reason long enough"
    with pytest.raises(CaseFormatError):
        _case(SOURCE.format(tag="  # E: maybe"), tmp_path)
    with pytest.raises(CaseFormatError):
        _case(SOURCE.format(tag="  # R: two"), tmp_path)
