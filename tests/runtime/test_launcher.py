"""`python -m analyzer.runtime script.py args`, end to end in a subprocess: run as `python
script.py` would be, exit status kept, a violation in `raise` mode ends the run."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.runtime.conftest import FIXTURES, ROOT, helper_line

pytest.importorskip("torch")
pytest.importorskip("peft")
pytest.importorskip("transformers")


def _launch(*args: str, cwd=ROOT) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    env.pop("LORA_LINT_RUNTIME", None)
    return subprocess.run([sys.executable, "-m", "analyzer.runtime", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_script_runs_as_main_with_its_args_folder_and_exit_status():
    # run from the repository root: the script's own folder must still come first on sys.path
    proc = _launch("--mode", "raise", "--watch", "lora_helpers:get_lora_parameters_fixed",
                   str(FIXTURES / "train_script.py"), "3", "get_lora_parameters_fixed")
    assert proc.returncode == 3, proc.stderr
    assert "name __main__ argv ['3', 'get_lora_parameters_fixed'] path0 runtime" in proc.stdout


def test_raise_mode_ends_the_run_at_the_violation():
    proc = _launch("--mode", "raise", "--watch", "lora_helpers:get_lora_parameters_bias",
                   "train_script.py", "0", "get_lora_parameters_bias", cwd=FIXTURES)
    assert proc.returncode == 1
    lines = (helper_line("get_lora_parameters_bias", "return W, quant_state, None, None, None, base_layer.bias"),
             helper_line("get_lora_parameters_bias", "return W, quant_state, A, B, proj.scaling"))
    # step 0 ran 4 fast-path calls clean; step 1's reference forward makes call 5
    assert (f"analyzer.runtime.report.RuntimeViolation: get_lora_parameters_bias returned 5 values on call 5; "
            f"its returns at lines {lines[0]} and {lines[1]} produce 6") in proc.stderr
    assert "name __main__" not in proc.stdout


def test_bad_arguments_exit_2_with_the_reason():
    missing = _launch("no_such_script.py")
    assert missing.returncode == 2 and "can't open file 'no_such_script.py'" in missing.stderr
    bad_watch = _launch("--watch", "lora_helpers:nope", "train_script.py", cwd=FIXTURES)
    assert bad_watch.returncode == 2 and "lora_helpers has no function 'nope'" in bad_watch.stderr


def test_string_exit_keeps_its_message(tmp_path):
    script = tmp_path / "bye.py"
    script.write_text("import sys\nsys.exit('bye: ' + ' '.join(sys.argv[1:]))\n")
    proc = _launch("--mode", "warn", str(script), "a", "b")
    # the tracer's one line (nothing was built or called, so it watched nothing), then the script's
    assert (proc.returncode, proc.stderr.strip()) == (
        1, "lora-lint runtime: watching 0 LoRA layers and 0 helpers (warn)\nbye: a b")
