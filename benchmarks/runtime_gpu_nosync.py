"""Prove on a GPU that the tracer adds no synchronisation.

    python benchmarks/runtime_gpu_nosync.py      # exits 0 on success, 1 on a sync, 2 without CUDA
    python benchmarks/runtime_gpu_nosync.py --dry-run-on-cpu   # the same steps on CPU, no sync check

1. Strict: a PEFT LoRA MLP trained for a few steps on the GPU under
   `torch.cuda.set_sync_debug_mode("error")` (any synchronising call raises) with the default
   watching on (every LoRA layer, found among the live PEFT models, and the fixtures' helpers
   chosen by the static pass), a watched parameter helper on a fast path, a reference forward
   with the adapters disabled, and a checked custom autograd Function. Then the same with the
   stale-bias helper (fixtures/runtime/stale_bias) in warn mode: the slot-kind check that catches
   it, and the report it makes, must not synchronise either.
2. Relative: the tiny PEFT Llama of the tests (hidden 512) under `set_sync_debug_mode("warn")`,
   with and without the tracer; the model itself may synchronise (mask building), so the test
   is that the tracer adds no synchronising call to what the plain run makes.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import types
import warnings
from pathlib import Path

# torch is imported by _load() once argparse has answered: `--help` needs neither it nor a GPU.
# The checkout and its fixtures go on sys.path, so the script runs from any folder.
ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures" / "runtime"
torch = None
Scale = None

DEVICE = "cuda"


@contextlib.contextmanager
def sync_debug(mode: str):
    """`torch.cuda.set_sync_debug_mode(mode)` for the block; nothing on the CPU dry run."""
    if DEVICE != "cuda":
        yield
        return
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode(mode)
    try:
        yield
    finally:
        torch.cuda.set_sync_debug_mode("default")
        torch.cuda.synchronize()


def _load() -> None:
    global torch, Scale
    for path in (str(ROOT), str(FIXTURES)):
        if path not in sys.path:
            sys.path.insert(0, path)
    import torch as _torch

    class _Scale(_torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(x, w)
            return x * w

        @staticmethod
        def backward(ctx, g):
            x, w = ctx.saved_tensors
            return g * w, (g * x).sum(0)

    torch, Scale = _torch, _Scale


def strict() -> None:
    from peft import LoraConfig, get_peft_model

    import analyzer.runtime as rt
    import lora_helpers

    base = torch.nn.Sequential(torch.nn.Linear(512, 512), torch.nn.GELU(), torch.nn.Linear(512, 512)).to(DEVICE)
    model = get_peft_model(base, LoraConfig(r=16, target_modules=["0", "2"], init_lora_weights=False))
    first = model.base_model.model[0]
    first.forward = types.MethodType(lambda self, x: lora_helpers.fast_lora_forward(self, x), first)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    x = torch.randn(64, 512, device=DEVICE)
    w = torch.randn(512, device=DEVICE, requires_grad=True)
    with rt.checking("raise", defaults=True, roots=[str(FIXTURES)], script=""):
        rt.watch_model(model)
        rt.watch_function_class(Scale)
        rt.watch("lora_helpers:get_lora_parameters_fixed")
        with sync_debug("error"):
            for step in range(5):
                if step == 2:
                    with torch.no_grad(), model.disable_adapter():
                        model(x)
                loss = Scale.apply(model(x), w).pow(2).mean()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
        assert rt.reports() == [], rt.reports()
    print(f"strict ({DEVICE}): 5 steps under set_sync_debug_mode('error') with every check on: no synchronisation")
    stale_drift(model, x)


def stale_drift(model, x) -> None:
    """The stale-bias helper on the fast path: the kind drift is found and reported (warn mode)
    under set_sync_debug_mode('error')."""
    sys.path.insert(0, str(FIXTURES / "stale_bias"))
    import helpers

    import analyzer.runtime as rt
    import lora_helpers

    first = model.base_model.model[0]

    def forward(self, h):
        W, quant_state, A, B, s, bias = helpers.get_params(self)
        y = h @ W.t() + s * ((h @ A.t()) @ B.t()) if A is not None else h @ W.t()
        return y + bias if isinstance(bias, torch.Tensor) else y

    first.forward = types.MethodType(forward, first)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with rt.checking("warn"):
            rt.watch(helpers.get_params)
            with sync_debug("error"):
                for _ in range(2):
                    model(x)
                    with torch.no_grad(), model.disable_adapter():
                        model(x)
            sites = [(r.site, r.count) for r in rt.reports()]
    assert sites == [("get_params:kind:5", 2)], sites
    first.forward = types.MethodType(lambda self, h: lora_helpers.fast_lora_forward(self, h), first)
    print(f"strict ({DEVICE}): the stale-bias drift found and reported twice without synchronisation")


def _sync_warnings(model, traced: bool) -> int:
    import analyzer.runtime as rt

    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    ids = torch.randint(0, 1024, (4, 64), device=DEVICE)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with rt.checking("raise" if traced else "off"):
            if traced:
                rt.watch_model(model)
                rt.watch("lora_helpers:get_lora_parameters_fixed")
            with sync_debug("warn"):
                for step in range(3):
                    if step == 1:
                        with torch.no_grad(), model.disable_adapter():
                            model(input_ids=ids)
                    loss = model(input_ids=ids, labels=ids).loss
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
    return sum("synchroniz" in str(w.message) for w in caught)


def relative() -> bool:
    import tiny_llama

    model = tiny_llama.build(hidden=512, layers=2, vocab=1024, r=16).to(DEVICE)
    tiny_llama.use_fast_path(model)
    _sync_warnings(model, traced=False)  # warm-up: lazy initialisation may synchronise once
    plain, traced = _sync_warnings(model, traced=False), _sync_warnings(model, traced=True)
    print(f"relative: synchronising calls in 3 Llama steps: plain {plain}, traced {traced}")
    return traced == plain


def main() -> int:
    global DEVICE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="exit status: 0 no synchronisation added, 1 a synchronisation, 2 no CUDA")
    parser.add_argument("--dry-run-on-cpu", action="store_true", help="run the same steps on the CPU (no sync check)")
    dry_run = parser.parse_args().dry_run_on_cpu
    _load()
    if dry_run:
        DEVICE = "cpu"
    elif not torch.cuda.is_available():
        print("needs a CUDA GPU", file=sys.stderr)
        return 2
    strict()
    return 0 if relative() else 1


if __name__ == "__main__":
    sys.exit(main())
