"""Lint every `.py` file of an installed site-packages folder, in this process, and report.

    python benchmarks/sweep_site_packages.py [FOLDER] [--project] [--slowest N] [--limit N]

FOLDER defaults to the site-packages of the running interpreter (in the dev venv: torch,
transformers, peft and all their dependencies). Every file is read with `read_source` and linted
on its own with `lint_source` (each file its own project); with `--project`, each top-level
package is linted as one project, as the CLI does (`analyze_source` per file, then the cross-file
rules over the package), which also exercises the project index. Prints files, lines, seconds, internal
errors (LL000, with the file and message: the target is none), syntax and decoding failures
(LL001 / LL002: files written for other Python versions or encodings), unreadable paths (LL003),
exceptions that escaped the engine (which promises never to raise: the target is none), the
findings per rule and the slowest files. Exit status 1 when an internal error or an escaped
exception was seen, else 0.
"""

from __future__ import annotations

import argparse
import collections
import os
import site
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from a checkout that is not installed
    sys.path.insert(0, str(ROOT))

from analyzer.diagnostics import Diagnostic  # noqa: E402
from analyzer.discovery import read_source  # noqa: E402
from analyzer.engine import analyze_source, lint_source, project_diagnostics  # noqa: E402


@dataclass
class SweepResult:
    files: int = 0
    lines: int = 0
    seconds: float = 0.0
    per_code: collections.Counter = field(default_factory=collections.Counter)
    internal_errors: list[Diagnostic] = field(default_factory=list)
    syntax_errors: list[Diagnostic] = field(default_factory=list)
    decode_errors: list[Diagnostic] = field(default_factory=list)
    unreadable: list[Diagnostic] = field(default_factory=list)
    escaped: list[tuple[str, str]] = field(default_factory=list)  # (path, traceback)
    timings: list[tuple[float, str]] = field(default_factory=list)


def default_folder() -> Path:
    for folder in site.getsitepackages():
        if folder.endswith("site-packages") and os.path.isdir(folder):
            return Path(folder)
    raise SystemExit("no site-packages folder found; pass one")


def python_files(folder: Path) -> list[str]:
    """Every `.py` file below `folder`, sorted; symlinked folders are not followed (no loops)."""
    out = []
    for parent, dirs, files in os.walk(folder, followlinks=False):
        dirs.sort()
        out.extend(os.path.join(parent, f) for f in sorted(files) if f.endswith(".py"))
    return out


def _count(res: SweepResult, diagnostics: list[Diagnostic]) -> None:
    for d in diagnostics:
        res.per_code[d.code] += 1
        if d.code == "LL000":
            res.internal_errors.append(d)
        elif d.code == "LL001":
            res.syntax_errors.append(d)
        elif d.code == "LL002":
            res.decode_errors.append(d)


def _read(res: SweepResult, path: str) -> bytes | None:
    raw = read_source(path)
    if isinstance(raw, Diagnostic):
        res.unreadable.append(raw)
        res.per_code[raw.code] += 1
        return None
    res.files += 1
    res.lines += raw.count(b"\n") + (0 if raw.endswith(b"\n") or not raw else 1)
    return raw


def _guarded(res: SweepResult, label: str, fn):
    """fn(), or None after recording the exception (the engine promises never to raise)."""
    try:
        return fn()
    except Exception:
        res.escaped.append((label, traceback.format_exc()))
        return None


def _timed(res: SweepResult, label: str, fn, timing_label: str = ""):
    """`_guarded(res, label, fn)`, its wall time recorded under `timing_label` (default: label)."""
    t0 = time.perf_counter()
    result = _guarded(res, label, fn)
    res.timings.append((time.perf_counter() - t0, timing_label or label))
    return result


