"""The slow-test list of tests/conftest.py stays true to the test files it names."""

from __future__ import annotations

import ast

from tests.conftest import SLOW, is_slow
from tests.frontends.conftest import REPO


def test_every_slow_entry_names_an_existing_test():
    stale = []
    for entry in SLOW:
        path, _, test = entry.partition("::")
        file = REPO / path
        if not file.is_file():
            stale.append(entry)
            continue
        names = {n.name for n in ast.walk(ast.parse(file.read_text(encoding="utf-8")))
                 if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        if test and test.split("[")[0] not in names:
            stale.append(entry)
    assert stale == [], "tests/conftest.py SLOW names tests that no longer exist"


def test_prefixes_match_whole_names_only():
    assert is_slow("tests/frontends/test_precommit.py::test_hook_only_sees_the_files_passed")
    assert is_slow("tests/reliability/test_fuzz.py::test_function_programs")
    assert is_slow("tests/frontends/test_speed.py::test_two_runs_sharing_a_cache_at_once")
    assert not is_slow("tests/frontends/test_speed.py::test_two_runs_sharing_a_cache_at_once_more")
    assert not is_slow("tests/frontends/test_config.py::test_jobs_and_cache_dir_from_the_file")
