"""Regenerate expected_findings.txt from the installed packages, keeping verdicts and reasons already written.

    python -m tests.real_code.update_expected

Findings no longer reported are dropped. New findings are marked UNREVIEWED; read each one in its
code and replace the mark with `TRUE: ...`, `LATENT: ...` or `FALSE: ...` and what you found (the
real-code test fails while any is left, and a new FALSE must also be named in the test's
FALSE_OVER_BUDGET while the budget is exceeded).
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from tests.real_code.collect import PACKAGES, UNREVIEWED, collect, read_expected

HERE = Path(__file__).resolve().parent
HEADER = ("# lora-lint findings on installed {versions}; `key CODE  # VERDICT: reason`, VERDICT one of "
          "TRUE (a crash on a plausible input), LATENT (a crash only when an unvalidated contract is broken), "
          "FALSE (cannot happen)")


def default_reason(key: str, message: str) -> str:
    # every finding in the list is read by a person: a new one says so until someone has
    return f"{UNREVIEWED}: " + message[:80]


def main() -> None:
    target = HERE / "expected_findings.txt"
    got = {}
    for package in PACKAGES:
        got.update(collect(package))
    # read the list only now, after the minutes of analysis: others may have written to it meanwhile
    old = read_expected(target)
    versions = ", ".join(f"{p} {importlib.metadata.version(p)}" for p in PACKAGES)
    lines = [HEADER.format(versions=versions)]
    for key, message in sorted(got.items()):
        lines.append(f"{key}  # {old.get(key) or default_reason(key, message)}")
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    new = sum(1 for k in got if k not in old)
    print(f"{len(lines) - 1} findings written to {target} ({new} UNREVIEWED, {len(set(old) - set(got))} dropped)")


if __name__ == "__main__":
    main()
