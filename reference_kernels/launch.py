"""Host launchers: block sizes, grids, dtype handling, backend choice.

Nothing here runs at import: the Triton kernels are imported on first use, and
whether they run compiled or interpreted is read from the kernel objects at
launch time (Triton fixes it when the kernels are decorated).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import NamedTuple, Optional

import torch

from .reference import LoraGrads

KERNEL_DTYPES = (torch.float32, torch.float16, torch.bfloat16)


@dataclass(frozen=True)
class BlockConfig:
    """Tile sizes of one launch.

    The block sizes a kernel uses are ``tl.dot`` dimensions; the one or two it
    ignores are kept legal too, so that one test covers every field.
    """

    block_m: int
    block_n: int
    block_k: int
    group_m: int = 8
    num_warps: int = 4
    num_stages: int = 3


class KernelConfigs(NamedTuple):
    """The block configs of every kernel for one operand width."""

    fused_decode: BlockConfig  # M <= 16
    fused_small: BlockConfig  # M <= 128
    fused_large: BlockConfig
    shrink: BlockConfig  # block_n unused: the shrink's N is the rank block
    weight_grad: BlockConfig  # block_m: the token (reduction) block; block_n: the column block


# One config per regime instead of @triton.autotune: several configs fail to
# autotune without a GPU, and these follow the usual H100 bf16 GEMM choices.
# The pipelined tiles stay under ~100 KiB of shared memory so that they also
# fit an A100 (164 KiB); fp32 halves block_k to stay there.
HALF_CONFIGS = KernelConfigs(
    fused_decode=BlockConfig(block_m=16, block_n=64, block_k=128, num_warps=4, num_stages=4),
    fused_small=BlockConfig(block_m=64, block_n=128, block_k=64, num_warps=4, num_stages=4),
    fused_large=BlockConfig(block_m=128, block_n=128, block_k=64, num_warps=8, num_stages=3),
    shrink=BlockConfig(block_m=64, block_n=16, block_k=128, num_warps=4, num_stages=3),
    weight_grad=BlockConfig(block_m=64, block_n=128, block_k=16, num_warps=4, num_stages=3),
)
FP32_CONFIGS = KernelConfigs(
    fused_decode=BlockConfig(block_m=16, block_n=64, block_k=64, num_warps=4, num_stages=4),
    fused_small=BlockConfig(block_m=64, block_n=128, block_k=32, num_warps=4, num_stages=4),
    fused_large=BlockConfig(block_m=128, block_n=128, block_k=32, num_warps=8, num_stages=3),
    shrink=BlockConfig(block_m=64, block_n=16, block_k=64, num_warps=4, num_stages=3),
    weight_grad=BlockConfig(block_m=32, block_n=128, block_k=16, num_warps=4, num_stages=3),
)


def configs_for(dtype: torch.dtype) -> KernelConfigs:
    return FP32_CONFIGS if dtype == torch.float32 else HALF_CONFIGS


MIN_RANK_BLOCK = 16  # 16-bit tl.dot needs K >= 16 on NVIDIA GPUs; ranks 1..15 are padded
MAX_RANK_BLOCK = 64  # larger ranks loop over 64-wide chunks to bound registers


def rank_block(rank: int) -> int:
    """The padded rank tile: a power of two in [MIN_RANK_BLOCK, MAX_RANK_BLOCK]."""
    padded = 1 << max(rank - 1, 0).bit_length()
    return min(max(padded, MIN_RANK_BLOCK), MAX_RANK_BLOCK)


def dot_block_sizes(rank: int) -> list[int]:
    """Every block size any kernel uses as a ``tl.dot`` dimension for ``rank``."""
    sizes = [rank_block(rank)]
    for configs in (HALF_CONFIGS, FP32_CONFIGS):
        for config in configs:
            sizes += [config.block_m, config.block_n, config.block_k]
    return sizes


def fused_config(m: int, dtype: torch.dtype) -> BlockConfig:
    configs = configs_for(dtype)
    if m <= 16:
        return configs.fused_decode
    if m <= 128:
        return configs.fused_small
    return configs.fused_large


def load_kernels() -> Optional[ModuleType]:
    """The Triton kernel module, or None when Triton is not installed."""
    try:
        from . import _triton_kernels
    except ImportError:
        return None
    return _triton_kernels


def is_interpreted(kernels: ModuleType) -> bool:
    from triton.runtime.jit import JITFunction  # only reached when Triton imported

    return not isinstance(kernels.fused_linear_kernel, JITFunction)


def triton_can_run(device: torch.device) -> bool:
    """Whether the Triton kernels run on tensors of ``device`` as decorated."""
    kernels = load_kernels()
    if kernels is None:
        return False
    if is_interpreted(kernels):
        return device.type == "cpu"
    return device.type == "cuda"


class _LaunchFlags(NamedTuple):
    upcast: bool
    precision: str


def _flags(kernels: ModuleType, dtype: torch.dtype) -> _LaunchFlags:
    # The interpreter holds bf16 as raw 16-bit integers and computes garbage;
    # its loads, stores and casts are exact, so float32 tiles give bf16 results.
    upcast = dtype == torch.bfloat16 and is_interpreted(kernels)
    # fp32 callers get IEEE fp32 dots, not tf32 (ignored for 16-bit operands).
    return _LaunchFlags(upcast=upcast, precision="ieee" if dtype == torch.float32 else "tf32")


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


def shrink(x2d: torch.Tensor, lora_A: torch.Tensor, kernels: ModuleType) -> torch.Tensor:
    """``x2d·Aᵀ`` as float32, shape ``[M, r]``; ``lora_A`` already in ``x2d``'s dtype."""
    m, k = x2d.shape
    rank = lora_A.shape[0]
    out = torch.empty((m, rank), device=x2d.device, dtype=torch.float32)
    block_r = rank_block(rank)
    flags = _flags(kernels, x2d.dtype)
    config = configs_for(x2d.dtype).shrink
    grid = (_cdiv(m, config.block_m), _cdiv(rank, block_r))
    kernels.shrink_kernel[grid](
        x2d, lora_A, out, m, k, rank,
        x2d.stride(0), x2d.stride(1), lora_A.stride(0), lora_A.stride(1), out.stride(0), out.stride(1),
        BLOCK_M=config.block_m, BLOCK_K=config.block_k, BLOCK_R=block_r,
        UPCAST=flags.upcast, PRECISION=flags.precision,
        num_warps=config.num_warps, num_stages=config.num_stages)
    return out


