"""Reference fused LoRA linear kernels, checked against PEFT.

The chain, one module per link: ``_triton_kernels`` (the ``@triton.jit``
kernels) → ``launch`` (host launchers, block sizes) → ``function`` (the
autograd Function and ``fused_lora_linear``) → ``patch`` (PEFT model patcher).
``params`` reads a PEFT layer; ``reference`` is the one torch implementation of
the math, used as the float64 reference and as the fallback without Triton.
Importing this package imports neither Triton nor PEFT.
"""

from .function import LoraLinearFunction, fused_lora_linear, lora_parameters
from .params import LoraParameters, Reason, get_lora_parameters
from .patch import LayerStats, PatchReport, patch_peft_model, unpatch_peft_model
from .reference import LoraGrads, lora_linear_backward, lora_linear_forward, relative_error
from .tolerances import TOLERANCES, tolerance

__all__ = [
    "LayerStats", "LoraGrads", "LoraLinearFunction", "LoraParameters", "PatchReport", "Reason",
    "TOLERANCES", "fused_lora_linear", "get_lora_parameters", "lora_linear_backward",
    "lora_linear_forward", "lora_parameters", "patch_peft_model", "relative_error", "tolerance",
    "unpatch_peft_model",
]
