"""Output formats, statistics and standard input."""

from __future__ import annotations

import io
import json
from pathlib import Path

from analyzer.diagnostics import Diagnostic
from analyzer.frontends import cli
from analyzer.frontends.formats import write_github
from analyzer.rules import ALL_RULES, ENGINE_CODES
from tests.frontends.conftest import DATA, lora_lint


def _run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    rc = cli.run([*args, "--no-cache", "--jobs", "1", "--isolated"], out=out)
    return rc, out.getvalue()


def test_text_is_sorted_by_path_line_column(data_copy: Path):
    rc, text = _run(str(data_copy))
    lines = text.splitlines()
    keys = [(p, int(ln), int(col)) for p, ln, col in (line.split(": ")[0].rsplit(":", 2) for line in lines)]
    assert keys == sorted(keys) and len(lines) == 7 and rc == 1


def test_json(data_copy: Path):
    rc, text = _run(str(data_copy / "seed_bug.py"), "--format", "json")
    (item,) = json.loads(text)
    assert (item["code"], item["line"], item["column"], item["end_line"], item["end_column"]) == ("LL201", 4, 59, 4, 63)


def test_sarif_is_2_1_0_with_rules_and_located_results(data_copy: Path):
    rc, text = _run(str(data_copy), "--format", "sarif")
    log = json.loads(text)
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.code for r in ALL_RULES] + sorted(ENGINE_CODES)
    for rule in rules[: len(ALL_RULES)]:
        assert rule["shortDescription"]["text"] and "## What it does" in rule["help"]["markdown"]
    assert len(run["results"]) == 7
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        loc = result["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"].startswith("file://")
        assert loc["region"]["startLine"] >= 1 and loc["region"]["startColumn"] >= 1
    seed = [r for r in run["results"] if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith(
        "/seed_bug.py")]
    assert seed[0]["ruleId"] == "LL201"
    assert seed[0]["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 4, "startColumn": 59, "endLine": 4, "endColumn": 63}


def test_sarif_relative_uri(data_copy: Path):
    proc = lora_lint("seed_bug.py", "--format", "sarif", "--no-cache", cwd=data_copy)
    (result,) = json.loads(proc.stdout)["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "seed_bug.py"


def test_github_annotations(data_copy: Path):
    rc, text = _run(str(data_copy / "seed_bug.py"), "--format", "github")
    assert text.startswith(f"::error file={data_copy}/seed_bug.py,line=4,col=59,endLine=4,endColumn=63,title=LL201::"
                           "LL201 undefined name `bias`")


def test_github_escapes_properties_and_data():
    out = io.StringIO()
    write_github([Diagnostic("a,b:c.py", 1, 2, "LL101", "100% bad\nreally")], out)
    assert out.getvalue() == "::error file=a%2Cb%3Ac.py,line=1,col=2,title=LL101::LL101 100%25 bad%0Areally\n"


def test_statistics(data_copy: Path):
    rc, text = _run(str(data_copy), "--statistics")
    assert text.splitlines() == [
        "     1  LL101  return-shape-mismatch",
        "     1  LL103  parenthesized-not-tuple",
        "     3  LL201  undefined-name",
        "     2  LL202  possibly-unbound",
    ]
    assert rc == 1
    rc, text = _run(str(data_copy), "--statistics", "--format", "json")
    assert {row["code"]: row["count"] for row in json.loads(text)} == {"LL101": 1, "LL103": 1, "LL201": 3, "LL202": 2}


def test_stdin_with_a_file_name():
    source = (DATA / "seed_bug.py.txt").read_bytes()
    proc = lora_lint("-", "--stdin-filename", "pkg/params.py", input=source, cwd=DATA)
    assert proc.returncode == 1
    assert proc.stdout.decode().startswith("pkg/params.py:4:59: LL201 ")
    clean = lora_lint("-", input=(DATA / "clean.py.txt").read_bytes(), cwd=DATA)
    assert (clean.returncode, clean.stdout) == (0, b"")


def test_stdin_name_picks_the_configuration(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text('[tool.lora-lint]\nper-file-ignores = { "pkg/*" = ["LL201"] }\n')
    source = (DATA / "seed_bug.py.txt").read_bytes()
    proc = lora_lint("-", "--stdin-filename", str(tmp_path / "pkg" / "params.py"), input=source, cwd=DATA)
    assert (proc.returncode, proc.stdout) == (0, b"")


def test_usage_errors(capsys, data_copy: Path):
    assert _run("-", str(data_copy))[0] == 2
    assert _run(str(data_copy), "--stdin-filename", "x.py")[0] == 2
    assert _run(str(data_copy), "--statistics", "--format", "sarif")[0] == 2
    assert _run(str(data_copy), "--jobs", "0")[0] == 2
    assert _run(str(data_copy), "--format", "xml")[0] == 2


def test_unreadable_path_exits_2(tmp_path: Path):
    rc, text = _run(str(tmp_path / "missing.py"))
    assert rc == 2 and "LL003" in text


def test_noqa_codes_prefixes_and_pyflakes_twins(data_copy: Path):
    """`# noqa: LL201` and `# noqa: LL2` silence, as does pyflakes' own code for an undefined name
    (the author already decided about that line); another tool's unrelated code does not."""
    proc = lora_lint("--format", "json", "noqa.py", cwd=data_copy)
    # mypy's and pyright's ignore for the same defect count too; an unrelated type-ignore does not
    assert [(d["line"], d["code"]) for d in json.loads(proc.stdout)] == [(9, "LL201"), (46, "LL202")]


def test_stubs_get_no_runtime_name_findings(tmp_path: Path):
    """A .pyi never runs: its bare annotations declare names, and type checkers' `reveal_type`
    is no call. The same lines in a .py file do fail at run time."""
    source = "from typing import Any\n\nW: Any\nscaled = W * 2\nreveal_type(scaled)\n"
    (tmp_path / "lora_types.pyi").write_text(source)
    (tmp_path / "lora_types.py").write_text(source)
    rc, text = _run(str(tmp_path))
    found = sorted((line.split(":")[0].rsplit(".", 1)[1], line.split(": ")[1].split()[0], line.split("`")[1])
                   for line in text.splitlines())
    # in the .py file the bare annotation binds nothing (`W` is undefined), and neither is reveal_type
    assert found == [("py", "LL201", "W"), ("py", "LL201", "reveal_type")], text
    assert rc == 1
