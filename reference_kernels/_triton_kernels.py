"""Triton kernels of the fused LoRA linear; launched only from ``launch.py``.

Three kernels cover forward and backward:

* ``shrink``: ``T = X·Aᵀ`` into float32 (the rank-r projection).
* ``fused_linear``: ``Y = X·Wᵀ + s·T·Bᵀ + b`` with one float32 accumulator
  and one rounding at the store.  The backward reuses it for
  ``dX = dY·W + s·(dY·B)·A`` by passing transposed strides.
* ``weight_grad``: ``G = s·Pᵀ·Q`` reduced over the token dimension, for
  ``dA = s·(dY·B)ᵀ·X`` and ``dBᵀ = s·(X·Aᵀ)ᵀ·dY``.

Every operand is addressed through explicit strides, so transposed and other
non-contiguous views need no copy.  ``UPCAST`` is set when the CPU
interpreter runs bf16 (it computes bf16 arithmetic wrongly while loads, stores
and casts are exact), so tiles are widened to float32 right after loading.
Importing this module decorates the kernels, and Triton fixes interpreted vs
compiled at that moment; the launcher therefore imports it lazily.
"""

import triton
import triton.language as tl


@triton.jit
def shrink_kernel(x_ptr, a_ptr, t_ptr, M, K, R,
                  stride_xm, stride_xk, stride_ar, stride_ak, stride_tm, stride_tr,
                  BLOCK_M: tl.constexpr, BLOCK_K: tl.constexpr, BLOCK_R: tl.constexpr,
                  UPCAST: tl.constexpr, PRECISION: tl.constexpr):
    pid_m = tl.program_id(0)
    pid_r = tl.program_id(1)
    offs_m = (pid_m * BLOCK_M + tl.arange(0, BLOCK_M)).to(tl.int64)
    offs_r = pid_r * BLOCK_R + tl.arange(0, BLOCK_R)
    offs_k = tl.arange(0, BLOCK_K)
    acc = tl.zeros((BLOCK_M, BLOCK_R), dtype=tl.float32)
    for k0 in range(0, K, BLOCK_K):
        k_ok = offs_k < K - k0
        x = tl.load(x_ptr + offs_m[:, None] * stride_xm + (k0 + offs_k)[None, :] * stride_xk,
                    mask=(offs_m[:, None] < M) & k_ok[None, :], other=0.0)
        # A is read as its transpose, [BLOCK_K, BLOCK_R]; padded ranks load zeros.
        a = tl.load(a_ptr + (k0 + offs_k)[:, None] * stride_ak + offs_r[None, :] * stride_ar,
                    mask=k_ok[:, None] & (offs_r[None, :] < R), other=0.0)
        if UPCAST:
            x = x.to(tl.float32)
            a = a.to(tl.float32)
        acc = tl.dot(x, a, acc, input_precision=PRECISION)
    tl.store(t_ptr + offs_m[:, None] * stride_tm + offs_r[None, :] * stride_tr, acc,
             mask=(offs_m[:, None] < M) & (offs_r[None, :] < R))


