"""Patched PEFT models against PEFT itself, in every state the getter distinguishes.

The reference is PEFT's own forward on a float64 copy of the model, so DoRA,
dropout, lora_bias and the rest are PEFT's semantics, not ours.  Each state
also checks which path ran (fused, base only, or a counted fallback) and, for
the ineligible states, that a naive fused path would really differ from PEFT:
otherwise the test would pass by accident (DoRA at initialisation, say).
"""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass, field
from typing import Callable, Optional

import pytest
import torch

from .kernel_helpers import DEVICE, assert_close_to, float64_twin, lora_layers, run_with_grads, tiny_peft
from reference_kernels import Reason, get_lora_parameters, lora_linear_forward, patch_peft_model, relative_error
from reference_kernels import tolerance

UP, DOWN = "base_model.model.up", "base_model.model.down"
FUSED, BASE = "fused", "base only"


def _add_other(model, targets=("up", "down")):
    from peft import LoraConfig

    model.add_adapter("other", LoraConfig(r=4, lora_alpha=8, init_lora_weights=False, target_modules=list(targets)))
    model.to(DEVICE)


def _perturb_dora_magnitude(model):
    # At initialisation DoRA's magnitude is ||W + sBA|| row-wise and its output
    # equals plain LoRA's; scale it so DoRA really computes something else.
    for layer in lora_layers(model).values():
        with torch.no_grad():
            layer.lora_magnitude_vector["default"].weight.mul_(1.5)


@dataclass
class State:
    config: dict = field(default_factory=dict)
    setup: Callable = lambda model: None
    context: Callable = lambda model: contextlib.nullcontext()
    forward_kwargs: dict = field(default_factory=dict)
    expected: dict = field(default_factory=dict)  # layer -> FUSED, BASE or a Reason
    train: bool = True


STATES = {
    "plain": State(expected={UP: FUSED, DOWN: FUSED}),
    "disabled": State(context=lambda m: m.disable_adapter(), expected={UP: BASE, DOWN: BASE}),
    "merged": State(setup=lambda m: m.merge_adapter(), expected={UP: BASE, DOWN: BASE}),
    "merged_then_disabled": State(setup=lambda m: m.merge_adapter(), context=lambda m: m.disable_adapter(),
                                  expected={UP: Reason.MERGED_WHILE_DISABLED, DOWN: Reason.MERGED_WHILE_DISABLED}),
    "dora_perturbed": State(config={"use_dora": True}, setup=_perturb_dora_magnitude,
                            expected={UP: Reason.VARIANT, DOWN: Reason.VARIANT}),
    "dropout_eval": State(config={"lora_dropout": 0.5}, train=False, expected={UP: FUSED, DOWN: FUSED}),
    "lora_bias": State(config={"lora_bias": True}, expected={UP: Reason.LORA_BIAS, DOWN: Reason.LORA_BIAS}),
    "two_active_adapters": State(setup=lambda m: (_add_other(m), m.base_model.set_adapter(["default", "other"])),
                                 expected={UP: Reason.MULTIPLE_ADAPTERS, DOWN: Reason.MULTIPLE_ADAPTERS}),
    "mixed_batch": State(setup=_add_other, forward_kwargs={"adapter_names": ["default", "other"]}, train=False,
                         expected={UP: Reason.MIXED_BATCH, DOWN: Reason.MIXED_BATCH}),
    "missing_adapter": State(setup=lambda m: (_add_other(m, targets=["up"]), m.set_adapter("other")),
                             expected={UP: FUSED, DOWN: Reason.MISSING_ADAPTER}),
}


def _build(state: State, dtype=torch.float32, adapter_dtype: Optional[torch.dtype] = None, r=8, bias=True):
    model = tiny_peft(r=r, bias=bias, dtype=dtype, adapter_dtype=adapter_dtype, **state.config)
    state.setup(model)
    model.train(state.train)
    return model


def _path_counts(report) -> dict:
    counts = {}
    for name, stats in report.stats.items():
        if stats.fused_calls:
            counts[name] = FUSED
        elif stats.base_only_calls:
            counts[name] = BASE
        else:
            (reason_text,) = stats.fallbacks  # exactly one reason per layer here
            counts[name] = next(r for r in Reason if r.value == reason_text)
    return counts


def _x_and_grad(dtype, k=24, n=20):
    g = torch.Generator().manual_seed(1)
    # Batch 2 (the mixed-batch names), seq 5: a 3-D input as in a transformer.
    return (torch.randn(2, 5, k, generator=g).to(DEVICE, dtype),
            torch.randn(2, 5, n, generator=g).to(DEVICE, dtype))


