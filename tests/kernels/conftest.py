"""Run the Triton kernels in the CPU interpreter when no CUDA device exists.

Triton decides interpreted vs compiled when a kernel is decorated, i.e. when
``reference_kernels._triton_kernels`` is first imported; the library imports it
lazily at the first launch, so setting the variable here (before any test in
this directory runs) is early enough.  An explicit TRITON_INTERPRET from the
caller wins.
"""

import os

import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")
