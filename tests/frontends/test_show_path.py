"""`--show-path`, the JSON `trace` and SARIF `codeFlows`: the path behind a finding, through the
real command line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.frontends.conftest import lora_lint

# two decisions skip the binding (lines 2 and 4); an unrelated test (line 8) is passed over
SCALED = """\
def scaled_delta(x, adapter, mode):
    if mode == "lora":
        delta = adapter.lora(x)
    elif mode == "dora":
        delta = adapter.dora(x)
    else:
        adapter.warn(mode)
    if adapter.merged:
        x = x.detach()
    return x + delta * adapter.scale
"""

FINDING = ("lora.py:10:16: LL202 `delta` may be unbound here: it is bound at lines 3 and 5, "
           "but not on every path to this line\n")
PATH = ("    path: line 2: `mode == \"lora\"` is false\n"
        "    path: line 4: `mode == \"dora\"` is false\n"
        "    path: line 10: `delta` is read while unbound\n")


def _lint(folder: Path, *args: str):
    """The command's output, as bytes (byte for byte what a user sees)."""
    return lora_lint("lora.py", "--no-cache", "--isolated", *args, cwd=folder)


def test_text_without_the_flag_is_the_finding_alone(tmp_path: Path):
    (tmp_path / "lora.py").write_text(SCALED)
    proc = _lint(tmp_path)
    assert proc.stdout == FINDING.encode()
    assert proc.returncode == 1


def test_show_path_prints_the_branches_taken_under_the_finding(tmp_path: Path):
    (tmp_path / "lora.py").write_text(SCALED)
    proc = _lint(tmp_path, "--show-path")
    assert proc.stdout == (FINDING + PATH).encode()
    assert proc.returncode == 1


def test_json_carries_the_path_as_a_trace(tmp_path: Path):
    (tmp_path / "lora.py").write_text(SCALED)
    (item,) = json.loads(_lint(tmp_path, "--format", "json").stdout)
    assert item["path"] == "lora.py" and item["line"] == 10
    assert item["trace"] == [
        {"line": 2, "column": 8, "message": '`mode == "lora"` is false'},
        {"line": 4, "column": 10, "message": '`mode == "dora"` is false'},
        {"line": 10, "column": 16, "message": "`delta` is read while unbound"},
    ]


def test_sarif_code_flow_is_structurally_valid(tmp_path: Path):
    """SARIF 2.1.0 (3.27.18, 3.36, 3.37, 3.38): result.codeFlows is a non-empty array of codeFlow
    objects, each with a non-empty threadFlows array, each with a non-empty locations array of
    threadFlowLocations whose `location` has a physicalLocation with a region."""
    (tmp_path / "lora.py").write_text(SCALED)
    log = json.loads(_lint(tmp_path, "--format", "sarif").stdout)
    (result,) = log["runs"][0]["results"]
    (flow,) = result["codeFlows"]
    assert isinstance(flow["message"]["text"], str)
    (thread,) = flow["threadFlows"]
    steps = []
    for i, tfl in enumerate(thread["locations"]):
        assert set(tfl) <= {"location", "executionOrder", "kinds"}
        assert tfl["executionOrder"] == i + 1
        loc = tfl["location"]
        assert loc["physicalLocation"]["artifactLocation"] == result["locations"][0]["physicalLocation"][
            "artifactLocation"]
        region = loc["physicalLocation"]["region"]
        assert isinstance(region["startLine"], int) and region["startLine"] >= 1 and region["startColumn"] >= 1
        steps.append((region["startLine"], loc["message"]["text"], tfl.get("kinds")))
    assert steps == [(2, '`mode == "lora"` is false', ["branch"]), (4, '`mode == "dora"` is false', ["branch"]),
                     (10, "`delta` is read while unbound", None)]
    # the flow ends where the result is
    assert thread["locations"][-1]["location"]["physicalLocation"]["region"]["startLine"] == \
        result["locations"][0]["physicalLocation"]["region"]["startLine"]


def test_github_annotations_do_not_change(tmp_path: Path):
    (tmp_path / "lora.py").write_text(SCALED)
    proc = _lint(tmp_path, "--format", "github")
    assert proc.stdout.decode() == ("::error file=lora.py,line=10,col=16,endLine=10,endColumn=21,title=LL202::LL202 "
                                    + FINDING.split(" LL202 ", 1)[1])


def test_show_path_is_refused_where_it_would_print_nothing(tmp_path: Path):
    (tmp_path / "lora.py").write_text(SCALED)
    proc = _lint(tmp_path, "--show-path", "--format", "github")
    assert proc.returncode == 2 and b"--show-path" in proc.stderr


def test_opt_in_ll204_has_a_path_through_the_test_around_the_read(tmp_path: Path):
    (tmp_path / "lora.py").write_text(
        "def merge(layer, x, use_bias, training):\n"
        "    if use_bias:\n"
        "        bias = layer.bias\n"
        "    if training:\n"
        "        return x + bias\n"
        "    return x\n")
    proc = _lint(tmp_path, "--select", "LL204", "--show-path")
    lines = proc.stdout.decode().splitlines()
    assert lines[0].startswith("lora.py:5:20: LL204 ")
    assert lines[1:] == ["    path: line 2: `use_bias` is false", "    path: line 4: `training` is true",
                         "    path: line 5: `bias` is read while unbound"]