def _run_state(state: State, dtype=torch.float32, adapter_dtype=None, r=8, bias=True):
    model = _build(state, dtype, adapter_dtype, r, bias)
    twin = float64_twin(model)
    x, grad_y = _x_and_grad(dtype)
    report = patch_peft_model(model)
    assert sorted(report.patched) == [DOWN, UP]
    with state.context(model):
        got = run_with_grads(model, x, grad_y, **state.forward_kwargs)
    with state.context(twin):
        want = run_with_grads(twin, x.double(), grad_y.double(), **state.forward_kwargs)
    return got, want, report


@pytest.mark.parametrize("name", list(STATES))
def test_state_matches_peft_in_float64(name):
    state = STATES[name]
    got, want, report = _run_state(state)
    assert _path_counts(report) == state.expected
    assert_close_to(got, want, torch.float32)


@pytest.mark.parametrize("state_name", ["plain", "disabled", "merged"])
@pytest.mark.parametrize("dtype,adapter_dtype", [(torch.float16, None), (torch.bfloat16, None),
                                                 (torch.bfloat16, torch.float32)], ids=str)
def test_half_precision_states_match_peft(state_name, dtype, adapter_dtype):
    got, want, report = _run_state(STATES[state_name], dtype, adapter_dtype)
    assert _path_counts(report) == STATES[state_name].expected
    assert_close_to(got, want, dtype)


@pytest.mark.parametrize("r", [1, 16])
@pytest.mark.parametrize("bias", [True, False])
def test_ranks_and_bias(r, bias):
    got, want, report = _run_state(STATES["plain"], r=r, bias=bias)
    assert report.fused_count == 2
    assert_close_to(got, want, torch.float32)


def test_dropout_in_training_falls_back_to_peft_exactly():
    # Dropout masks are random, so the float64 twin cannot share them: compare
    # with the unpatched model under the same seed instead.
    model = _build(State(config={"lora_dropout": 0.5}))
    unpatched = copy.deepcopy(model)
    x, grad_y = _x_and_grad(torch.float32)
    report = patch_peft_model(model)
    torch.manual_seed(7)
    got = run_with_grads(model, x, grad_y)
    torch.manual_seed(7)
    want = run_with_grads(unpatched, x, grad_y)
    assert report.stats[UP].fallbacks == {Reason.DROPOUT.value: 1}
    for key in want:
        assert torch.equal(got[key], want[key]), key


def _naive_fused_output(layer, x):
    """What a getter ignoring the state (first adapter, no dropout/variant/bias) would compute."""
    base = layer.get_base_layer()
    adapter = layer.active_adapters[0]
    return lora_linear_forward(x, base.weight, layer.lora_A[adapter].weight, layer.lora_B[adapter].weight,
                               layer.scaling[adapter], base.bias)


@pytest.mark.parametrize("name,config", [
    ("dora_perturbed", {}), ("lora_bias", {}), ("two_active_adapters", {}),
    ("mixed_batch", {"adapter_names": ["default", "other"]}), ("dropout", {}),
])
def test_ineligible_states_really_differ_from_plain_lora(name, config):
    state = STATES.get(name, State(config={"lora_dropout": 0.5}))
    model = _build(state)
    layer = lora_layers(model)[UP]
    x, _ = _x_and_grad(torch.float32)
    with torch.no_grad():
        peft_y = layer(x, **config)
        naive = _naive_fused_output(layer, x)
    assert relative_error(naive, peft_y) > 100 * tolerance(torch.float32)


@pytest.mark.parametrize("name", list(STATES))
def test_getter_bias_and_weight_are_the_base_layers_in_every_state(name):
    # The seed bug: a disabled/merged branch returning a stale or missing bias.
    state = STATES[name]
    model = _build(state)
    with state.context(model):
        for layer in lora_layers(model).values():
            params = get_lora_parameters(layer, adapter_names=state.forward_kwargs.get("adapter_names"))
            base = layer.get_base_layer()
            assert params.weight is base.weight
            assert params.bias is base.bias
            assert (params.lora_A is None) == (params.scaling is None) == (params.lora_B is None)


@pytest.mark.parametrize("name", ["disabled", "merged"])
def test_base_only_parameters_reproduce_peft(name):
    # When the getter says "base only", weight and bias alone must give PEFT's output.
    state = STATES[name]
    model = _build(state)
    x, _ = _x_and_grad(torch.float32)
    with state.context(model), torch.no_grad():
        for layer in lora_layers(model).values():
            params = get_lora_parameters(layer)
            assert params.base_only
            xin = x if layer.in_features == x.shape[-1] else torch.randn(3, layer.in_features, device=DEVICE)
            y = lora_linear_forward(xin, params.weight, None, None, None, params.bias)
            torch.testing.assert_close(y, layer(xin), rtol=0, atol=0)
