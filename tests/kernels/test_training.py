"""Twenty optimizer steps of a tiny PEFT model, patched vs unpatched, from one seed."""

from __future__ import annotations

import pytest
import torch

from .kernel_helpers import DEVICE, tiny_peft
from reference_kernels import patch_peft_model, tolerance

STEPS = 20


def _losses(dtype, adapter_dtype, patched: bool):
    model = tiny_peft(seed=0, dtype=dtype, adapter_dtype=adapter_dtype)
    report = patch_peft_model(model) if patched else None
    g = torch.Generator().manual_seed(3)
    x = torch.randn(STEPS, 4, 6, 24, generator=g).to(DEVICE, dtype)
    target = torch.randn(STEPS, 4, 6, 20, generator=g).to(DEVICE, torch.float32)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    losses = []
    for step in range(STEPS):
        optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.mse_loss(model(x[step]).float(), target[step])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return torch.tensor(losses, dtype=torch.float64), report


@pytest.mark.parametrize("dtype,adapter_dtype", [(torch.float32, None), (torch.bfloat16, torch.float32)], ids=str)
def test_twenty_steps_patched_and_unpatched_agree(dtype, adapter_dtype):
    reference, _ = _losses(dtype, adapter_dtype, patched=False)
    fused, report = _losses(dtype, adapter_dtype, patched=True)
    assert report.fused_count == 2 * STEPS and report.fallback_count == 0
    assert reference[-1] < reference[0]  # it did train
    error = ((fused - reference).abs() / reference.abs()).max().item()
    assert error <= tolerance(dtype), error
