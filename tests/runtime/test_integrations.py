"""The pytest plugin (a real pytest in a subprocess) and the transformers TrainerCallback (a real
Trainer on the tiny PEFT Llama)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.runtime.conftest import FIXTURES, ROOT

torch = pytest.importorskip("torch")
pytest.importorskip("peft")
transformers = pytest.importorskip("transformers")

import analyzer.runtime as rt  # noqa: E402

INNER = '''
import pytest
import analyzer.runtime as rt
import lora_helpers


def test_mode():
    assert rt.current_mode() == "raise"


def test_watched_helper_is_wrapped():
    assert hasattr(lora_helpers.get_lora_parameters_bias, "__lora_lint_watched__")


def test_seed_bug_fails_the_test():
    import tiny_llama

    model = tiny_llama.build()
    tiny_llama.use_fast_path(model, getter="get_lora_parameters_bias")
    tiny_llama.train(model, steps=2, reference_at=(1,))
'''


def _pytest(tmp_path, *args: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_inner.py").write_text(INNER)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(FIXTURES)]), OMP_NUM_THREADS="1")
    env.pop("LORA_LINT_RUNTIME", None)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args, "test_inner.py"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_pytest_flag_runs_the_session_in_that_mode(tmp_path):
    proc = _pytest(tmp_path, "--lora-runtime=raise", "--lora-runtime-watch", "lora_helpers:get_lora_parameters_bias")
    assert "lora-lint runtime: raise" in proc.stdout
    assert "2 passed, 1 failed" in proc.stdout.replace("1 failed, 2 passed", "2 passed, 1 failed"), proc.stdout
    assert "RuntimeViolation: get_lora_parameters_bias returned 5 values on call 5" in proc.stdout


def test_without_the_flag_the_plugin_does_nothing(tmp_path):
    proc = _pytest(tmp_path, "-k", "watched_helper")
    assert "lora-lint runtime" not in proc.stdout and "1 failed" in proc.stdout  # nothing was wrapped
    bad = _pytest(tmp_path, "--lora-runtime=raise", "--lora-runtime-watch", "lora_helpers:nope")
    assert bad.returncode == 4 and "--lora-runtime: lora-lint: lora_helpers has no function 'nope'" in bad.stderr


def test_trainer_callback_watches_the_model_for_the_run(tmp_path):
    import tiny_llama
    from torch.utils.data import Dataset

    from analyzer.runtime.hf import LoraLintCallback

    class Tokens(Dataset):
        def __len__(self):
            return 8

        def __getitem__(self, i):
            ids = torch.randint(0, 128, (8,), generator=torch.Generator().manual_seed(i))
            return {"input_ids": ids, "labels": ids}

    model = tiny_llama.build()
    seen = {}

    class Spy(transformers.TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            layer = tiny_llama.lora_layers(model)[0]
            seen["hooks"] = len(layer._forward_pre_hooks)
            seen["mode"] = rt.current_mode()

    callback = LoraLintCallback("raise")
    args = transformers.TrainingArguments(output_dir=str(tmp_path), max_steps=2, per_device_train_batch_size=4,
                                          report_to=[], save_strategy="no", use_cpu=True, logging_strategy="no")
    trainer = transformers.Trainer(model=model, args=args, train_dataset=Tokens(), callbacks=[callback, Spy()])
    trainer.train()
    assert callback.layers == 8 and seen == {"hooks": 1, "mode": "raise"}
    assert rt.current_mode() == "off"
    assert not tiny_llama.lora_layers(model)[0]._forward_pre_hooks


BESIDE_HELPER = '''
import torch

FLAG = True


def get_pair(w, disabled):
    if disabled:
        return w, FLAG
    return w, w.grad
'''

BESIDE_TEST = '''
import torch
from helpers_beside import get_pair


def test_clean_path():
    w = torch.ones(2)
    assert get_pair(w, False)[1] is None


def test_stale_flag():
    w = torch.ones(2)
    get_pair(w, False)
    get_pair(w, True)
'''


@pytest.mark.parametrize("runner", ["pytest", "python -m pytest"])
@pytest.mark.parametrize("watch", [[], ["--lora-runtime-watch", "helpers_beside:get_pair"]])
def test_plugin_finds_modules_beside_the_tests_under_both_runners(tmp_path, runner, watch):
    (tmp_path / "helpers_beside.py").write_text(BESIDE_HELPER)
    (tmp_path / "test_beside.py").write_text(BESIDE_TEST)
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    env.pop("LORA_LINT_RUNTIME", None)
    command = ([str(Path(sys.executable).parent / "pytest")] if runner == "pytest"
               else [sys.executable, "-m", "pytest"])
    proc = subprocess.run([*command, "-p", "no:cacheprovider", "--lora-runtime=raise", *watch, "test_beside.py"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert "1 passed, 1 failed" in proc.stdout.replace("1 failed, 1 passed", "1 passed, 1 failed"), proc.stdout[-3000:]
    assert ("RuntimeViolation: get_pair returned a bool (True) in slot 1 on call 3; earlier calls returned None "
            "(from call 1) there") in proc.stdout
    # pytest shows the test's call last: lora-lint's own frames are hidden
    failure = proc.stdout[proc.stdout.index("test_stale_flag"):]
    assert "analyzer/runtime" not in failure and "get_pair(w, True)" in failure
