"""The default watching on real PEFT models: layers of models built before enable() (found among
live PEFT tuners) and after it (through PEFT's adapter injection), the user's return-tuple
helpers chosen by the static pass, the one line saying so, and nothing left behind."""

from __future__ import annotations

import sys

import pytest

from tests.runtime.conftest import FIXTURES

torch = pytest.importorskip("torch")
peft = pytest.importorskip("peft")
pytest.importorskip("transformers")

import analyzer.runtime as rt  # noqa: E402


def test_models_before_and_after_enable_and_helpers_are_watched(capsys):
    import lora_helpers
    import tiny_llama

    before = tiny_llama.build(targets=("q_proj", "v_proj"))  # 4 LoRA layers
    inject = peft.tuners.tuners_utils.BaseTuner.inject_adapter
    rt.enable("raise", roots=[str(FIXTURES)], script="")
    counts = dict(rt.state.STATE.counts)
    # (earlier tests' models not yet collected may be found as well: they are live PEFT tuners too)
    assert all(len(layer._forward_pre_hooks) == 1 for layer in tiny_llama.lora_layers(before))
    assert hasattr(lora_helpers.get_lora_parameters_bias, "__lora_lint_watched__")
    assert hasattr(lora_helpers.get_lora_parameters_fixed, "__lora_lint_watched__")
    after = tiny_llama.build(targets=("q_proj", "k_proj", "v_proj", "o_proj"))  # 8 more, via inject_adapter
    assert rt.state.STATE.counts["layers"] == counts["layers"] + 8
    tiny_llama.use_fast_path(after, getter="get_lora_parameters_bias")
    with pytest.raises(rt.RuntimeViolation, match="^get_lora_parameters_bias returned 5 values on call 5"):
        tiny_llama.train(after, steps=2, reference_at=(1,))
    assert capsys.readouterr().err.splitlines()[0] == (
        f"lora-lint runtime: watching {counts['layers'] + 8} LoRA layers and {counts['helpers']} helpers (raise)")
    rt.disable()
    assert peft.tuners.tuners_utils.BaseTuner.inject_adapter is inject
    assert not hasattr(lora_helpers.get_lora_parameters_fixed, "__lora_lint_watched__")
    layer = tiny_llama.lora_layers(before)[0]
    assert not layer._forward_pre_hooks and not layer._forward_hooks


def test_explicit_watch_model_and_defaults_hook_each_layer_once():
    import tiny_llama

    model = tiny_llama.build(targets=("q_proj",))
    with rt.checking("raise", defaults=True, roots=[str(FIXTURES)], script=""):
        assert rt.watch_model(model) == 2
        layer = tiny_llama.lora_layers(model, suffixes=("q_proj",))[0]
        assert len(layer._forward_pre_hooks) == 1


def test_code_outside_the_roots_is_not_chosen(tmp_path):
    (tmp_path / "elsewhere.py").write_text("def pair():\n    return 1, 2\n")
    sys.path.insert(0, str(tmp_path))
    try:
        import elsewhere

        with rt.checking("raise", defaults=True, roots=[str(FIXTURES)], script=""):
            assert not hasattr(elsewhere.pair, "__lora_lint_watched__")
        with rt.checking("raise", defaults=True, roots=[str(tmp_path)], script=""):
            assert hasattr(elsewhere.pair, "__lora_lint_watched__")
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("elsewhere", None)
