"""Cost of the runtime tracer with its default watching, measured side by side in one run.

    python benchmarks/runtime_overhead.py [--hidden 512] [--layers 2] [--steps 20] [--repeat 5]

1. Training-step time of a PEFT LoRA Llama (hidden >= 512, LoRA on every linear projection)
   with and without the tracer, which is told nothing: the default watching finds the model's
   LoRA layers and the fixtures' return-tuple helpers (the q_proj/v_proj fast path calls one on
   every forward). Plain and traced runs alternate, so drift hits both alike; the ratio is of
   medians.
2. Per-call cost of a watched function returning a 6-tuple (arity and slot-kind checks), next to
   the bare function and to beartype with an equivalent return hint.
3. torch.compile: graph breaks of a smaller LoRA Llama's forward and of a step calling a watched
   helper, with the tracer on, next to the same without it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Optional

# torch, PEFT and the tracer are imported by _load() once argparse has answered: `--help` needs
# none of them. The checkout and its fixtures go on sys.path, so the script runs from any folder.
ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures" / "runtime"
torch = rt = tiny_llama = None

ALL_LINEAR = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


# CPU time of this process per step, next to wall time: on a shared machine, other processes'
# load stretches wall time by the second but CPU time far less
CPU_TIMES: list[float] = []


def _load() -> None:
    global torch, rt, tiny_llama
    for path in (str(ROOT), str(FIXTURES)):
        if path not in sys.path:
            sys.path.insert(0, path)
    import torch as _torch
    import tiny_llama as _tiny_llama

    import analyzer.runtime as _rt

    torch, rt, tiny_llama = _torch, _rt, _tiny_llama


def step_times(model, steps: int, batch: int, seq: int, vocab: int) -> list[float]:
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    ids = torch.randint(0, vocab, (batch, seq), generator=torch.Generator().manual_seed(0))
    out = []
    for _ in range(steps):
        t0, c0 = time.perf_counter(), time.process_time()
        loss = model(input_ids=ids, labels=ids).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        out.append(time.perf_counter() - t0)
        CPU_TIMES.append(time.process_time() - c0)
    return out


def per_call_us(fn, n: int) -> float:
    best = float("inf")
    for _ in range(5):  # best of 5: the least disturbed estimate of the code's own cost
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t0) / n * 1e6)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--vocab", type=int, default=1024)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=64)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=8)
    ap.add_argument("--calls", type=int, default=200_000)
    args = ap.parse_args()
    _load()
    torch.set_num_threads(1)

    model = tiny_llama.build(hidden=args.hidden, layers=args.layers, vocab=args.vocab, r=16, targets=ALL_LINEAR)
    fast = tiny_llama.use_fast_path(model, getter="get_lora_parameters_fixed")
    layers = sum(1 for _, m in model.named_modules() if hasattr(m, "lora_A"))
    step_times(model, 3, args.batch, args.seq, args.vocab)  # warm-up
    plain: list[float] = []
    traced: list[float] = []
    watched = {}
    pair_ratios = []

    def traced_block() -> list[float]:
        nonlocal watched
        # told nothing: the default watching finds the model and the helpers itself
        with rt.checking("raise", defaults=True, roots=[str(FIXTURES)], script=""):
            times = step_times(model, args.steps, args.batch, args.seq, args.vocab)
            watched = dict(rt.state.STATE.counts)
            assert rt.reports() == []
        return times

    cpu_plain: list[float] = []
    cpu_traced: list[float] = []

    def cpu_of(block, into):
        del CPU_TIMES[:-args.steps]
        into += CPU_TIMES
        return block

    for i in range(args.repeat):
        # each pair runs both blocks back to back, in alternating order: load from other processes
        # drifts over seconds, and a ratio within a pair sees the same drift on both sides
        if i % 2 == 0:
            p_block = cpu_of(step_times(model, args.steps, args.batch, args.seq, args.vocab), cpu_plain)
            t_block = cpu_of(traced_block(), cpu_traced)
        else:
            t_block = cpu_of(traced_block(), cpu_traced)
            p_block = cpu_of(step_times(model, args.steps, args.batch, args.seq, args.vocab), cpu_plain)
        plain += p_block
        traced += t_block
        pair_ratios.append(statistics.median(t_block) / statistics.median(p_block))
    assert watched["layers"] == layers and watched["helpers"] >= 1, watched
    p, t = statistics.median(plain), statistics.median(traced)
    print(f"model: Llama, hidden {args.hidden}, {args.layers} layers, LoRA r=16 on {layers} linear layers "
          f"({fast} on the fast path calling a helper); batch {args.batch}x{args.seq} tokens; CPU, 1 thread")
    print(f"default watching: {watched['layers']} LoRA layers and {watched['helpers']} helpers")
    print(f"step time: plain {p * 1e3:.2f} ms, traced {t * 1e3:.2f} ms, ratio {t / p:.3f} "
          f"(medians of {len(plain)} steps each); median of {len(pair_ratios)} paired ratios "
          f"{statistics.median(pair_ratios):.3f} (range {min(pair_ratios):.3f}-{max(pair_ratios):.3f})")
    cp, ct = statistics.median(cpu_plain), statistics.median(cpu_traced)
    print(f"step CPU time: plain {cp * 1e3:.2f} ms, traced {ct * 1e3:.2f} ms, ratio {ct / cp:.3f}")

    print(f"time inside the tracer's own code: {tracer_share(model, args) * 100:.2f}% of a traced step "
          f"(cProfile over {args.steps} steps; load from other processes slows both sides alike)")

    x = torch.zeros(1)

    def six():
        return x, None, x, x, 1.0, x

    cost_bare = per_call_us(six, args.calls)
    with rt.checking("raise"):
        rt.watch(six)  # in place: `six` itself is now checked
        cost_watch = per_call_us(six, args.calls)
    try:
        from beartype import beartype

        @beartype
        def six_bt() -> tuple[torch.Tensor, Optional[object], torch.Tensor, torch.Tensor, float, torch.Tensor]:
            return x, None, x, x, 1.0, x

        cost_bt = per_call_us(six_bt, args.calls)
    except ImportError:
        cost_bt = float("nan")
    print(f"per call (6-tuple): bare {cost_bare:.2f} us, lora-lint watch {cost_watch:.2f} us "
          f"(+{cost_watch - cost_bare:.2f}), beartype {cost_bt:.2f} us (+{cost_bt - cost_bare:.2f})")
    graph_breaks()


def tracer_share(model, args) -> float:
    """The share of a traced step's profiled time spent in lora-lint's functions and trampolines.
    cProfile inflates Python-heavy code most, so this over-states the tracer's share; it is
    also independent of other processes' load, unlike the wall-clock ratio."""
    import cProfile
    import pstats

    with rt.checking("raise", defaults=True, roots=[str(FIXTURES)], script=""):
        profile = cProfile.Profile()
        profile.enable()
        step_times(model, args.steps, args.batch, args.seq, args.vocab)
        profile.disable()
    stats = pstats.Stats(profile).stats
    ours = sum(v[2] for k, v in stats.items() if "analyzer/runtime" in k[0] or k[0].startswith("<lora-lint"))
    return ours / sum(v[2] for v in stats.values())