def fused_linear(x2d: torch.Tensor, weight: torch.Tensor, low_rank: torch.Tensor, lora_B: torch.Tensor,
                 scaling: float, bias: Optional[torch.Tensor], kernels: ModuleType) -> torch.Tensor:
    """``x2d·weightᵀ + s·low_rank·lora_Bᵀ + bias`` with one rounding to ``x2d.dtype``.

    Shapes: x2d ``[M, K]``, weight ``[N, K]``, low_rank ``[M, r]`` float32,
    lora_B ``[N, r]`` in x2d's dtype; any strides.
    """
    m, k = x2d.shape
    n = weight.shape[0]
    rank = lora_B.shape[1]
    y = torch.empty((m, n), device=x2d.device, dtype=x2d.dtype)
    config = fused_config(m, x2d.dtype)
    flags = _flags(kernels, x2d.dtype)
    grid = (_cdiv(m, config.block_m) * _cdiv(n, config.block_n),)
    kernels.fused_linear_kernel[grid](
        x2d, weight, low_rank, lora_B, bias if bias is not None else y, y, m, n, k, rank, scaling,
        x2d.stride(0), x2d.stride(1), weight.stride(0), weight.stride(1),
        low_rank.stride(0), low_rank.stride(1), lora_B.stride(0), lora_B.stride(1),
        y.stride(0), y.stride(1),
        HAS_BIAS=bias is not None, BLOCK_M=config.block_m, BLOCK_N=config.block_n,
        BLOCK_K=config.block_k, BLOCK_R=rank_block(rank), GROUP_M=config.group_m,
        UPCAST=flags.upcast, PRECISION=flags.precision,
        num_warps=config.num_warps, num_stages=config.num_stages)
    return y


