"""Prove on a GPU that the tracer adds no synchronisation: its checks run under
`torch.cuda.set_sync_debug_mode("error")`, which raises on any synchronising call.

    python benchmarks/runtime_gpu_nosync.py

Needs a CUDA device (exits 2 without one). Trains a small PEFT LoRA model on the GPU for a few
steps with every LoRA layer, a watched helper and an autograd Function checked.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch


def main() -> int:
    if not torch.cuda.is_available():
        print("needs a CUDA GPU", file=sys.stderr)
        return 2
    from peft import LoraConfig, get_peft_model

    import analyzer.runtime as rt

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "runtime"))
    import lora_helpers

    class Scale(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(w)
            return x * w

        @staticmethod
        def backward(ctx, g):
            (w,) = ctx.saved_tensors
            return g * w, None

    base = torch.nn.Sequential(torch.nn.Linear(512, 512), torch.nn.GELU(), torch.nn.Linear(512, 512)).cuda()
    model = get_peft_model(base, LoraConfig(r=16, target_modules=["0", "2"], init_lora_weights=False))
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    x = torch.randn(64, 512, device="cuda")
    w = torch.randn(512, device="cuda")
    torch.cuda.synchronize()
    with rt.checking("raise"):
        rt.watch_model(model)
        rt.watch_function_class(Scale)
        getter = rt.watch(lora_helpers.get_lora_parameters_fixed)
        torch.cuda.set_sync_debug_mode("error")
        try:
            for _ in range(5):
                getter(model.base_model.model[0])
                loss = Scale.apply(model(x), w).pow(2).mean()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
        finally:
            torch.cuda.set_sync_debug_mode("default")
    torch.cuda.synchronize()
    print("no synchronisation raised under set_sync_debug_mode('error'); reports:", rt.reports())
    return 0


if __name__ == "__main__":
    sys.exit(main())
