"""An internal error (a bug in the flow analysis, a rule or the project index) surfaces as an LL000
naming the file and the part that failed, through the real command line; the run goes on and the
other files' findings are still reported; exit code 2."""

from __future__ import annotations

import pytest

from analyzer import engine
from analyzer import tree as T
from analyzer.rules.base import Rule
from tests.reliability.cli_helpers import lint


@pytest.fixture
def project(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "seed.py").write_text("def f():\n    return undefined_seed\n", encoding="utf-8")
    (tmp_path / "boom.py").write_text("x = 1\n\n\ndef g():\n    return undefined_boom\n", encoding="utf-8")
    return tmp_path


class _Exploding(Rule):
    """Fails on boom.py only."""

    code = "LL101"
    name = "exploding"
    summary = "test double"
    error: type[BaseException] = RuntimeError

    def check(self, ctx):
        if ctx.path.endswith("boom.py"):
            raise self.error("kaboom")
        return ()


def _with_rule(monkeypatch, rule_cls):
    real = engine.rules_for
    monkeypatch.setattr(engine, "rules_for", lambda selection: [*real(selection), rule_cls()])


def _assert_run_went_on(run):
    assert [(ln, c, k) for ln, c, k, _ in run.at("seed.py")] == [(2, 12, "LL201")]
    run.assert_no_traceback()
    assert run.code == 2


def test_a_rule_that_raises(project, capsys, monkeypatch):
    _with_rule(monkeypatch, _Exploding)
    run = lint(capsys, project)
    found = run.at("boom.py")
    assert (1, 1, "LL000", "internal error in LL101: RuntimeError: kaboom") in found
    # the other rules still ran on the same file
    assert any(c == "LL201" and "undefined_boom" in m for _, _, c, m in found)
    _assert_run_went_on(run)


def test_a_rule_that_overflows_the_stack_is_located(project, capsys, monkeypatch):
    class Deep(_Exploding):
        error = RecursionError

    _with_rule(monkeypatch, Deep)
    run = lint(capsys, project)
    ll000 = [f for f in run.at("boom.py") if f[2] == "LL000"]
    # at the most deeply nested node, not 1:1
    assert len(ll000) == 1 and ll000[0][:2] == (5, 12) and "LL101" in ll000[0][3] and "nested" in ll000[0][3]
    _assert_run_went_on(run)


def test_the_flow_analysis_raising(project, capsys, monkeypatch):
    real = engine.analyze_module

    def flaky(tree, builtins=None, run_facts=None):
        if any(getattr(n, "id", None) == "undefined_boom" for n in T.walk(tree)):
            raise KeyError("no such scope")
        return real(tree, builtins, run_facts)

    monkeypatch.setattr(engine, "analyze_module", flaky)
    run = lint(capsys, project)
    assert run.at("boom.py") == [(1, 1, "LL000", "internal error in the flow analysis: KeyError: 'no such scope'")]
    _assert_run_went_on(run)


def test_the_project_index_raising(project, capsys, monkeypatch):
    def broken(summaries):
        raise ValueError("index broke")

    monkeypatch.setattr(engine, "ProjectIndex", broken)
    run = lint(capsys, project)
    ll000 = [f for f in run.findings if f["code"] == "LL000"]
    assert len(ll000) == 1 and "cross-file rules skipped" in ll000[0]["message"]
    assert "index broke" in ll000[0]["message"]
    # per-file findings stand
    assert any(c == "LL201" for _, _, c, _ in run.at("boom.py"))
    _assert_run_went_on(run)
