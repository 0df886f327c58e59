"""`lora-lint [PATH ...]`: find files, lint each, print findings, exit with the documented code.

Exit codes: 0 nothing reported; 1 findings reported; 2 usage error, or a file could not be
analysed (LL000-LL003).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Optional, Sequence

from analyzer import __version__
from analyzer.diagnostics import Diagnostic
from analyzer.discovery import discover, read_source
from analyzer.engine import Selection, analyze_source, is_selected, project_diagnostics
from analyzer.rules import ALL_RULES, ENGINE_CODES

__all__ = ["main", "run"]

_ANALYSIS_FAILURES = frozenset(ENGINE_CODES)


class _UsageError(Exception):
    pass


def _codes(text: Optional[str]) -> tuple[str, ...]:
    if not text:
        return ()
    out = []
    known = {r.code for r in ALL_RULES} | set(ENGINE_CODES)
    for part in text.replace(" ", ",").split(","):
        part = part.strip().upper()
        if not part:
            continue
        if not any(code.startswith(part) for code in known):
            raise _UsageError(f"unknown rule code or prefix {part!r} (known: {', '.join(sorted(known))})")
        out.append(part)
    return tuple(out)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lora-lint",
        description="Find unbound names and return-shape bugs in LoRA code (and any Python code).",
    )
    p.add_argument("paths", nargs="*", default=["."], help="files or folders (default: .)")
    p.add_argument("--select", help="comma-separated codes or prefixes to run (default: all default-on rules)")
    p.add_argument("--ignore", help="comma-separated codes or prefixes to skip")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--exit-zero", action="store_true", help="exit 0 even when findings are reported")
    p.add_argument("--version", action="version", version=f"lora-lint {__version__}")
    return p


def run(argv: Optional[Sequence[str]] = None, out=None) -> int:
    out = out or sys.stdout
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return 2 if exc.code not in (0, None) else 0
    try:
        selection = Selection(select=_codes(args.select), ignore=_codes(args.ignore))
    except _UsageError as exc:
        print(f"lora-lint: error: {exc}", file=sys.stderr)
        return 2
    diagnostics: list[Diagnostic] = []
    analyses = []
    for item in discover(list(args.paths)):
        if isinstance(item, Diagnostic):
            diagnostics.append(item)
            continue
        raw = read_source(item)
        if isinstance(raw, Diagnostic):
            diagnostics.append(raw)
            continue
        analyses.append(analyze_source(raw, item, selection))
    for a in analyses:
        diagnostics.extend(a.diagnostics)
    # cross-file rules see every file of the run at once
    diagnostics.extend(project_diagnostics(analyses, selection))
    diagnostics = [d for d in diagnostics if is_selected(selection, d.code)]
    diagnostics.sort(key=lambda d: (d.path, d.line, d.column, d.code))
    if args.format == "json":
        json.dump([d.as_json() for d in diagnostics], out, indent=2)
        out.write("\n")
    else:
        for d in diagnostics:
            out.write(f"{d.path}:{d.line}:{d.column}: {d.code} {d.message}\n")
    if any(d.code in _ANALYSIS_FAILURES for d in diagnostics):
        return 2
    if diagnostics and not args.exit_zero:
        return 1
    return 0


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()
