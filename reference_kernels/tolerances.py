"""The one tolerance table of the fused LoRA linear, shared by tests and the benchmark.

Error is ``max|y − ref| / max|ref|`` against the float64 reference
(``reference.relative_error``), the same bound for the output and for the
gradients of x, A and B.

How the entries were chosen: worst case measured on the CPU (Triton 3.9
interpreter and the torch fallback, torch 2.13) over 3 seeds of
M×K×N×r = 37×40×48×1, 64×96×80×8, 130×72×200×16, 33×160×40×64 and
512×1024×1024×16, s = 2, B ≠ 0, bias on; "PEFT eager" is the same math in
native-dtype torch ops, i.e. the error PEFT's own forward already carries.
"""

from __future__ import annotations

import torch

TOLERANCES: dict[torch.dtype, float] = {
    # Measured ≤ 6.0e-7 (kernels and fallback; PEFT eager 2.9e-7).  1e-5 leaves
    # room for longer K sums.  Holds on GPUs only because fp32 dots are asked
    # for as IEEE: tf32 would give ~5e-3.
    torch.float32: 1e-5,
    # Measured ≤ 7.0e-4 (kernels), ≤ 4.4e-4 (fallback); PEFT eager itself 7.6e-4.
    # 2e-3 is ~2.5x the worst of these.
    torch.float16: 2e-3,
    # Measured ≤ 8.6e-3 (dX with fp32 adapters cast to bf16 for the dots),
    # ≤ 3.3e-3 (fallback); PEFT eager itself 5.8e-3.  1.5e-2 is ~1.7x the worst:
    # bf16 keeps 8 significant bits (ulp/2 = 3.9e-3), so a tighter bound would
    # flake on unlucky roundings of a single large element.
    torch.bfloat16: 1.5e-2,
    # The fallback in float64 is the reference itself up to summation order.
    torch.float64: 1e-12,
}


def tolerance(dtype: torch.dtype) -> float:
    """The bound for results computed with activations of ``dtype``."""
    return TOLERANCES[dtype]
