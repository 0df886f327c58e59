"""patch_peft_model / unpatch_peft_model: the report, per-call re-checks, exact restore."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from .kernel_helpers import DEVICE, lora_layers, tiny_peft
from reference_kernels import Reason, get_lora_parameters, patch_peft_model, unpatch_peft_model

UP, DOWN = "base_model.model.up", "base_model.model.down"


class Mixed(nn.Module):
    """One LoRA target of each kind the patcher must skip, and one it patches."""

    def __init__(self) -> None:
        super().__init__()
        from transformers.pytorch_utils import Conv1D

        self.emb = nn.Embedding(10, 8)
        self.conv1d = Conv1D(8, 8)  # GPT-2 style: PEFT sets fan_in_fan_out
        self.quant = nn.Linear(8, 8)
        self.hooked = nn.Linear(8, 8)
        self.plain = nn.Linear(8, 8)

    def forward(self, ids):
        h = self.conv1d(self.emb(ids))
        return self.plain(self.hooked(self.quant(h)))


def _mixed_peft():
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(0)
    base = Mixed()
    model = get_peft_model(base, LoraConfig(r=4, init_lora_weights=False, fan_in_fan_out=True,
                                            target_modules=["emb", "conv1d", "quant", "hooked", "plain"]))
    layers = dict(model.named_modules())
    # A stand-in for a bitsandbytes 4-bit weight: the kernel cannot read packed data.
    layers["base_model.model.quant.base_layer"].weight.quant_state = object()
    layers["base_model.model.hooked.base_layer"].register_forward_hook(lambda m, i, o: o)
    return model


@pytest.mark.filterwarnings("ignore:fan_in_fan_out")
def test_report_lists_patched_layers_and_reasons_for_the_rest():
    model = _mixed_peft()
    report = patch_peft_model(model)
    assert report.patched == ["base_model.model.plain"]
    assert report.skipped == {
        "base_model.model.emb": Reason.NOT_LORA_LINEAR.value,
        "base_model.model.conv1d": Reason.FAN_IN_FAN_OUT.value,
        "base_model.model.quant": Reason.QUANTIZED_WEIGHT.value,
        "base_model.model.hooked": Reason.UNSUPPORTED_BASE_LAYER.value,
    }
    model(torch.tensor([[1, 2, 3]]))
    assert report.fused_count == 1 and report.fallback_count == 0


def test_eligibility_is_rechecked_on_every_call():
    model = tiny_peft()
    x = torch.randn(3, 24, device=DEVICE)
    report = patch_peft_model(model)
    model(x)
    with model.disable_adapter():  # DPO's reference pass
        model(x)
    model.add_adapter("other", __import__("peft").LoraConfig(r=2, init_lora_weights=False,
                                                             target_modules=["up", "down"]))
    model.to(DEVICE)
    model.base_model.set_adapter(["default", "other"])
    model(x)
    model.set_adapter("other")
    model(x)
    model.merge_adapter()
    model(x)
    model.unmerge_adapter()
    model(x)
    up = report.stats[UP]
    assert up.fused_calls == 3  # plain, "other" alone, after unmerge
    assert up.base_only_calls == 2  # disabled, merged
    assert up.fallbacks == {Reason.MULTIPLE_ADAPTERS.value: 1}
    assert report.fallback_count == 2  # one per layer


def test_unpatch_restores_the_original_forwards_exactly():
    model = tiny_peft()
    layers = lora_layers(model)
    # One layer already carries an instance-level forward (as accelerate's hooks do).
    own_forward = layers[DOWN].forward
    layers[DOWN].forward = own_forward
    before = {name: vars(m).get("forward") for name, m in model.named_modules()}
    x = torch.randn(4, 24, device=DEVICE)
    with torch.no_grad():
        expected = model(x)
    report = patch_peft_model(model)
    assert all(vars(layers[n]).get("forward") is not before[n] for n in report.patched)
    assert patch_peft_model(model).skipped == {UP: "already patched", DOWN: "already patched"}
    assert sorted(unpatch_peft_model(model)) == [DOWN, UP]
    after = {name: vars(m).get("forward") for name, m in model.named_modules()}
    assert after.keys() == before.keys()
    for name in before:
        assert after[name] is before[name], name
    assert "forward" not in vars(layers[UP])
    assert vars(layers[DOWN])["forward"] is own_forward
    with torch.no_grad():
        torch.testing.assert_close(model(x), expected)
    assert unpatch_peft_model(model) == []


def test_patched_layer_with_instance_forward_still_falls_back_to_it():
    model = tiny_peft()
    down = lora_layers(model)[DOWN]
    calls = []
    peft_forward = down.forward

    def spy(*args, **kwargs):
        calls.append(1)
        return peft_forward(*args, **kwargs)

    down.forward = spy
    report = patch_peft_model(model)
    with model.disable_adapter():
        model(torch.randn(2, 24, device=DEVICE))
    assert calls == [1] and report.stats[DOWN].base_only_calls == 1


@pytest.mark.parametrize("case", ["extra_kwarg", "dtype", "trainable_base", "autocast"])
def test_call_level_fallbacks(case):
    model = tiny_peft()
    report = patch_peft_model(model)
    up = lora_layers(model)[UP]
    x = torch.randn(2, 24, device=DEVICE)
    if case == "extra_kwarg":
        # PEFT passes unknown kwargs to the base layer (which rejects them); the fused path must not eat them.
        with pytest.raises(TypeError):
            up(x, scale=2.0)
        expected = "extra forward arguments"
    elif case == "dtype":
        with pytest.raises(RuntimeError):
            up(x.double())
        expected = "x dtype differs from the base weight"
    elif case == "trainable_base":
        up.get_base_layer().weight.requires_grad_(True)
        up(x)
        expected = "trainable base weight or bias"
    else:
        with torch.autocast(DEVICE.type, dtype=torch.bfloat16):
            up(x)
        expected = "autocast is enabled"
    assert report.stats[UP].fallbacks == {expected: 1}
    assert report.stats[UP].fused_calls == 0


class _Wrapper(nn.Module):
    """Stands in for a second tuner layer between a LoRA layer and its nn.Linear."""

    def __init__(self, base_layer: nn.Module) -> None:
        super().__init__()
        self.base_layer = base_layer

    def forward(self, x):
        return 2 * self.base_layer(x)


def test_getter_follows_nested_base_layers_to_the_bottom():
    model = tiny_peft()
    layer = lora_layers(model)[UP]
    linear = layer.base_layer
    layer.base_layer = _Wrapper(linear)
    params = get_lora_parameters(layer)
    assert params.weight is linear.weight and params.bias is linear.bias
    # The wrapper's forward runs in PEFT's path, so the layer is not fused.
    assert params.reason is Reason.NESTED_BASE_LAYER
    assert patch_peft_model(model).skipped == {UP: Reason.NESTED_BASE_LAYER.value}


_NO_TRITON_SCRIPT = """
import torch
from tests.kernels.kernel_helpers import tiny_peft
from reference_kernels import patch_peft_model
model = tiny_peft()
report = patch_peft_model(model)
for _ in range(3):
    model(torch.randn(2, 24))
