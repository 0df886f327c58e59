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
