"""pre-commit for real: a temporary git repository whose hooks are this repository's published
hooks (.pre-commit-hooks.yaml), run with this environment's `lora-lint` so nothing is downloaded."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.frontends.conftest import BIN, DATA, REPO, tool_env

PRE_COMMIT = str(BIN / "pre-commit")
# a closed local port: any download attempt fails at once instead of reaching a network
DEAD_PROXY = "http://127.0.0.1:9"


def _local_hooks() -> list[dict]:
    """The published hooks, as `repo: local` hooks using the installed executable (language:
    system). Everything else (entry, args, types, require_serial) is the published definition."""
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    out = []
    for hook in hooks:
        local = dict(hook)
        local["language"] = "system"
        local.pop("minimum_pre_commit_version", None)
        out.append(local)
    return out


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    work = tmp_path / "repo"
    work.mkdir()
    env = tool_env()
    env.update({
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": str(tmp_path / "gitconfig"),
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
        "http_proxy": DEAD_PROXY, "https_proxy": DEAD_PROXY, "HTTP_PROXY": DEAD_PROXY, "HTTPS_PROXY": DEAD_PROXY,
        "PIP_NO_INDEX": "1",
    })
    env.pop("PRE_COMMIT", None)
    (tmp_path / "gitconfig").write_text("[init]\n\tdefaultBranch = main\n")
    config = {"repos": [{"repo": "local", "hooks": _local_hooks()}]}
    (work / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    _git(work, env, "init", "-q")
    _git(work, env, "add", ".pre-commit-config.yaml")
    _git(work, env, "commit", "-q", "--no-verify", "-m", "config")
    subprocess.run([PRE_COMMIT, "install"], cwd=work, env=env, check=True, capture_output=True, timeout=60)
    return work, env


def _git(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, timeout=60, check=True)


def _commit(cwd: Path, env: dict[str, str], message: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "commit", "-m", message], cwd=cwd, env=env, capture_output=True, timeout=120)


def _commits(cwd: Path, env: dict[str, str]) -> int:
    return int(_git(cwd, env, "rev-list", "--count", "HEAD").stdout)


def test_published_hooks_are_valid():
    proc = subprocess.run([PRE_COMMIT, "validate-manifest", str(REPO / ".pre-commit-hooks.yaml")],
                          capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ids = [h["id"] for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())]
    assert ids == ["lora-lint", "lora-lint-fix"]


def test_own_config_is_valid_and_dogfoods_both_front_ends():
    cfg = REPO / ".pre-commit-config.yaml"
    proc = subprocess.run([PRE_COMMIT, "validate-config", str(cfg)], capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    entries = [h["entry"] for r in yaml.safe_load(cfg.read_text())["repos"] for h in r["hooks"]]
    assert any(e.startswith("lora-lint") for e in entries) and any("flake8" in e and "LL" in e for e in entries)


def test_commit_with_the_seed_bug_is_blocked_and_a_clean_file_passes(repo):
    work, env = repo
    shutil.copy(DATA / "seed_bug.py.txt", work / "lora_params.py")
    _git(work, env, "add", "lora_params.py")
    blocked = _commit(work, env, "seed bug")
    output = (blocked.stdout + blocked.stderr).decode()
    assert blocked.returncode != 0, output
    assert "lora_params.py:4:59: LL201 undefined name `bias`" in output
    assert _commits(work, env) == 1

    _git(work, env, "rm", "-q", "--cached", "lora_params.py")
    os.remove(work / "lora_params.py")
    shutil.copy(DATA / "clean.py.txt", work / "lora_params.py")
    _git(work, env, "add", "lora_params.py")
    passed = _commit(work, env, "clean")
    assert passed.returncode == 0, (passed.stdout + passed.stderr).decode()
    assert _commits(work, env) == 2
    # language: system hooks install nothing: pre-commit's home holds no cloned repo or environment
    home = Path(env["PRE_COMMIT_HOME"])
    assert not home.exists() or not any(p.is_dir() for p in home.iterdir())


def test_fix_hook_applies_safe_fixes_and_then_passes(repo):
    work, env = repo
    target = work / "targets.py"
    target.write_text("def is_target(name):\n    return name in ('q_proj')\n")
    _git(work, env, "add", "targets.py")
    first = subprocess.run([PRE_COMMIT, "run", "lora-lint-fix", "--files", "targets.py"], cwd=work, env=env,
                           capture_output=True, timeout=120)
    assert first.returncode == 1  # pre-commit fails a hook that modified files
    assert "files were modified by this hook" in first.stdout.decode()
    assert target.read_text() == "def is_target(name):\n    return name in ('q_proj',)\n"
    second = subprocess.run([PRE_COMMIT, "run", "lora-lint-fix", "--files", "targets.py"], cwd=work, env=env,
                            capture_output=True, timeout=120)
    assert second.returncode == 0, second.stdout.decode()


def test_hook_only_sees_the_files_passed(repo):
    """Only the changed files are linted: a committed buggy file does not block an unrelated commit."""
    work, env = repo
    shutil.copy(DATA / "seed_bug.py.txt", work / "old_bug.py")
    _git(work, env, "add", "old_bug.py")
    _git(work, env, "commit", "-q", "--no-verify", "-m", "bug committed before the hook")
    shutil.copy(DATA / "clean.py.txt", work / "new.py")
    _git(work, env, "add", "new.py")
    proc = _commit(work, env, "unrelated")
    assert proc.returncode == 0, (proc.stdout + proc.stderr).decode()


def test_python_used_by_the_hooks_is_this_one():
    # the `lora-lint` the hooks run is this environment's console script
    assert Path(shutil.which("lora-lint", path=tool_env()["PATH"])).parent == Path(sys.executable).parent


def test_repository_passes_its_own_hooks():
    """What the dogfood hooks check (the code outside fixtures/), run directly: both clean."""
    paths = ["analyzer", "tests", "benchmarks", "reference_kernels"]
    ll = subprocess.run([str(BIN / "lora-lint"), *paths, "--no-cache"], cwd=REPO, env=tool_env(),
                        capture_output=True, timeout=120)
    assert (ll.returncode, ll.stdout) == (0, b""), ll.stdout.decode()
    f8 = subprocess.run([sys.executable, "-m", "flake8", "--select=F,LL", *paths], cwd=REPO, env=tool_env(),
                        capture_output=True, timeout=120)
    assert (f8.returncode, f8.stdout) == (0, b""), f8.stdout.decode()


HELPER_3 = "def factors(layer):\n    return layer.A, layer.B, layer.scale\n"
HELPER_2 = "def factors(layer):\n    return layer.A, layer.B\n"
CALLER_3 = "from helper import factors\n\n\ndef step(layer):\n    a, b, s = factors(layer)\n    return a @ b * s\n"
CALLER_2 = "from helper import factors\n\n\ndef step(layer):\n    a, b = factors(layer)\n    return a @ b\n"


def _write(work: Path, name: str, text: str) -> None:
    (work / name).write_text(text)


def test_a_staged_call_is_checked_against_the_unchanged_callee(repo):
    """Only train.py is staged; the helper it calls is committed and returns 3 values. An unstaged
    edit of the helper (which would make the call fit) is stashed by pre-commit: the hook sees the
    project as the commit will have it."""
    work, env = repo
    _write(work, "helper.py", HELPER_3)
    _write(work, "train.py", CALLER_3)
    _git(work, env, "add", "helper.py", "train.py")
    _git(work, env, "commit", "-q", "--no-verify", "-m", "both sides agree")
    _write(work, "train.py", CALLER_2)
    _git(work, env, "add", "train.py")
    _write(work, "helper.py", HELPER_2)  # not staged
    blocked = _commit(work, env, "caller only")
    output = (blocked.stdout + blocked.stderr).decode()
    assert blocked.returncode != 0, output
    assert "train.py:5:5: LL301 unpacks 2 values from" in output, output
    assert _commits(work, env) == 2
    assert (work / "helper.py").read_text() == HELPER_2  # pre-commit put the unstaged edit back
    # staging the other side too makes the change consistent: the commit goes through
    _git(work, env, "add", "helper.py")
    passed = _commit(work, env, "both sides")
    assert passed.returncode == 0, (passed.stdout + passed.stderr).decode()


def test_a_staged_callee_change_reports_the_unchanged_callers_it_breaks(repo):
    work, env = repo
    _write(work, "helper.py", HELPER_3)
    _write(work, "train.py", CALLER_3)
    _write(work, "other.py", "def unrelated():\n    return undefined_name\n")  # an old per-file finding
    _git(work, env, "add", "helper.py", "train.py", "other.py")
    _git(work, env, "commit", "-q", "--no-verify", "-m", "both sides agree")
    _write(work, "helper.py", HELPER_2)
    _git(work, env, "add", "helper.py")
    blocked = _commit(work, env, "callee only")
    output = (blocked.stdout + blocked.stderr).decode()
    assert blocked.returncode != 0, output
    assert "train.py:5:5: LL301 unpacks 3 values from" in output, output
    # the unchanged files' own findings are not this commit's business
    assert "other.py" not in output and "LL201" not in output
    assert _commits(work, env) == 2