def _split_count(rows: int, tiles: int, block_m: int, device: torch.device, interpreted: bool) -> int:
    # Few output tiles (r x K is small) would leave most SMs idle while each
    # walks all M rows; split the rows so about two programs run per SM.
    if interpreted or device.type != "cuda":
        return 1
    sms = torch.cuda.get_device_properties(device).multi_processor_count
    return max(1, min(_cdiv(2 * sms, tiles), _cdiv(rows, 4 * block_m)))


def weight_grad(p: torch.Tensor, q: torch.Tensor, scaling: float, kernels: ModuleType) -> torch.Tensor:
    """``s·pᵀ·q`` as float32 ``[r, C]``, for p ``[M, r]`` (any float dtype) and q ``[M, C]``."""
    m, rank = p.shape
    c = q.shape[1]
    block_r = rank_block(rank)
    config = configs_for(q.dtype).weight_grad
    tiles = _cdiv(rank, block_r) * _cdiv(c, config.block_n)
    splits = _split_count(m, tiles, config.block_m, q.device, is_interpreted(kernels))
    rows_per_split = _cdiv(_cdiv(m, splits), config.block_m) * config.block_m
    splits = _cdiv(m, rows_per_split)
    partial = torch.empty((splits, rank, c), device=q.device, dtype=torch.float32)
    flags = _flags(kernels, q.dtype)
    kernels.weight_grad_kernel[(tiles, splits)](
        p, q, partial, m, rank, c, scaling, rows_per_split,
        p.stride(0), p.stride(1), q.stride(0), q.stride(1),
        partial.stride(0), partial.stride(1), partial.stride(2),
        BLOCK_M=config.block_m, BLOCK_R=block_r, BLOCK_C=config.block_n,
        UPCAST=flags.upcast, PRECISION=flags.precision,
        num_warps=config.num_warps, num_stages=config.num_stages)
    return partial[0] if splits == 1 else partial.sum(0)


class ForwardResult(NamedTuple):
    y: torch.Tensor
    low_rank: torch.Tensor  # x·Aᵀ in float32, kept for dB


def triton_forward(x2d: torch.Tensor, weight: torch.Tensor, lora_A: torch.Tensor, lora_B: torch.Tensor,
                   scaling: float, bias: Optional[torch.Tensor]) -> ForwardResult:
    """Shrink, then the base GEMM with the low-rank term and bias in its epilogue."""
    kernels = load_kernels()
    # Adapters kept in fp32 next to bf16 x/W (PEFT's mixed precision) run the
    # tensor-core dots in x's dtype; gradients are still returned in fp32.
    a = lora_A.to(x2d.dtype)
    b = lora_B.to(x2d.dtype)
    low_rank = shrink(x2d, a, kernels)
    return ForwardResult(y=fused_linear(x2d, weight, low_rank, b, scaling, bias, kernels), low_rank=low_rank)


class GradRequest(NamedTuple):
    x: bool
    lora_A: bool
    lora_B: bool


def triton_backward(grad_y: torch.Tensor, x2d: torch.Tensor, low_rank: torch.Tensor, weight: torch.Tensor,
                    lora_A: torch.Tensor, lora_B: torch.Tensor, scaling: float,
                    wanted: GradRequest) -> LoraGrads:
    """``dX = dY·W + s·(dY·B)·A``, ``dA = s·(dY·B)ᵀ·X``, ``dB = s·dYᵀ·(X·Aᵀ)``; None where not wanted."""
    kernels = load_kernels()
    a = lora_A.to(x2d.dtype)
    b = lora_B.to(x2d.dtype)
    dy_b = shrink(grad_y, b.t(), kernels) if (wanted.x or wanted.lora_A) else None
    # dX reuses the fused GEMM on transposed views: dY·(Wᵀ)ᵀ + s·(dY·B)·(Aᵀ)ᵀ.
    dx = fused_linear(grad_y, weight.t(), dy_b, a.t(), scaling, None, kernels) if wanted.x else None
    da = weight_grad(dy_b, x2d, scaling, kernels).to(lora_A.dtype) if wanted.lora_A else None
    db = (weight_grad(low_rank, grad_y, scaling, kernels).t().contiguous().to(lora_B.dtype)
          if wanted.lora_B else None)
    return LoraGrads(x=dx, lora_A=da, lora_B=db)
