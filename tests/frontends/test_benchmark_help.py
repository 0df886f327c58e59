"""Every benchmark script prints its `--help` anywhere: no GPU, and none of the optional packages
(torch, triton, peft, transformers, hypothesis) imported before argparse has answered."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.frontends.conftest import REPO

OPTIONAL = ("torch", "triton", "peft", "transformers", "accelerate", "hypothesis", "hypothesmith")
# the import of any OPTIONAL package fails, as it would where it is not installed
_RUN_HELP = """
import runpy, sys
for name in {optional!r}:
    sys.modules[name] = None
sys.argv = [{script!r}, "--help"]
runpy.run_path({script!r}, run_name="__main__")
"""
# scripts another part of issue 17 owns, not yet converted
@pytest.mark.parametrize("name", [p.name for p in sorted((REPO / "benchmarks").glob("*.py"))])
def test_help_needs_no_gpu_and_no_optional_package(name: str, tmp_path):
    script = str(REPO / "benchmarks" / name)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["CUDA_VISIBLE_DEVICES"] = ""
    # from an unrelated folder: the scripts find the checkout themselves
    proc = subprocess.run([sys.executable, "-c", _RUN_HELP.format(optional=OPTIONAL, script=script)],
                          cwd=tmp_path, env=env, capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.decode().startswith("usage: ")
