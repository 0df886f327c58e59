"""Regenerate expected_findings.txt from the installed packages, keeping reasons already written.

    python -m tests.real_code.update_expected

New findings get a reason from their kind; read each one and replace it with what you found.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from tests.real_code.collect import PACKAGES, collect, read_expected

HERE = Path(__file__).resolve().parent


def default_reason(key: str, message: str) -> str:
    if "/modular_" in key and (" LL201" in key or "is unbound here on every path" in message):
        return "modular_* template, names filled in by the code generator (pyflakes F821 too): accepted"
    if "optional argument" in message:
        return "may: unbound only for some values of an optional argument (caller contract): accepted"
    if "may run zero times" in message:
        return "may: bound only in a loop that can run zero times: accepted (latent if empty)"
    if " LL202" in key:
        return "may: path-dependent binding whose guard the analysis cannot see: accepted"
    return "UNREVIEWED"


def main() -> None:
    target = HERE / "expected_findings.txt"
    old = read_expected(target)
    versions = ", ".join(f"{p} {importlib.metadata.version(p)}" for p in PACKAGES)
    lines = [f"# lora-lint findings on installed {versions}; `key  # reason`"]
    for package in PACKAGES:
        for key, message in sorted(collect(package).items()):
            lines.append(f"{key}  # {old.get(key) or default_reason(key, message)}")
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines) - 1} findings written to {target}")


if __name__ == "__main__":
    main()
