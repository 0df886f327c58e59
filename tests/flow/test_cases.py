"""One test per case of `tests/flow/cases/*.md` (format: `tests/flow/harness.py`)."""

from __future__ import annotations

import pytest

from tests.flow.harness import CASES_DIR, load_cases, mismatches

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
    assert {p.stem for p in CASES_DIR.glob("*.md")} == {c.file.rsplit(".", 1)[0] for c in CASES}
