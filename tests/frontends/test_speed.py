"""--jobs and the cache: the same findings in the same order however the work is split or cached."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from analyzer import cache as cache_module
from analyzer.selection import Selection
from analyzer.frontends import cli, runner
from tests.frontends.conftest import BIN, REPO, copy_data, tool_env


def _run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    rc = cli.run([*args, "--isolated"], out=out)
    return rc, out.getvalue()


@pytest.fixture
def many(tmp_path: Path) -> Path:
    """About 40 files with findings of every kind, including cross-file ones."""
    root = tmp_path / "many"
    shutil.copytree(REPO / "fixtures", root / "fixtures")
    copy_data(root / "data")
    return root


def test_jobs_give_identical_output(many: Path, monkeypatch):
    pools = []
    real = runner.ProcessPoolExecutor

    def recording(*args, **kwargs):
        pools.append(kwargs.get("max_workers"))
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "ProcessPoolExecutor", recording)
    one = _run(str(many), "--no-cache", "--jobs", "1")
    four = _run(str(many), "--no-cache", "--jobs", "4")
    # the second run really used worker processes (the first pool; a second one runs the second
    # pass when two files or more need it)
    assert pools and pools[0] == 4
    assert one == four and one[0] == 1 and len(one[1].splitlines()) > 40
    assert "LL301" in one[1]  # cross-file findings survive the split


def test_warm_cache_gives_identical_output_and_hits(many: Path, tmp_path: Path, monkeypatch):
    cache_dir = tmp_path / "cache"
    cold = _run(str(many), "--cache-dir", str(cache_dir), "--jobs", "2")
    assert (cache_dir / "CACHEDIR.TAG").exists() and (cache_dir / ".gitignore").read_text().endswith("*\n")
    calls = []
    monkeypatch.setattr(runner, "_analyze", lambda task: calls.append(task[0]))
    warm = _run(str(many), "--cache-dir", str(cache_dir), "--jobs", "2")
    assert warm == cold and calls == []


def _project(root: Path, callee_returns: str) -> None:
    pkg = root / "pkg"
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "callee.py").write_text(f"def get_params(proj):\n    return {callee_returns}\n")
    (pkg / "caller.py").write_text("from pkg.callee import get_params\n\n\ndef run(proj):\n"
                                   "    weight, bias = get_params(proj)\n    return weight, bias\n")


def test_cache_follows_content_config_and_tool_changes(tmp_path: Path, monkeypatch):
    proj = tmp_path / "proj"
    _project(proj, "proj.weight, proj.bias")
    args = [str(proj), "--cache-dir", str(tmp_path / "cache"), "--jobs", "1"]
    assert _run(*args) == (0, "")
    analysed = []
    real = runner._analyze
    monkeypatch.setattr(runner, "_analyze", lambda task: analysed.append(Path(task[0]).name) or real(task))

    # the callee changes; the caller is a cache hit, yet its cross-file finding appears
    _project(proj, "proj.weight, proj.bias, proj.scaling")
    rc, text = _run(*args)
    assert analysed == ["callee.py"]
    assert rc == 1 and "caller.py:5:5: LL301 " in text

    # another selection is another configuration: everything is analysed again
    analysed.clear()
    assert _run(*args, "--select", "LL2") == (0, "")
    assert sorted(analysed) == ["__init__.py", "callee.py", "caller.py"]

    # the analysis code changes (a new version, or an edited checkout)
    analysed.clear()
    monkeypatch.setattr(cache_module, "tool_fingerprint", lambda: "another build")
    assert _run(*args)[0] == 1
    assert sorted(analysed) == ["__init__.py", "callee.py", "caller.py"]


def _validated_project(root: Path, allowed: str) -> None:
    (root / "pkg").mkdir(parents=True, exist_ok=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "checks.py").write_text(f"def check(mode):\n    if mode not in ({allowed}):\n"
                                            "        raise ValueError(mode)\n")
    (root / "pkg" / "use.py").write_text("from .checks import check\n\n\ndef reduce(x, mode):\n    check(mode)\n"
                                         "    if mode == 'sum':\n        out = x.sum()\n"
                                         "    elif mode == 'mean':\n        out = x.mean()\n    return out\n")


def test_second_pass_follows_the_facts_of_other_modules(tmp_path: Path, monkeypatch):
    # the caller's finding depends on what the validator in another module lets through: its
    # second-pass entry is keyed by those facts, so a change of the validator alone brings it back
    proj = tmp_path / "proj"
    _validated_project(proj, "'sum', 'mean'")
    args = [str(proj), "--cache-dir", str(tmp_path / "cache"), "--jobs", "1"]
    assert _run(*args) == (0, "")
    assert _run(*args) == (0, "")  # warm: the second pass's result comes from the cache too
    _validated_project(proj, "'sum', 'mean', 'max'")
    rc, text = _run(*args)
    assert rc == 1 and "use.py:10:12: LL202 " in text
    assert _run(*args, "--no-cache") == (rc, text)
    analysed = []
    real = runner.with_project_facts
    monkeypatch.setattr(runner, "with_project_facts", lambda a, *rest: analysed.append(Path(a.path).name) or real(a, *rest))
    _validated_project(proj, "'sum', 'mean'")
    assert _run(*args) == (0, "")
    assert _run(*args) == (0, "")
    assert analysed == []  # both facts were seen before: cache hits


def test_module_layout_is_part_of_the_key(tmp_path: Path):
    """Adding an __init__.py renames the module, which changes how imports resolve."""
    proj = tmp_path / "proj"
    _project(proj, "proj.weight, proj.bias, proj.scaling")
    args = [str(proj / "pkg" / "callee.py"), str(proj / "pkg" / "caller.py"), "--cache-dir", str(tmp_path / "c")]
    first = _run(*args)
    os.remove(proj / "pkg" / "__init__.py")  # no longer a package: `pkg.callee` does not resolve here
    second = _run(*args)
    assert first[0] == 1 and second == (0, "")


def test_corrupt_or_foreign_entries_are_misses(tmp_path: Path):
    proj = tmp_path / "proj"
    _project(proj, "proj.weight, proj.bias, proj.scaling")
    cache_dir = tmp_path / "cache"
    first = _run(str(proj), "--cache-dir", str(cache_dir))
    entries = [p for p in cache_dir.rglob("*.pickle")]
    assert len(entries) == 3
    entries[0].write_bytes(b"\x80\x05 truncated")
    entries[1].write_bytes(entries[2].read_bytes())  # another file's entry under this key
    assert _run(str(proj), "--cache-dir", str(cache_dir)) == first


def test_two_runs_sharing_a_cache_at_once(many: Path, tmp_path: Path):
    cache_dir = tmp_path / "shared"
    expected = _run(str(many), "--no-cache", "--jobs", "1")[1].encode()
    cmd = [str(BIN / "lora-lint"), str(many), "--cache-dir", str(cache_dir), "--jobs", "2", "--isolated"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=tool_env()) for _ in range(3)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [o for o, _ in outs] == [expected] * 3 and all(e == b"" for _, e in outs)
    assert not list(cache_dir.rglob(".tmp-*"))  # every write was completed by a rename
    again = subprocess.run(cmd, capture_output=True, env=tool_env(), timeout=120)
    assert again.stdout == expected


def test_unwritable_cache_warns_and_still_lints(tmp_path: Path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    proj = tmp_path / "proj"
    _project(proj, "proj.weight, proj.bias")
    assert _run(str(proj), "--cache-dir", str(blocker / "cache")) == (0, "")
    assert "cannot write the cache" in capsys.readouterr().err


def test_default_cache_is_in_the_project_root(tmp_path: Path):
    proj = tmp_path / "proj"
    _project(proj, "proj.weight, proj.bias")
    (proj / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    assert _run(str(proj / "pkg")) == (0, "")
    assert (proj / ".lora-lint-cache" / "CACHEDIR.TAG").exists()


def test_analyze_files_keeps_the_order_given(many: Path):
    files = [(str(p), p.read_bytes()) for p in sorted(many.rglob("*.py"), reverse=True)]
    analyses = runner.analyze_files(files, Selection(), jobs=3)
    assert [a.path for a in analyses] == [p for p, _ in files]
