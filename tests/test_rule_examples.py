"""Tests generated from every rule's VALID / INVALID examples (the same examples the docs show)."""

from __future__ import annotations

import pytest

from analyzer.engine import lint_source
from analyzer.selection import Selection
from analyzer.rules import ALL_RULES

VALID = [(r.code, i, src) for r in ALL_RULES for i, src in enumerate(r.VALID)]
INVALID = [(r.code, i, ex) for r in ALL_RULES for i, ex in enumerate(r.INVALID)]


def _ids(cases):
    return [f"{code}-{i}" for code, i, _ in cases]


@pytest.mark.parametrize("code,index,source", VALID, ids=_ids(VALID))
def test_valid_example_has_no_finding(code, index, source):
    found = lint_source(source, "example.py", Selection(select=(code,)))
    assert found == [], [f"{d.line}:{d.column} {d.message}" for d in found]


@pytest.mark.parametrize("code,index,example", INVALID, ids=_ids(INVALID))
def test_invalid_example_is_pinned(code, index, example):
    found = lint_source(example.source, "example.py", Selection(select=(code,)))
    got = [(d.code, d.line, d.column, d.message) for d in found]
    assert got == [(code, example.line, example.column, example.message)]


@pytest.mark.parametrize("rule", ALL_RULES, ids=[r.code for r in ALL_RULES])
def test_rule_is_documented(rule):
    doc = rule.__doc__ or ""
    for section in ("## What it does", "## Why is this bad?", "## Example"):
        assert section in doc, f"{rule.code} docstring lacks {section!r}"
    assert rule.INVALID, f"{rule.code} has no invalid example"
    assert rule.VALID, f"{rule.code} has no valid example"


FIXED = [(code, i, ex) for code, i, ex in INVALID if ex.fixed is not None]


@pytest.mark.parametrize("code,index,example", FIXED, ids=_ids(FIXED))
def test_fix_gives_the_pinned_source_and_is_idempotent(code, index, example):
    from analyzer.fixes import apply_fixes, select_fixes

    found = lint_source(example.source, "example.py", Selection(select=(code,)))
    fixed = apply_fixes(example.source, select_fixes(found, unsafe=True)).text
    assert fixed == example.fixed
    again = lint_source(fixed, "example.py", Selection(select=(code,)))
    assert [d for d in again if d.fix is not None] == []
