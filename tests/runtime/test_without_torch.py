"""With torch not importable, the static linter still works and the tracer fails with one clear
message (a real interpreter in which an import hook hides torch)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# an import hook that makes torch look uninstalled, shared by the programs below
HIDE_TORCH = r'''
import importlib.abc, sys

class HideTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, HideTorch())
'''

PROGRAM = HIDE_TORCH + r'''
from analyzer.engine import lint_source
found = lint_source("def f(p):\n    if p:\n        return 1, bias\n    return 1, 2\n", "x.py")
print("STATIC", [d.code for d in found])
import analyzer.runtime as rt
print("IMPORTED", rt.current_mode())
try:
    rt.enable("raise")
except ImportError as exc:
    print("ERROR", exc)
print("TORCH LOADED", "torch" in sys.modules)
'''


def test_static_parts_work_and_runtime_says_why():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", PROGRAM], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "STATIC ['LL201']" in lines
    assert "IMPORTED off" in lines
    assert "ERROR lora-lint's runtime tracer needs PyTorch: pip install 'lora-lint[runtime]'" in lines
    assert "TORCH LOADED False" in lines


LAUNCHER = HIDE_TORCH + r'''
import runpy
sys.argv = ["analyzer.runtime", "--mode", "raise", sys.argv[1]]
runpy.run_module("analyzer.runtime", run_name="__main__", alter_sys=True)
'''


def test_launcher_without_torch_exits_2_with_the_reason(tmp_path):
    script = tmp_path / "train.py"
    script.write_text("print('ran')\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", LAUNCHER, str(script)], env=env, capture_output=True, text=True,
                          timeout=120)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == ("python -m analyzer.runtime: lora-lint's runtime tracer needs PyTorch: "
                           "pip install 'lora-lint[runtime]'\n")