def sweep(paths: list[str], progress: bool = False) -> SweepResult:
    """Each file its own project, through `lint_source`."""
    res = SweepResult()
    start = time.perf_counter()
    for i, path in enumerate(paths, 1):
        raw = _read(res, path)
        if raw is None:
            continue
        diagnostics = _timed(res, path, lambda: lint_source(raw, path))
        _count(res, diagnostics or [])
        if progress and i % 500 == 0:
            print(f"  ... {i}/{len(paths)} files, {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    res.seconds = time.perf_counter() - start
    return res


def sweep_projects(folder: Path, paths: list[str], progress: bool = False) -> SweepResult:
    """Each top-level package (or single module) of `folder` one project, as the CLI lints a run."""
    groups: dict[str, list[str]] = collections.defaultdict(list)
    for path in paths:
        groups[Path(path).relative_to(folder).parts[0]].append(path)
    res = SweepResult()
    start = time.perf_counter()
    for i, (name, members) in enumerate(sorted(groups.items()), 1):
        analyses = []
        for path in members:
            raw = _read(res, path)
            if raw is None:
                continue
            analysis = _timed(res, path, lambda: analyze_source(raw, path))
            if analysis is not None:
                analyses.append(analysis)
                _count(res, analysis.diagnostics)
        _count(res, _timed(res, f"{name} (project index)", lambda: project_diagnostics(analyses),
                           f"{name} (cross-file rules)") or [])
        if progress:
            print(f"  ... {i}/{len(groups)} packages, {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    res.seconds = time.perf_counter() - start
    return res


def report(res: SweepResult, folder: Path, slowest: int) -> str:
    def rel(p: str) -> str:
        try:
            return str(Path(p).relative_to(folder))
        except ValueError:
            return p

    rule_counts = {c: n for c, n in res.per_code.items() if c not in ("LL000", "LL001", "LL002", "LL003")}
    lines = [
        f"folder: {folder}",
        f"files: {res.files}",
        f"lines: {res.lines}",
        f"seconds: {res.seconds:.1f}",
        f"internal errors (LL000): {len(res.internal_errors)}",
    ]
    lines += [f"  {rel(d.path)}:{d.line}:{d.column}: {d.message}" for d in res.internal_errors]
    lines.append(f"exceptions escaped from the engine: {len(res.escaped)}")
    for path, tb in res.escaped:
        lines.append(f"  {rel(path)}")
        lines += ["    " + t for t in tb.rstrip().splitlines()[-6:]]
    lines.append(f"syntax errors (LL001): {len(res.syntax_errors)}")
    lines += [f"  {rel(d.path)}:{d.line}:{d.column}: {d.message}" for d in res.syntax_errors]
    lines.append(f"undecodable (LL002): {len(res.decode_errors)}")
    lines += [f"  {rel(d.path)}:{d.line}:{d.column}: {d.message}" for d in res.decode_errors]
    lines.append(f"unreadable (LL003): {len(res.unreadable)}")
    lines += [f"  {rel(d.path)}: {d.message}" for d in res.unreadable]
    lines.append("findings per rule:")
    lines += [f"  {code}: {n}" for code, n in sorted(rule_counts.items())] or ["  (none)"]
    lines.append(f"slowest {slowest} files:")
    lines += [f"  {t:6.2f} s  {rel(p)}" for t, p in sorted(res.timings, reverse=True)[:slowest]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", help="default: this interpreter's site-packages")
    ap.add_argument("--slowest", type=int, default=10, help="list the N slowest files (default 10)")
    ap.add_argument("--limit", type=int, default=0, help="lint only the first N files (0: all)")
    ap.add_argument("--project", action="store_true", help="lint each top-level package as one project")
    ap.add_argument("--progress", action="store_true", help="print progress to stderr every 500 files")
    args = ap.parse_args(argv)
    folder = Path(args.folder) if args.folder else default_folder()
    paths = python_files(folder)
    if args.limit:
        paths = paths[: args.limit]
    res = sweep_projects(folder, paths, args.progress) if args.project else sweep(paths, args.progress)
    print(f"mode: {'one project per top-level package' if args.project else 'each file its own project'}")
    print(report(res, folder, args.slowest))
    return 1 if res.internal_errors or res.escaped else 0


if __name__ == "__main__":
    sys.exit(main())
