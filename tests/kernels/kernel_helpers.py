"""Small PEFT models and comparison helpers shared by the kernel tests."""

from __future__ import annotations

import copy
from typing import Optional

import torch
from torch import nn

from reference_kernels import relative_error, tolerance

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")


class Tiny(nn.Module):
    """Two Linear layers with odd sizes (no block size divides them)."""

    def __init__(self, k: int = 24, hidden: int = 40, n: int = 20, bias: bool = True) -> None:
        super().__init__()
        self.up = nn.Linear(k, hidden, bias=bias)
        self.down = nn.Linear(hidden, n, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(torch.tanh(self.up(x)))


def tiny_peft(seed: int = 0, r: int = 8, bias: bool = True, dtype: torch.dtype = torch.float32,
              adapter_dtype: Optional[torch.dtype] = None, **config):
    """A PEFT LoRA model over ``Tiny`` with B ≠ 0 (``init_lora_weights=False``).

    ``adapter_dtype=torch.float32`` with a 16-bit ``dtype`` keeps the adapters
    in fp32, as PEFT does for a half-precision base model.
    """
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed)
    base = Tiny(bias=bias).to(dtype)
    config.setdefault("target_modules", ["up", "down"])
    config.setdefault("lora_alpha", 16)
    model = get_peft_model(base, LoraConfig(r=r, init_lora_weights=False, **config),
                           autocast_adapter_dtype=adapter_dtype == torch.float32)
    for name, p in model.named_parameters():
        if "lora_" in name:
            p.data = p.data.to(adapter_dtype or dtype)
    return model.to(DEVICE)


def lora_layers(model: nn.Module) -> dict:
    from peft.tuners.lora import Linear

    return {name: m for name, m in model.named_modules() if isinstance(m, Linear)}


def run_with_grads(model: nn.Module, x: torch.Tensor, grad_y: torch.Tensor, **kwargs) -> dict:
    """Output, dL/dx and the gradient of every trainable parameter, for L = <y, grad_y>."""
    model.zero_grad(set_to_none=True)
    x = x.detach().clone().requires_grad_()
    y = model(x, **kwargs)
    y.backward(grad_y.to(y.dtype))
    out = {"y": y.detach(), "x.grad": x.grad}
    out.update({name: p.grad for name, p in model.named_parameters() if p.requires_grad})
    return out


def float64_twin(model: nn.Module) -> nn.Module:
    """A float64 deep copy: PEFT's own forward in float64 is the reference."""
    return copy.deepcopy(model).double()


def assert_close_to(actual: dict, reference: dict, dtype: torch.dtype) -> None:
    assert actual.keys() == reference.keys()
    bound = tolerance(dtype)
    for key, value in actual.items():
        if value is None or reference[key] is None:
            assert value is None and reference[key] is None, key
            continue
        err = relative_error(value, reference[key])
        assert err <= bound, f"{key}: error {err:.3g} > {bound:g} ({dtype})"
