"""What pyproject.toml and the README promise about installing and pinning lora-lint."""

from __future__ import annotations

import re

import yaml

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the declared tomli
    import tomli as tomllib

from tests.frontends.conftest import REPO


def _pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def test_metadata_installs_on_python_3_10_and_uses_an_spdx_license():
    data = _pyproject()
    project = data["project"]
    assert project["requires-python"] == ">=3.10"
    # tomllib is new in 3.11: without tomli, 3.10 could not read [tool.lora-lint]
    assert "tomli>=1.1; python_version < '3.11'" in project["dependencies"]
    assert project["license"] == "Apache-2.0"  # PEP 639 string form
    assert "License ::" not in " ".join(project.get("classifiers", []))  # not both forms
    # setuptools reads the SPDX string from 77 on
    (requirement,) = [r for r in data["build-system"]["requires"] if r.startswith("setuptools")]
    assert int(re.search(r">=\s*(\d+)", requirement).group(1)) >= 77


def test_pre_commit_snippets_pin_the_current_release_tag():
    version = _pyproject()["project"]["version"]
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    snippet = re.search(r"```yaml\n(.*?)```", readme, re.S).group(1)
    config = yaml.safe_load("\n".join(line[2:] for line in snippet.splitlines()))
    (repo,) = config["repos"]
    assert repo["rev"] == f"v{version}" and [h["id"] for h in repo["hooks"]] == ["lora-lint"]
    hooks_comment = (REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    assert f"rev: v{version}" in hooks_comment
    assert "annotated tag `v<version>`" in readme  # how releases are tagged
