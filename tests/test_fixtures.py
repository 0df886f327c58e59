"""Data-driven: every `# LLnnn:col` comment in fixtures/ is a finding the linter must report at that
line and column, and the linter must report nothing else there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analyzer.engine import lint_sources

ROOT = Path(__file__).resolve().parent.parent / "fixtures"
FILES = sorted(p for sub in ("bugs", "clean") for p in (ROOT / sub).rglob("*.py"))
_EXPECT = re.compile(r"\b(LL\d{3}):(\d+)\b")


def expected(path: Path) -> set[tuple[str, int, int]]:
    out = set()
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if "#" not in line:
            continue
        comment = line[line.index("#"):]
        for code, col in _EXPECT.findall(comment):
            out.add((code, lineno, int(col)))
    return out


@pytest.fixture(scope="module")
def findings() -> dict[str, set[tuple[str, int, int]]]:
    """All fixtures linted as one project, as the CLI does (cross-file rules included)."""
    out: dict[str, set[tuple[str, int, int]]] = {str(p): set() for p in FILES}
    for d in lint_sources([(str(p), p.read_bytes()) for p in FILES]):
        out[d.path].add((d.code, d.line, d.column))
    return out


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_fixture_findings_match_comments(path: Path, findings):
    assert findings[str(path)] == expected(path)


def test_bug_fixtures_all_have_expectations():
    for entry in sorted((ROOT / "bugs").iterdir()):
        files = [entry] if entry.is_file() else sorted(entry.rglob("*.py"))
        assert any(expected(p) for p in files), f"{entry.name} is a bug fixture without an expected finding"


def test_clean_fixtures_expect_nothing():
    for path in (ROOT / "clean").rglob("*.py"):
        assert not expected(path), f"{path.name} is a clean fixture but expects findings"
