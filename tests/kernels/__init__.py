"""Tests of reference_kernels (a package, so that these module names cannot clash)."""