def _breaks(fn, *inputs) -> int:
    torch._dynamo.reset()
    return torch._dynamo.explain(fn)(*inputs).graph_break_count


def graph_breaks() -> None:
    model = tiny_llama.build(hidden=64, layers=1, vocab=128, r=4, targets=ALL_LINEAR)
    tiny_llama.use_fast_path(model)
    ids = torch.randint(0, 128, (2, 8))
    import lora_helpers

    def step(x):
        W, quant_state, A, B, s, bias = lora_helpers.get_lora_parameters_fixed(model.base_model.model.model.layers[0]
                                                                                .self_attn.q_proj)
        return x @ W.t() + s * ((x @ A.t()) @ B.t())

    x = torch.randn(3, 64)
    plain = (_breaks(model, ids), _breaks(step, x))
    with rt.checking("raise", defaults=True, roots=[str(FIXTURES)], script=""):
        traced = (_breaks(model, ids), _breaks(step, x))
        assert rt.reports() == []
    torch._dynamo.reset()
    print(f"torch.compile graph breaks (plain -> traced): LoRA Llama forward {plain[0]} -> {traced[0]}, "
          f"step calling the watched helper {plain[1]} -> {traced[1]}; added by the tracer: "
          f"{traced[0] - plain[0] + traced[1] - plain[1]}")


if __name__ == "__main__":
    main()
