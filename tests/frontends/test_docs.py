"""The rule docs are generated from the rule classes: the page in the repo must be current, and
`--explain` prints the same text."""

from __future__ import annotations

import io

from analyzer.frontends.cli import run
from analyzer.frontends.docs import readme_with_table, rule_markdown, rules_page
from analyzer.rules import ALL_RULES
from tests.frontends.conftest import REPO


def test_docs_page_is_current():
    page = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    assert page == rules_page(), "docs/rules.md is stale: run `python -m analyzer.frontends.docs --write`"


def test_readme_rule_table_is_current():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert readme == readme_with_table(readme), "README's rule table is stale: run `python -m analyzer.frontends.docs --write`"
    for rule in ALL_RULES:
        assert f"| {rule.name} |" in readme


def test_page_has_every_rule_and_its_pinned_examples():
    page = rules_page()
    for rule in ALL_RULES:
        assert f"## {rule.code} {rule.name}" in page
        for ex in rule.INVALID:
            assert f"example.py:{ex.line}:{ex.column}: {rule.code} {ex.message}" in page


def test_explain_prints_the_rule_docs():
    out = io.StringIO()
    assert run(["--explain", "ll101"], out=out) == 0
    text = out.getvalue()
    assert text == rule_markdown(ALL_RULES[0])
    assert text.startswith("# LL101 return-shape-mismatch\n")
    for section in ("## What it does", "## Why is this bad?", "## Example", "## Use instead"):
        assert section in text


def test_explain_engine_code_and_unknown_code(capsys):
    out = io.StringIO()
    assert run(["--explain", "LL001"], out=out) == 0
    assert "syntax error" in out.getvalue()
    assert run(["--explain", "LL999"], out=io.StringIO()) == 2
    assert "LL999" in capsys.readouterr().err
