"""Regenerate expected_findings.txt from the installed packages, keeping reasons already written.

    python -m tests.real_code.update_expected

New findings are marked UNREVIEWED; read each one and replace the mark with what you found
(the real-code test fails while any is left).
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from tests.real_code.collect import PACKAGES, collect, read_expected

HERE = Path(__file__).resolve().parent


def default_reason(key: str, message: str) -> str:
    # every finding in the list is read by a person: a new one says so until someone has
    return "UNREVIEWED: " + message[:80]


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
