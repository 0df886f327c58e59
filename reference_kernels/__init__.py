"""Reference Triton LoRA kernels (filled by the reference-kernels issue)."""
