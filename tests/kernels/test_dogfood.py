"""Issue item 6: lora-lint reports nothing on the reference kernels (or their tests and benchmark)."""

import io
from pathlib import Path

from analyzer.frontends.cli import run

ROOT = Path(__file__).resolve().parents[2]


def test_lora_lint_reports_nothing_on_reference_kernels():
    out = io.StringIO()
    paths = [ROOT / "reference_kernels", ROOT / "benchmarks" / "lora_kernels_gpu.py", Path(__file__).parent]
    assert run([str(p) for p in paths], out=out) == 0, out.getvalue()
    assert out.getvalue() == ""
