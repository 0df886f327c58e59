"""Two real ranks (torchrun, gloo over loopback): reports carry the rank; the consistency check
finds a rank-divergent scaling."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("peft")

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures" / "runtime"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_ranks_only_rank1_reports_and_divergent_scaling_is_caught(tmp_path):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["OMP_NUM_THREADS"] = "1"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
           "--master_port", str(_free_port()), "-m", "analyzer.runtime", "--mode", "log", "--log-dir", str(tmp_path), "dist_script.py"]
    proc = subprocess.run(cmd, cwd=FIXTURES, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # `log` mode: one JSONL file per rank
    by_rank = {}
    for rank in (0, 1):
        path = tmp_path / f"lora-lint-rank{rank}.jsonl"
        records = [json.loads(line) for line in path.read_text().splitlines()]
        by_rank[rank] = [r["message"] for r in records if not r.get("summary")]
        if rank == 1:
            totals = {r["site"]: r["count"] for r in records if r.get("summary")}
            assert totals.get("get_lora_parameters_bias:arity") == 4, records
    arity = [m for r in (0, 1) for m in by_rank[r] if "returned 5 values" in m]
    assert arity == ["[rank 1/2] get_lora_parameters_bias returned 5 values on call 1; its returns at line 13 "
                     "produce 6"], by_rank
    for rank in (0, 1):
        consistency = [m for m in by_rank[rank] if "differs across ranks" in m]
        assert consistency and all(m.startswith(f"[rank {rank}/2] ") and "rank(s) 1 differ from rank 0" in m
                                   for m in consistency), by_rank
