"""The GPU benchmark's correctness path and table, exercised on a tiny point here."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import torch

from .kernel_helpers import DEVICE

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "lora_kernels_gpu.py"


@pytest.fixture
def bench(monkeypatch):
    spec = importlib.util.spec_from_file_location("lora_kernels_gpu", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_check_passes_on_a_tiny_point(bench):
    for adapter_dtype in (torch.bfloat16, torch.float32):
        assert bench.check(bench.Point(k=40, n=24, r=8, m=19), torch.bfloat16, adapter_dtype, device=DEVICE) == []


def test_table_and_acceptance_format(bench, capsys):
    times = {(c, m): 1.0 + i for i, c in enumerate(bench.CONTENDERS) for m in bench.MODES}
    bench.print_table(bench.Point(k=4096, n=4096, r=16, m=8192), times)
    out = capsys.readouterr().out
    assert "fused" in out and "TFLOP/s" in out
    assert [line.split(":")[-1].strip() for line in bench.acceptance(times)] == ["MISSED", "MISSED"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only exit")
def test_exits_2_without_a_gpu(bench):
    assert bench.main(["--quick"]) == 2
