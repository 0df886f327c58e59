"""Block sizes must be legal on NVIDIA GPUs; the CPU interpreter checks none of this."""

import pytest

from reference_kernels import launch

CONFIG_TABLES = {"half": (launch.HALF_CONFIGS, 2), "fp32": (launch.FP32_CONFIGS, 4)}
# An A100 gives a block 164 KiB of shared memory (an H100 227 KiB); keep the
# pipelined operand tiles well under it, leaving room for the epilogue.
SHARED_MEMORY_BUDGET = 128 * 1024


@pytest.mark.parametrize("rank", [1, 2, 7, 8, 15, 16, 17, 33, 64, 65, 128, 256])
def test_every_dot_dimension_is_a_power_of_two_of_at_least_16(rank):
    # A 16-bit tl.dot needs K >= 16 on NVIDIA GPUs (triton/backends/nvidia:
    # min_dot_size); every block size here is some dot's K in some kernel
    # (the rank block is the K of the epilogue dot of the forward and of dX).
    for size in launch.dot_block_sizes(rank):
        assert size >= 16 and size & (size - 1) == 0, (rank, size)


def test_small_ranks_are_padded():
    assert launch.rank_block(1) == 16
    assert launch.rank_block(16) == 16
    assert launch.rank_block(17) == 32
    assert launch.rank_block(1000) == launch.MAX_RANK_BLOCK


@pytest.mark.parametrize("table", list(CONFIG_TABLES))
def test_pipelined_tiles_fit_in_shared_memory(table):
    configs, elem = CONFIG_TABLES[table]
    block_r = launch.MAX_RANK_BLOCK

    def gemm(c):
        return (c.block_m * c.block_k + c.block_k * c.block_n) * elem * c.num_stages

    per_kernel = {
        "fused_decode": gemm(configs.fused_decode),
        "fused_small": gemm(configs.fused_small),
        "fused_large": gemm(configs.fused_large),
        "shrink": (configs.shrink.block_m * configs.shrink.block_k + configs.shrink.block_k * block_r)
        * elem * configs.shrink.num_stages,
        # P is loaded as float32, Q in the operand dtype.
        "weight_grad": (block_r * configs.weight_grad.block_m * 4
                        + configs.weight_grad.block_m * configs.weight_grad.block_n * elem)
        * configs.weight_grad.num_stages,
    }
    for name, size in per_kernel.items():
        assert size <= SHARED_MEMORY_BUDGET, (table, name, size)
