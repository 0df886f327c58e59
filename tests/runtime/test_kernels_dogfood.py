"""Dogfood: the tracer watches a PEFT model patched with the reference kernels during training and
reports nothing, while the fused path really runs."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
peft = pytest.importorskip("peft")

import analyzer.runtime as rt  # noqa: E402
import reference_kernels as rk  # noqa: E402


def test_patched_model_trains_clean_under_the_tracer():
    torch.manual_seed(0)
    base = torch.nn.Sequential(torch.nn.Linear(24, 24), torch.nn.ReLU(), torch.nn.Linear(24, 6))
    model = peft.get_peft_model(base, peft.LoraConfig(r=4, target_modules=["0", "2"], init_lora_weights=False))
    report = rk.patch_peft_model(model, backend="torch")
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01)
    try:
        with rt.checking("raise"):
            assert rt.watch_model(model) == 2
            rt.watch_function_class(rk.LoraLinearFunction)
            getter = rt.watch(rk.get_lora_parameters)
            for step in range(6):
                x = torch.randn(5, 3, 24)
                getter(model.base_model.model[0])
                if step == 3:
                    with model.disable_adapter():
                        model(x)
                loss = model(x).pow(2).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
            assert rt.reports() == []
        assert report.fused_count > 0 and report.fallback_count == 0, report.stats
    finally:
        rk.unpatch_peft_model(model)
