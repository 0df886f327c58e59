"""Under torch.compile the checks stay out of the graph: no graph break, no report."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
peft = pytest.importorskip("peft")

import analyzer.runtime as rt  # noqa: E402


def test_watched_model_compiles_without_graph_breaks():
    torch.manual_seed(0)
    base = torch.nn.Sequential(torch.nn.Linear(16, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4))
    model = peft.get_peft_model(base, peft.LoraConfig(r=4, target_modules=["0", "2"]))
    try:
        with rt.checking("raise"):
            assert rt.watch_model(model) == 2
            explained = torch._dynamo.explain(model)(torch.randn(2, 16))
            assert explained.graph_break_count == 0
            compiled = torch.compile(model, backend="eager")
            assert compiled(torch.randn(3, 16)).shape == (3, 4)
            assert rt.reports() == []
    finally:
        torch._dynamo.reset()


def test_default_watching_and_an_in_place_helper_compile_without_graph_breaks(tmp_path, monkeypatch):
    import lora_helpers
    import tiny_llama

    model = tiny_llama.build(hidden=32, layers=1, targets=("q_proj", "v_proj"))
    proj = tiny_llama.lora_layers(model)[0]

    def step(x):
        W, quant_state, A, B, s, bias = lora_helpers.get_lora_parameters_fixed(proj)
        return x @ W.t() + s * ((x @ A.t()) @ B.t())

    try:
        with rt.checking("raise", defaults=True, roots=[str(lora_helpers.__file__).rsplit("/", 1)[0]], script=""):
            assert len(proj._forward_pre_hooks) == 1  # found among the live PEFT models
            assert hasattr(lora_helpers.get_lora_parameters_fixed, "__lora_lint_watched__")
            explained = torch._dynamo.explain(step)(torch.randn(3, 32))
            assert explained.graph_break_count == 0, explained.break_reasons
            compiled = torch.compile(step, backend="eager")
            assert compiled(torch.randn(3, 32)).shape == (3, 32)
            assert rt.reports() == []
    finally:
        torch._dynamo.reset()
