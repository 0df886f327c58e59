"""Two real ranks (torchrun, gloo over loopback): reports carry the rank, `log` mode writes one
JSONL file per rank, and the consistency check finds a rank-divergent scaling."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from tests.runtime.conftest import FIXTURES, ROOT, helper_line

pytest.importorskip("torch")
pytest.importorskip("peft")
pytest.importorskip("transformers")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_ranks_only_rank1_reports_and_divergent_scaling_is_caught(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", GLOO_SOCKET_IFNAME="lo")
    env.pop("LORA_LINT_RUNTIME", None)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
           "--master_port", str(_free_port()), "-m", "analyzer.runtime", "--mode", "log", "--log-dir", str(tmp_path),
           "--watch", "lora_helpers:get_lora_parameters_bias", "dist_script.py"]
    proc = subprocess.run(cmd, cwd=FIXTURES, env=env, capture_output=True, text=True, timeout=150)
    assert proc.returncode == 0, proc.stderr[-3000:]
    records = {rank: [json.loads(line) for line in (tmp_path / f"lora-lint-rank{rank}.jsonl").read_text().splitlines()]
               for rank in (0, 1)}
    lines = (helper_line("get_lora_parameters_bias", "return W, quant_state, None, None, None, base_layer.bias"),
             helper_line("get_lora_parameters_bias", "return W, quant_state, A, B, proj.scaling"))
    arity = [(rank, r["message"], r["count"], r["summary"]) for rank in (0, 1) for r in records[rank]
             if r["site"] == "get_lora_parameters_bias:arity"]
    first = (f"[rank 1/2] get_lora_parameters_bias returned 5 values on call 1; its returns at lines {lines[0]} and "
             f"{lines[1]} produce 6")
    # two reference forwards on rank 1, four fast-path calls each: reported once, totalled at the end
    assert arity == [(1, first, 1, False), (1, first, 8, True)]
    q0 = "base_model.model.model.layers.0.self_attn.q_proj"
    for rank in (0, 1):
        consistency = [r for r in records[rank] if r["site"] == "consistency"]
        assert consistency[0]["message"] == (
            f"[rank {rank}/2] LoRA state differs across ranks at forward 2: rank(s) 1 differ from rank(s) 0 "
            f"(layer {q0}: default scaling 2.0 vs 4.0, rank 0 vs rank 1)")
        assert consistency[-1]["count"] == 2  # forwards 2 and 4
        assert all(r["rank"] == rank and r["world"] == 2 for r in records[rank])
