"""The pytest plugin (through a real pytest subprocess) and the transformers TrainerCallback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import analyzer.runtime as rt  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def test_pytest_flag_turns_the_tracer_on(tmp_path):
    (tmp_path / "test_inner.py").write_text(
        "import analyzer.runtime as rt\n\n"
        "def test_mode():\n    assert rt.current_mode() == 'raise'\n\n"
        "def test_violation_raises():\n"
        "    def f(x):\n        if x:\n            return 1, 2\n        return 1, 2, 3\n"
        "    g = rt.watch(f)\n"
        "    try:\n        g(True)\n    except rt.RuntimeViolation as e:\n        assert 'returned 2 values' in str(e)\n"
        "    else:\n        raise AssertionError('no violation')\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--lora-runtime=raise",
                           str(tmp_path / "test_inner.py")], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 passed" in proc.stdout


def test_trainer_callback_watches_and_releases():
    from peft import LoraConfig, get_peft_model

    from analyzer.runtime.hf import LoraLintCallback

    base = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    model = get_peft_model(base, LoraConfig(r=2, target_modules=["0", "2"]))
    cb = LoraLintCallback("raise")
    cb.on_train_begin(None, None, "control", model=model)
    try:
        assert cb.layers == 2 and rt.current_mode() == "raise"
        model(torch.randn(3, 8))
        assert rt.reports() == []
    finally:
        cb.on_train_end(None, None, "control")
    assert rt.current_mode() == "off"
    assert not model.base_model.model[0]._forward_hooks
