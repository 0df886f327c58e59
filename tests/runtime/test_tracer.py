"""The runtime tracer on real parts: a tiny PEFT LoRA model trained on CPU, real autograd."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
import warnings
import weakref
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
peft = pytest.importorskip("peft")

import analyzer.runtime as rt  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures" / "runtime"
sys.path.insert(0, str(FIXTURES))
import lora_helpers  # noqa: E402


@pytest.fixture(autouse=True)
def _off_after():
    yield
    rt.disable()


def _model():
    torch.manual_seed(0)
    base = torch.nn.Sequential(torch.nn.Linear(32, 32), torch.nn.ReLU(), torch.nn.Linear(32, 8))
    cfg = peft.LoraConfig(r=4, target_modules=["0", "2"], init_lora_weights=False)
    return peft.get_peft_model(base, cfg)


def _train(model, getter, steps=5, disabled_at=(2,), unpack=True):
    layer = model.base_model.model[0]

    def call(x):
        if unpack:
            lora_helpers.lora_forward(layer, x, getter)
        else:
            getter(layer)  # a caller that does not unpack: the run goes on after a warning

    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01)
    for step in range(steps):
        x = torch.randn(4, 32)
        if step in disabled_at:
            with model.disable_adapter():
                call(x)
        else:
            call(x)
        loss = model(x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


def _line_of(func_name: str, needle: str) -> int:
    lines = (FIXTURES / "lora_helpers.py").read_text().splitlines()
    start = next(i for i, t in enumerate(lines) if t.startswith(f"def {func_name}("))
    return next(i for i in range(start, len(lines)) if needle in lines[i]) + 1


def test_seed_bug_raises_at_first_disabled_call_with_static_lines():
    model = _model()
    with rt.checking("raise"):
        rt.watch_model(model)
        getter = rt.watch(lora_helpers.get_lora_parameters_bias)
        with pytest.raises(rt.RuntimeViolation) as err:
            _train(model, getter)
    line6 = _line_of("get_lora_parameters_bias", "return W, None, A, B")
    assert str(err.value) == (f"get_lora_parameters_bias returned 5 values on call 3; "
                              f"its returns at line {line6} produce 6")


def test_warn_mode_warns_once_and_counts():
    model = _model()
    with rt.checking("warn"):
        getter = rt.watch(lora_helpers.get_lora_parameters_bias)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            _train(model, getter, steps=6, disabled_at=(1, 3, 5), unpack=False)
        ours = [w for w in caught if "lora-lint" in str(w.message)]
        assert len(ours) == 1 and "returned 5 values on call 2" in str(ours[0].message)
        assert rt.reports()[0]["count"] == 3


def test_clean_helper_and_model_report_nothing():
    model = _model()
    with rt.checking("raise"):
        assert rt.watch_model(model) == 2
        getter = rt.watch(lora_helpers.get_lora_parameters_fixed)
        _train(model, getter, steps=4, disabled_at=(1,))
        assert rt.reports() == []


def test_lora_layer_shape_and_dtype_checks():
    model = _model()
    layer = model.base_model.model[0]
    with torch.no_grad():
        layer.lora_B["default"].weight = torch.nn.Parameter(torch.zeros(32, 5))  # r mismatch
    with rt.checking("warn"):
        rt.watch_model(model)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                model(torch.randn(2, 32))
            except RuntimeError:
                pass  # the matmul itself fails after the hook-less lora path; the check ran before
        layer.scaling["default"] = float("nan")
        layer.lora_B["default"].weight = torch.nn.Parameter(torch.zeros(32, 4, dtype=torch.float64))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                model(torch.randn(2, 32))
            except RuntimeError:
                pass
    messages = " | ".join(r["message"] for r in rt.reports())
    assert "scaling['default'] is nan" in messages
    assert "lora_A['default'] is torch.float32 but lora_B is torch.float64" in messages


def test_autograd_function_grad_count_and_shape():
    class Scale(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, w):
            return x * w

        @staticmethod
        def backward(ctx, g):
            return g  # one gradient for two inputs

    with rt.checking("raise"):
        rt.watch_function_class(Scale)
        x = torch.randn(3, requires_grad=True)
        w = torch.randn(3, requires_grad=True)
        with pytest.raises(rt.RuntimeViolation, match="returned 1 gradients for 2 forward inputs"):
            Scale.apply(x, w).sum().backward()


def test_identity_exceptions_and_restore():
    sentinel = (object(), object())

    def f(flag):
        if flag:
            raise KeyError("boom")
        return sentinel

    original = lora_helpers.lora_forward
    with rt.checking("raise"):
        g = rt.watch(f)
        assert g(False) is sentinel
        with pytest.raises(KeyError, match="boom"):
            g(True)
        rt.watch("lora_helpers:lora_forward")
        assert lora_helpers.lora_forward is not original
    assert lora_helpers.lora_forward is original


def test_no_tensor_is_retained():
    model = _model()
    with rt.checking("raise"):
        rt.watch_model(model)
        x = torch.randn(4, 32)
        ref = weakref.ref(x)
        for _ in range(50):
            model(x)
        del x
        gc.collect()
        assert ref() is None


def test_thread_safe_counting():
    calls = []

    def f():
        return 1, 2

    with rt.checking("raise"):
        g = rt.watch(f)
        threads = [threading.Thread(target=lambda: [calls.append(g()) for _ in range(500)]) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(calls) == 4000 and rt.reports() == []


def test_env_var_read_when_enabled_not_at_import(monkeypatch):
    monkeypatch.setenv("LORA_LINT_RUNTIME", "log")
    assert rt.current_mode() == "off"
    assert rt.enable() == "log"
    monkeypatch.setenv("LORA_LINT_RUNTIME", "bogus")
    with pytest.raises(ValueError, match="must be one of"):
        rt.enable()


def test_rank_prefix_from_environment(monkeypatch):
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")

    def f(x):
        if x:
            return 1, 2
        return 1, 2, 3  # noqa: LL101 (the mismatch under test)

    with rt.checking("raise"):
        g = rt.watch(f)
        with pytest.raises(rt.RuntimeViolation, match=r"^\[rank 1/2\] "):
            g(True)


def _launch(*args, env_extra=None):
    env = dict(os.environ)
    env.update(env_extra or {})
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "analyzer.runtime", *args], cwd=FIXTURES, env=env,
                          capture_output=True, text=True, timeout=240)


def test_launcher_runs_script_as_main_and_keeps_exit_status():
    proc = _launch("--mode", "raise", "--watch", "lora_helpers:get_lora_parameters_fixed",
                   "train_script.py", "3", "get_lora_parameters_fixed")
    assert proc.returncode == 3, proc.stderr
    assert "name __main__ argv ['3', 'get_lora_parameters_fixed']" in proc.stdout


def test_launcher_raise_mode_stops_on_violation():
    proc = _launch("--mode", "raise", "--watch", "lora_helpers:get_lora_parameters_bias",
                   "train_script.py", "0", "get_lora_parameters_bias")
    assert proc.returncode != 0
    assert "get_lora_parameters_bias returned 5 values on call 1" in proc.stderr
