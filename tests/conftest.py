"""The quick subset: `python -m pytest -m "not slow"` leaves out the tests listed here.

They are marked by node id here, in one place, rather than in each file: the list is the result of
measuring (`python -m pytest --durations=0`, 2 cores), and a test that takes seconds is usually slow
for a reason that belongs to the whole module (subprocesses, real installed packages, fuzzing,
training loops). CI (`.ci/run`) runs everything. tests/frontends/test_quick_subset.py checks that
every entry still names a test.
"""

from __future__ import annotations

import pytest

# node ids or their prefixes: a file marks all of its tests, `file::test` one test (every parameter)
SLOW = (
    "tests/real_code/test_site_packages.py",  # lints all of installed peft and transformers
    "tests/reliability/test_fuzz.py",
    "tests/reliability/test_hostile_input.py::test_ten_megabyte_file_is_linted_to_the_end",
    "tests/runtime/test_launcher.py",  # python -m analyzer.runtime subprocesses importing torch
    "tests/runtime/test_integrations.py",
    "tests/runtime/test_distributed.py",
    "tests/runtime/test_compile.py",
    "tests/runtime/test_probe.py",  # held-out bug probes, each in fresh interpreters
    "tests/runtime/test_order_proof.py::test_launcher_checks_the_scripts_own_functions",
    "tests/runtime/test_lora_layers.py::test_no_tensor_is_retained",
    "tests/runtime/test_lora_layers.py::test_sampling_checks_the_first_calls_then_every_nth",
    "tests/runtime/test_without_torch.py::test_static_parts_work_and_runtime_says_why",
    "tests/runtime/test_watch.py::test_warn_mode_warns_once_goes_on_and_counts",
    "tests/runtime/test_watch.py::test_seed_bug_raises_at_the_first_disabled_adapter_call_with_the_static_lines",
    "tests/runtime/test_watch.py::test_log_mode_writes_one_jsonl_line_per_site_and_totals",
    "tests/runtime/test_watch.py::test_clean_helper_and_model_report_nothing",
    "tests/kernels/test_function.py::test_rank_above_one_rank_block_and_more_than_one_tile",
    "tests/kernels/test_training.py",
    "tests/kernels/test_patch.py::test_report_says_torch_fallback_when_triton_cannot_run",
    "tests/kernels/test_patch.py::test_readme_patcher_example_prints_what_the_readme_says",
    "tests/frontends/test_precommit.py",  # git repositories and real pre-commit runs
    "tests/flow/test_long_functions.py",  # 600-line functions past the path budget, re-run on slices
    "tests/frontends/test_fixit.py",  # a virtualenv with Fixit (pip install), real fixit runs
    "tests/frontends/test_flake8_plugin.py::test_default_off_rule_uses_flakes_default_ignore",
    "tests/frontends/test_flake8_plugin.py::test_same_findings_as_lora_lint_on_every_fixture",
    "tests/frontends/test_speed.py::test_two_runs_sharing_a_cache_at_once",
    "tests/frontends/test_flake8_plugin.py::test_select_and_extend_ignore",
    # several CLI subprocesses each; the in-process CLI tests stay in the quick subset
    "tests/frontends/test_cli_habits.py::test_summary_line_on_a_terminal_only",
    "tests/frontends/test_cli_habits.py::test_diff_exits_1_while_fixes_are_pending",
    "tests/frontends/test_cli_habits.py::test_every_format_names_a_file_the_same_way",
    "tests/frontends/test_cli_habits.py::test_an_excluded_file_named_is_linted_unless_force_exclude",
    "tests/frontends/test_adoption.py::test_baseline_counts_repeats_and_notices_fixed_findings",
    "tests/frontends/test_adoption.py::test_add_noqa_silences_every_finding_and_is_idempotent",
    "tests/frontends/test_adoption.py::test_add_noqa_never_writes_inside_a_string_and_goes_where_flake8_honours_it",
)


def is_slow(nodeid: str) -> bool:
    return any(nodeid == s or nodeid.startswith((s + "::", s + "[")) for s in SLOW)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if is_slow(item.nodeid):
            item.add_marker(pytest.mark.slow)
