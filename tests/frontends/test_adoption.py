"""Adopting the linter on a codebase with a backlog: `--add-noqa` and `--baseline FILE`, through the
real `lora-lint` (and flake8, for where a directive is honoured)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from tests.frontends.conftest import lora_lint, run_tool

MULTI_LINE = '''\
def in_a_string(flag):
    if flag:
        x = 1
    return f"""value
{x}
"""


def continued(flag):
    if flag:
        y = 1
    return y + \\
        1


def bracketed(flag):
    if flag:
        z = 1
    return max(
        z,
        2,
    )
'''


def _run(*args: str, cwd: Path) -> tuple[int, str, str]:
    proc = lora_lint(*args, "--no-cache", cwd=cwd)
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.py"))}


def test_add_noqa_silences_every_finding_and_is_idempotent(data_copy: Path):
    rc, out, err = _run(".", "--add-noqa", cwd=data_copy)
    assert (rc, out) == (0, "") and "added 7 noqa directive(s) to 3 file(s)" in err
    assert _run(".", cwd=data_copy) == (0, "", "")
    after = _tree(data_copy)
    rc, _, err = _run(".", "--add-noqa", cwd=data_copy)
    assert rc == 0 and "added 0 noqa directive(s) to 0 file(s)" in err
    assert _tree(data_copy) == after
    lines = after["mixed.py"].decode().splitlines()
    assert lines[4] == '    if name in ("lora_A"):  # noqa: LL103'
    assert lines[6] == "    return s  # noqa: LL202"


def test_add_noqa_merges_into_an_existing_directive_and_keeps_other_comments(data_copy: Path):
    _run("noqa.py", "--add-noqa", cwd=data_copy)
    text = (data_copy / "noqa.py").read_text()
    assert "        return proj.weight, bias  # noqa: E501, LL201\n" in text
    assert "    return proj.weight * magnitude  # type: ignore[attr-defined]  # noqa: LL202\n" in text


def test_add_noqa_keeps_encoding_line_endings_and_mode(tmp_path: Path):
    src = tmp_path / "legacy.py"
    body = "# -*- coding: latin-1 -*-\r\ndef f(flag):\r\n    if flag:\r\n        s = 'é'\r\n    return s\r\n"
    src.write_bytes(body.encode("latin-1"))
    os.chmod(src, 0o750)
    assert _run("legacy.py", "--add-noqa", cwd=tmp_path)[0] == 0
    assert src.read_bytes() == body.replace("return s\r\n", "return s  # noqa: LL202\r\n").encode("latin-1")
    assert stat.S_IMODE(src.stat().st_mode) == 0o750


def test_add_noqa_never_writes_inside_a_string_and_goes_where_flake8_honours_it(tmp_path: Path):
    (tmp_path / "multi.py").write_text(MULTI_LINE)
    rc, out, _ = _run("multi.py", cwd=tmp_path)
    assert [line.split(": ")[0] for line in out.splitlines()] == ["multi.py:5:2", "multi.py:12:12", "multi.py:20:9"]
    assert _run("multi.py", "--add-noqa", cwd=tmp_path)[0] == 0
    lines = (tmp_path / "multi.py").read_text().splitlines()
    assert lines[3:6] == ['    return f"""value', "{x}", '"""  # noqa: LL202']  # end of the string
    assert lines[11:13] == ["    return y + \\", "        1  # noqa: LL202"]  # end of the continuation
    assert lines[19] == "        z,  # noqa: LL202"  # a bracketed line keeps its own
    assert _run("multi.py", cwd=tmp_path) == (0, "", "")
    compile("\n".join(lines), "multi.py", "exec")  # still valid Python
    flake8 = run_tool([sys.executable, "-m", "flake8", "--select", "LL", "multi.py"], tmp_path)
    assert (flake8.returncode, flake8.stdout) == (0, b""), flake8.stdout.decode()


def test_add_noqa_refuses_to_combine_with_fixes(data_copy: Path):
    rc, _, err = _run(".", "--add-noqa", "--fix", cwd=data_copy)
    assert rc == 2 and "--add-noqa" in err


def test_baseline_records_then_reports_only_new_findings_across_line_shifts(data_copy: Path):
    rc, out, err = _run(".", "--baseline", "lint-baseline.json", cwd=data_copy)
    assert (rc, out) == (0, "") and "recorded 7 finding(s) in the baseline lint-baseline.json" in err
    recorded = json.loads((data_copy / "lint-baseline.json").read_text())
    assert {"path": "seed_bug.py", "code": "LL201", "scope": "get_lora_parameters", "count": 1,
            "message": "undefined name `bias`: nothing in `get_lora_parameters`, the module or builtins binds it; "
                       "did you mean `base_layer.bias`, as returned at line N?"} in recorded["findings"]
    assert _run(".", "--baseline", "lint-baseline.json", cwd=data_copy) == (0, "", "")

    seed = data_copy / "seed_bug.py"
    old = seed.read_text()
    # lines added above every recorded finding, and one new finding in a new function
    seed.write_text("import os\n\n\n" + old + "\n\ndef added(flag):\n    if flag:\n        w = 1\n    return w\n")
    rc, out, _ = _run(".", "--baseline", "lint-baseline.json", cwd=data_copy)
    assert rc == 1 and out.splitlines() == [
        "seed_bug.py:16:12: LL202 `w` may be unbound here: it is bound at line 15, but not on every path to this line"]


def test_baseline_counts_repeats_and_notices_fixed_findings(data_copy: Path):
    _run("mixed.py", "--baseline", "b.json", cwd=data_copy)
    mixed = data_copy / "mixed.py"
    text = mixed.read_text()
    # the same defect a second time in the same function: one more than recorded
    mixed.write_text(text.replace("    return s\n", '    print(name in ("lora_A"))\n    return s\n'))
    rc, out, _ = _run("mixed.py", "--baseline", "b.json", cwd=data_copy)
    assert rc == 1 and out.startswith("mixed.py:7:20: LL103 ") and len(out.splitlines()) == 1, out
    mixed.write_text(text.replace('("lora_A")', '("lora_A",)'))
    rc, out, err = _run("mixed.py", "--baseline", "b.json", cwd=data_copy)
    assert (rc, out) == (0, "") and "1 finding(s) recorded in b.json are gone" in err
    assert _run("mixed.py", "--baseline", "b.json", "--write-baseline", cwd=data_copy)[0] == 0
    assert len(json.loads((data_copy / "b.json").read_text())["findings"]) == 3


def test_a_broken_baseline_is_a_located_error(data_copy: Path):
    (data_copy / "b.json").write_text('{"lora-lint-baseline": 1,\n "findings": [}\n')
    rc, out, err = _run(".", "--baseline", "b.json", cwd=data_copy)
    assert (rc, out) == (2, "") and "lora-lint: error: b.json:2:15: not a lora-lint baseline (invalid JSON" in err
    (data_copy / "b.json").write_text("[]")
    rc, _, err = _run(".", "--baseline", "b.json", cwd=data_copy)
    assert rc == 2 and "b.json: not a lora-lint baseline" in err
    proc = subprocess.run([sys.executable, "-c", "import analyzer.baseline"], capture_output=True, timeout=60)
    assert proc.returncode == 0  # importing does nothing at import time that could fail