@triton.jit
def fused_linear_kernel(x_ptr, w_ptr, t_ptr, b_ptr, bias_ptr, y_ptr, M, N, K, R, scaling,
                        stride_xm, stride_xk, stride_wn, stride_wk, stride_tm, stride_tr,
                        stride_bn, stride_br, stride_ym, stride_yn,
                        HAS_BIAS: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                        BLOCK_K: tl.constexpr, BLOCK_R: tl.constexpr, GROUP_M: tl.constexpr,
                        UPCAST: tl.constexpr, PRECISION: tl.constexpr):
    # Grouped tile order: GROUP_M row-blocks share each W column-block while it is in L2.
    pid = tl.program_id(0)
    num_pid_m = tl.cdiv(M, BLOCK_M)
    num_pid_n = tl.cdiv(N, BLOCK_N)
    group_size = GROUP_M * num_pid_n
    first_m = (pid // group_size) * GROUP_M
    rows_in_group = tl.minimum(num_pid_m - first_m, GROUP_M)
    pid_m = first_m + (pid % group_size) % rows_in_group
    pid_n = (pid % group_size) // rows_in_group

    offs_m = (pid_m * BLOCK_M + tl.arange(0, BLOCK_M)).to(tl.int64)
    offs_n = (pid_n * BLOCK_N + tl.arange(0, BLOCK_N)).to(tl.int64)
    offs_k = tl.arange(0, BLOCK_K)
    m_ok = offs_m < M
    n_ok = offs_n < N
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k0 in range(0, K, BLOCK_K):
        k_ok = offs_k < K - k0
        x = tl.load(x_ptr + offs_m[:, None] * stride_xm + (k0 + offs_k)[None, :] * stride_xk,
                    mask=m_ok[:, None] & k_ok[None, :], other=0.0)
        w = tl.load(w_ptr + (k0 + offs_k)[:, None] * stride_wk + offs_n[None, :] * stride_wn,
                    mask=k_ok[:, None] & n_ok[None, :], other=0.0)
        if UPCAST:
            x = x.to(tl.float32)
            w = w.to(tl.float32)
        acc = tl.dot(x, w, acc, input_precision=PRECISION)

    # Epilogue: the low-rank term joins the same float32 accumulator, so the
    # output is rounded once.  T is rounded to the operand dtype for the
    # tensor-core dot, as PEFT rounds lora_A's output to the adapter dtype.
    offs_r = tl.arange(0, BLOCK_R)
    lora = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for r0 in range(0, R, BLOCK_R):
        r_ok = offs_r < R - r0
        t = tl.load(t_ptr + offs_m[:, None] * stride_tm + (r0 + offs_r)[None, :] * stride_tr,
                    mask=m_ok[:, None] & r_ok[None, :], other=0.0)
        b = tl.load(b_ptr + (r0 + offs_r)[:, None] * stride_br + offs_n[None, :] * stride_bn,
                    mask=r_ok[:, None] & n_ok[None, :], other=0.0)
        if UPCAST:
            b = b.to(tl.float32)
        lora = tl.dot(t.to(b.dtype), b, lora, input_precision=PRECISION)
    acc += scaling * lora
    if HAS_BIAS:
        bias = tl.load(bias_ptr + offs_n, mask=n_ok, other=0.0)
        acc += bias.to(tl.float32)[None, :]
    tl.store(y_ptr + offs_m[:, None] * stride_ym + offs_n[None, :] * stride_yn,
             acc.to(y_ptr.dtype.element_ty), mask=m_ok[:, None] & n_ok[None, :])


@triton.jit
def weight_grad_kernel(p_ptr, q_ptr, g_ptr, M, R, C, scaling, rows_per_split,
                       stride_pm, stride_pr, stride_qm, stride_qc, stride_gs, stride_gr, stride_gc,
                       BLOCK_M: tl.constexpr, BLOCK_R: tl.constexpr, BLOCK_C: tl.constexpr,
                       UPCAST: tl.constexpr, PRECISION: tl.constexpr):
    # G[split] = s · P[rows]ᵀ · Q[rows]; the host sums the splits in float32,
    # which is deterministic and avoids atomics (bf16 atomics do not exist on
    # every target and fail in the interpreter).
    pid_rc = tl.program_id(0)
    split = tl.program_id(1)
    num_pid_c = tl.cdiv(C, BLOCK_C)
    pid_r = pid_rc // num_pid_c
    pid_c = pid_rc % num_pid_c
    offs_r = pid_r * BLOCK_R + tl.arange(0, BLOCK_R)
    offs_c = (pid_c * BLOCK_C + tl.arange(0, BLOCK_C)).to(tl.int64)
    offs_m = tl.arange(0, BLOCK_M)
    r_ok = offs_r < R
    c_ok = offs_c < C
    start = split * rows_per_split
    stop = tl.minimum(start + rows_per_split, M)
    acc = tl.zeros((BLOCK_R, BLOCK_C), dtype=tl.float32)
    for m0 in range(start, stop, BLOCK_M):
        rows = (m0 + offs_m).to(tl.int64)
        m_ok = rows < stop
        # P is read as its transpose, [BLOCK_R, BLOCK_M].
        p = tl.load(p_ptr + rows[None, :] * stride_pm + offs_r[:, None] * stride_pr,
                    mask=r_ok[:, None] & m_ok[None, :], other=0.0)
        q = tl.load(q_ptr + rows[:, None] * stride_qm + offs_c[None, :] * stride_qc,
                    mask=m_ok[:, None] & c_ok[None, :], other=0.0)
        if UPCAST:
            q = q.to(tl.float32)
        acc = tl.dot(p.to(q.dtype), q, acc, input_precision=PRECISION)
    tl.store(g_ptr + split * stride_gs + offs_r[:, None] * stride_gr + offs_c[None, :] * stride_gc,
             scaling * acc, mask=r_ok[:, None] & c_ok[None, :])
