"""Cost of the runtime tracer, measured side by side in one run.

    python benchmarks/runtime_overhead.py [--hidden 512] [--layers 4] [--steps 30] [--repeat 5]

1. Training-step time of a PEFT LoRA model (hidden >= 512) with and without the tracer (every
   LoRA layer watched plus the parameter helper called each step), as a ratio of medians.
2. Per-call cost of a watched function next to beartype with an equivalent return hint, and the
   bare function.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from peft import LoraConfig, get_peft_model

import analyzer.runtime as rt

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "runtime"))
import lora_helpers  # noqa: E402


def make_model(hidden: int, layers: int):
    torch.manual_seed(0)
    mods = []
    for _ in range(layers):
        mods += [torch.nn.Linear(hidden, hidden), torch.nn.GELU()]
    model = get_peft_model(torch.nn.Sequential(*mods), LoraConfig(r=16, target_modules=[str(2 * i) for i in range(layers)]))
    return model


def step_times(model, getter, steps: int, batch: int, hidden: int) -> list[float]:
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    layer = model.base_model.model[0]
    x = torch.randn(batch, hidden)
    out = []
    for _ in range(steps):
        t0 = time.perf_counter()
        getter(layer)
        loss = model(x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        out.append(time.perf_counter() - t0)
    return out


def per_call(fn, n: int = 200_000) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(1)

    model = make_model(args.hidden, args.layers)
    plain, traced = [], []
    for _ in range(args.repeat):  # interleaved, so drift hits both sides alike
        plain += step_times(model, lora_helpers.get_lora_parameters_fixed, args.steps, args.batch, args.hidden)[5:]
        with rt.checking("raise"):
            rt.watch_model(model)
            getter = rt.watch(lora_helpers.get_lora_parameters_fixed)
            traced += step_times(model, getter, args.steps, args.batch, args.hidden)[5:]
    p, t = statistics.median(plain), statistics.median(traced)
    print(f"model: {args.layers} LoRA Linear {args.hidden}x{args.hidden}, r=16, batch {args.batch}, CPU, 1 thread")
    print(f"step time  plain {p * 1e3:.3f} ms   traced {t * 1e3:.3f} ms   ratio {t / p:.3f}")

    def six(x=torch.zeros(1)):
        return x, None, x, x, 1.0, x

    with rt.checking("raise"):
        watched = rt.watch(six)
        cost_watch = per_call(watched)
    cost_bare = per_call(six)
    try:
        from typing import Optional

        from beartype import beartype

        @beartype
        def six_bt(x: torch.Tensor = torch.zeros(1)) -> tuple[torch.Tensor, Optional[object], torch.Tensor,
                                                            torch.Tensor, float, torch.Tensor]:
            return x, None, x, x, 1.0, x

        cost_bt = per_call(six_bt)
    except ImportError:
        cost_bt = float("nan")
    print(f"per call   bare {cost_bare:.2f} us   lora-lint watch {cost_watch:.2f} us   beartype {cost_bt:.2f} us")
    print(f"watch overhead per call: {cost_watch - cost_bare:.2f} us")


if __name__ == "__main__":
    main()
