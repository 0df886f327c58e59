"""Shared by the real-code test and the script that regenerates its list."""

from __future__ import annotations

import importlib
from collections import Counter
from pathlib import Path

from analyzer.discovery import discover, read_source
from analyzer.engine import project_diagnostics
from analyzer.frontends.runner import analyze_files, default_jobs
from analyzer.selection import Selection

PACKAGES = ("peft", "transformers")

# each listed finding says what a person found when reading its code:
#   TRUE   a crash on a plausible input (a documented option, a value the code itself tests for, a real platform)
#   LATENT a crash only when a contract nobody validates is broken (a value nobody passes today, an invalid
#          input that deserves a clear error instead)
#   FALSE  cannot happen (a validator, an invariant, every caller, an earlier failure on the same condition)
VERDICTS = ("TRUE", "LATENT", "FALSE")
UNREVIEWED = "UNREVIEWED"
# issue 14: false alarms at most 0.1 per 50,000 linted lines of the two packages
FALSE_PER_50K_BUDGET = 0.1


def package_root(package: str) -> Path:
    return Path(importlib.import_module(package).__file__).resolve().parent


def linted_files(package: str) -> list[tuple[str, bytes]]:
    """(path, source bytes) of every file the run lints in one installed package, as the CLI finds them."""
    files = []
    for path in discover([str(package_root(package))]):
        if not isinstance(path, str):
            continue
        raw = read_source(path)
        if isinstance(raw, bytes):
            files.append((path, raw))
    return files


def linted_lines(package: str) -> int:
    """Lines of the files `collect` lints (newline count), the denominator of the budget."""
    return sum(raw.count(b"\n") for _, raw in linted_files(package))


def collect(package: str) -> dict[str, str]:
    """{"pkg/rel/path.py:line:col CODE": message} for one installed package."""
    root = package_root(package)
    files = linted_files(package)
    # every core, as the CLI does: transformers is 1.2M lines
    analyses = analyze_files(files, Selection(), default_jobs())
    out: dict[str, str] = {}
    # the package is linted as one project, as the CLI does, so cross-module rules run too
    for d in [d for a in analyses for d in a.diagnostics] + project_diagnostics(analyses):
        rel = package + "/" + str(Path(d.path).relative_to(root))
        out[f"{rel}:{d.line}:{d.column} {d.code}"] = d.message
    return out


def entry_lines(path: Path) -> list[tuple[str, str]]:
    """(key, reason) for every entry line, in file order (duplicates kept, for the test to catch)."""
    out: list[tuple[str, str]] = []
    if not path.exists():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, _, reason = line.partition("  # ")
        out.append((key.strip(), reason.strip()))
    return out


def read_expected(path: Path) -> dict[str, str]:
    """{key: "VERDICT: reason"} from expected_findings.txt."""
    return dict(entry_lines(path))


def verdict_of(reason: str) -> tuple[str | None, str]:
    """("TRUE" | "LATENT" | "FALSE" | None, the reason after the verdict token)."""
    head, sep, rest = reason.partition(":")
    if sep and head.strip() in VERDICTS:
        return head.strip(), rest.strip()
    return None, reason


def rule_of(key: str) -> str:
    return key.rsplit(" ", 1)[-1]


def verdict_table(expected: dict[str, str]) -> str:
    """Per-rule TRUE / LATENT / FALSE counts of the listed findings, as text."""
    counts: dict[str, Counter] = {}
    for key, reason in expected.items():
        counts.setdefault(rule_of(key), Counter())[verdict_of(reason)[0] or "no verdict"] += 1
    cols = [*VERDICTS, "no verdict"]
    rows = [f"{'rule':<6} " + " ".join(f"{c:>10}" for c in cols) + f" {'all':>6}"]
    total: Counter = Counter()
    for rule in sorted(counts):
        total.update(counts[rule])
        rows.append(f"{rule:<6} " + " ".join(f"{counts[rule][c]:>10}" for c in cols) + f" {sum(counts[rule].values()):>6}")
    rows.append(f"{'all':<6} " + " ".join(f"{total[c]:>10}" for c in cols) + f" {sum(total.values()):>6}")
    return "\n".join(rows)