with model.disable_adapter():
    model(torch.randn(2, 24))
print(report.fused_count, report.torch_fallback_count)
print(report)
"""


def test_report_says_torch_fallback_when_triton_cannot_run():
    """Without a GPU and without TRITON_INTERPRET the fused path computes in torch: that is what the
    report must say (a fresh process, since Triton decides interpreted-or-not at first import)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    env["CUDA_VISIBLE_DEVICES"] = ""
    proc = subprocess.run([sys.executable, "-c", _NO_TRITON_SCRIPT], cwd=Path(__file__).resolve().parents[2],
                          env=env, capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()
    counts, text = proc.stdout.decode().splitlines()[:2]
    assert counts == "0 6"  # two layers, three calls each: none fused
    assert text == ("patched 2 layers, skipped 0; calls: 0 fused, 6 torch fallback (Triton cannot run here), "
                    "2 PEFT forward (adapters disabled or merged)")


@pytest.mark.filterwarnings("ignore:fan_in_fan_out")
def test_report_text_names_what_ran_and_why_layers_were_skipped():
    model = _mixed_peft()
    report = patch_peft_model(model)
    model(torch.tensor([[1, 2, 3]]))
    text = str(report)
    assert text.startswith("patched 1 layer, skipped 4 (")
    assert f"{Reason.FAN_IN_FAN_OUT.value}: 1" in text
    # the kernel tests run Triton (on CPU through its interpreter): nothing fell back to torch
    assert text.endswith("; calls: 1 fused") and report.torch_fallback_count == 0


def test_readme_patcher_example_prints_what_the_readme_says():
    import os
    import re
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    section = (root / "README.md").read_text(encoding="utf-8").split("## Reference kernels", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    claimed = " ".join(re.search(r"this prints `(.*?)`", section, re.S).group(1).split())
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    env["CUDA_VISIBLE_DEVICES"] = ""
    proc = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.decode().strip() == claimed
