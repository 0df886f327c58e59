"""`lora-lint [PATH ...]`: find files, lint them as one project, print findings, exit with the
documented code.

Exit codes: 0 nothing reported; 1 findings reported; 2 usage or configuration error, or a file
could not be analysed (LL000-LL003).

Settings come from `[tool.lora-lint]` in the nearest pyproject.toml above the paths (see
analyzer/config.py); flags apply over them: `--select` starts afresh (the file's select and
ignore no longer apply), `--ignore`/`--extend-select`/`--extend-ignore` adjust the file's choice.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, replace
from typing import BinaryIO, Optional, Sequence, TextIO

from analyzer import __version__
from analyzer.add_noqa import add_noqa, silenced_elsewhere
from analyzer.baseline import BaselineError, apply_baseline, write_baseline
from analyzer.cache import AnalysisCache
from analyzer.config import DEFAULT_CACHE_DIR, Config, ConfigError, RuleLayer, load_config, parse_codes, \
    project_root, resolve_selection
from analyzer.diagnostics import Diagnostic
from analyzer.discovery import discover, read_source
from analyzer.selection import SUPPORTED_VERSIONS, Selection, is_selected, parse_target_version
from analyzer.frontends.docs import explain
from analyzer.frontends.formats import FORMATS, fixable_counts, summary_line, write_statistics, write_text
from analyzer.frontends.project import project_context
from analyzer.frontends.runner import default_jobs, lint_files, lint_in_context
from analyzer.rules import ENGINE_CODES

__all__ = ["main", "run"]

_ANALYSIS_FAILURES = frozenset(ENGINE_CODES)
# --fix re-lints after writing, as fixes can uncover or enable others; bounded like ruff's loop
_MAX_FIX_PASSES = 8


class _UsageError(Exception):
    pass


def _cli_codes(text: Optional[str], flag: str) -> Optional[tuple[str, ...]]:
    if text is None:
        return None
    try:
        return parse_codes([text], flag)
    except ConfigError as exc:
        raise _UsageError(str(exc)) from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lora-lint",
        description="Find unbound names and return-shape bugs in LoRA code (and any Python code).",
        epilog="Exit codes: 0 clean, 1 findings, 2 usage or configuration error or a file that could not be "
               "analysed. Settings: [tool.lora-lint] in pyproject.toml.",
    )
    p.add_argument("paths", nargs="*", help="files or folders (default: .); `-` reads one file from stdin")
    sel = p.add_argument_group("rule selection")
    sel.add_argument("--select", metavar="CODES",
                     help="comma-separated codes or prefixes to run, instead of the config's choice "
                          "(default: the default-on rules)")
    sel.add_argument("--ignore", metavar="CODES", help="comma-separated codes or prefixes to skip")
    sel.add_argument("--target-version", metavar="VERSION",
                     help="the Python the code runs on (py38 ... py314): syntax and builtins newer than it "
                          "are reported (default: from the config, else the newest)")
    sel.add_argument("--extend-select", metavar="CODES", help="codes or prefixes to run in addition")
    sel.add_argument("--extend-ignore", metavar="CODES", help="codes or prefixes to skip in addition")
    cfg = p.add_argument_group("configuration")
    cfg.add_argument("--config", metavar="PYPROJECT", help="read [tool.lora-lint] from this file instead of searching")
    cfg.add_argument("--isolated", action="store_true", help="ignore every configuration file")
    cfg.add_argument("--force-exclude", action="store_true",
                     help="apply the configuration's `exclude` to files named on the command line too "
                          "(the pre-commit hooks pass it); without it a named file is always linted")
    cfg.add_argument("--project", action="store_true",
                     help="lint PATHs inside their whole project (the configuration's folder, else the nearest "
                          "folder above with pyproject.toml or .git): cross-file rules read every file there "
                          "(cached), findings are reported in PATHs, plus cross-file findings in other files "
                          "that PATHs cause (the pre-commit hooks pass it)")
    outg = p.add_argument_group("output")
    outg.add_argument("--format", choices=sorted(FORMATS), default="text",
                      help="text (default), json, sarif (SARIF 2.1.0 for code scanning) or github (annotations)")
    outg.add_argument("--statistics", action="store_true", help="print the number of findings per code instead")
    outg.add_argument("--show-path", action="store_true",
                      help="under each finding, the path the analysis believes: the branches taken and the "
                           "conditions assumed, ending at the read (text output; json and sarif always carry it)")
    outg.add_argument("--explain", metavar="CODE", help="print the documentation of a rule and exit")
    outg.add_argument("--exit-zero", action="store_true", help="exit 0 even when findings are reported")
    outg.add_argument("--stdin-filename", metavar="NAME",
                      help="with `-`: the name to report (and to match against the configuration)")
    fx = p.add_argument_group("fixes")
    fx.add_argument("--fix", action="store_true", help="apply the safe fixes in place, then report what is left")
    fx.add_argument("--unsafe-fixes", action="store_true",
                    help="with --fix or --diff: apply unsafe fixes too (alone: count them as fixable)")
    fx.add_argument("--diff", action="store_true",
                    help="print the fixes as a unified diff and change nothing (also with --fix); "
                         "exit 1 when there are fixes to apply")
    adopt = p.add_argument_group("adoption on an existing codebase")
    adopt.add_argument("--add-noqa", action="store_true",
                       help="write `# noqa: CODE` on each reported line (merged into an existing noqa)")
    adopt.add_argument("--baseline", metavar="FILE",
                       help="report only findings FILE does not record; a FILE that does not exist is written "
                            "with today's findings")
    adopt.add_argument("--write-baseline", action="store_true",
                       help="with --baseline: (re)write FILE with today's findings and report nothing")
    speed = p.add_argument_group("speed")
    speed.add_argument("-j", "--jobs", type=_positive, metavar="N", help="worker processes (default: all cores)")
    speed.add_argument("--cache-dir", metavar="DIR",
                       help=f"where to keep the cache (default: {DEFAULT_CACHE_DIR} in the project root)")
    speed.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    p.add_argument("--version", action="version", version=f"lora-lint {__version__}")
    return p


def _load(args: argparse.Namespace, search: Sequence[str]) -> Config:
    if args.isolated:
        return Config(root=project_root(search))
    return load_config(args.config, search)


def _selection(args: argparse.Namespace, config: Config) -> Selection:
    """The config's choices, then the command line's over them (`--select` starts afresh)."""
    cli = RuleLayer(
        select=_cli_codes(args.select, "--select"),
        ignore=_cli_codes(args.ignore, "--ignore") or (),
        extend_select=_cli_codes(args.extend_select, "--extend-select") or (),
        extend_ignore=_cli_codes(args.extend_ignore, "--extend-ignore") or (),
    )
    target = config.target_version
    if args.target_version is not None:
        target = parse_target_version(args.target_version)
        if target is None:
            raise ConfigError(f"--target-version: expected one of "
                              f"{', '.join('py' + v.replace('.', '') for v in SUPPORTED_VERSIONS)}, "
                              f"got {args.target_version!r}")
    return replace(resolve_selection(config.layer(), cli), target_version=target)


def _cache(args: argparse.Namespace, config: Config, selection: Selection) -> Optional[AnalysisCache]:
    if args.no_cache:
        return None
    folder = args.cache_dir or config.cache_dir or os.path.join(config.root, DEFAULT_CACHE_DIR)
    return AnalysisCache(folder, selection)


def _display_path(path: str) -> str:
    """The form every output format prints: `./a.py` and `a//b.py` become `a.py` and `a/b.py`, so
    text, JSON, GitHub and SARIF name a file the same way; an absolute path stays absolute."""
    if os.path.isabs(path):
        return path
    return os.path.normpath(path)


def _collect(paths: Sequence[str], config: Config,
             force_exclude: bool) -> tuple[list[tuple[str, bytes]], list[Diagnostic]]:
    """(path, bytes) of every file to lint, and LL003 for what cannot be read.

    The config's `exclude` applies to what a folder walk finds; a file named on the command line is
    linted anyway (ruff's convention), unless `force_exclude` (`--force-exclude`, or
    `force-exclude = true`), which the pre-commit hooks pass so that a commit skips what a full
    run skips."""
    files: list[tuple[str, bytes]] = []
    failures: list[Diagnostic] = []
    seen: set[str] = set()
    for path in paths:
        for item in discover([path]):
            if isinstance(item, Diagnostic):
                failures.append(item)
                continue
            named = item == path
            item = _display_path(item)
            if item in seen or ((force_exclude or not named) and config.excluded(item)):
                continue
            seen.add(item)
            raw = read_source(item)
            if isinstance(raw, Diagnostic):
                failures.append(raw)
            else:
                files.append((item, raw))
    return files, failures


def _visible(diagnostics: Sequence[Diagnostic], selection: Selection, config: Config) -> list[Diagnostic]:
    out = []
    per_file: dict[str, tuple[str, ...]] = {}
    for d in diagnostics:
        if not is_selected(selection, d.code):
            continue
        if config.per_file_ignores:
            if d.path not in per_file:
                per_file[d.path] = config.ignored_here(d.path)
            if any(d.code.startswith(c) for c in per_file[d.path]):
                continue
        out.append(d)
    out.sort(key=lambda d: (d.path, d.line, d.column, d.code, d.message))
    return out


def _read_stdin(stdin: Optional[BinaryIO]) -> bytes:
    if stdin is not None:
        return stdin.read()
    return sys.stdin.buffer.read()


def _warn(text: str) -> None:
    print(f"lora-lint: warning: {text}", file=sys.stderr)


def run(argv: Optional[Sequence[str]] = None, out: Optional[TextIO] = None, stdin: Optional[BinaryIO] = None) -> int:
    """Run the command line; findings go to `out`, errors to stderr. Returns the exit code."""
    out = out or sys.stdout
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return 2 if exc.code not in (0, None) else 0
    try:
        return _run(args, out, stdin)
    except (_UsageError, ConfigError, BaselineError) as exc:
        print(f"lora-lint: error: {exc}", file=sys.stderr)
        return 2


@dataclass
class _Session:
    """What one invocation lints with, settled before any file is read."""

    args: argparse.Namespace
    config: Config
    selection: Selection
    jobs: int
    cache: Optional[AnalysisCache]
    out: TextIO
    # --project: the project's other files, read for the cross-file rules
    context: Sequence[tuple[str, bytes]] = ()

    def lint(self, files: Sequence[tuple[str, bytes]], failures: Sequence[Diagnostic]) -> list[Diagnostic]:
        if self.args.project:
            found = lint_in_context(files, self.context, self.selection, self.jobs, self.cache)
        else:
            found = lint_files(files, self.selection, self.jobs, self.cache)
        found = silenced_elsewhere(found, {**dict(self.context), **dict(files)}) + list(failures)
        return _visible(found, self.selection, self.config)


def _check_flags(args: argparse.Namespace, paths: Sequence[str]) -> None:
    use_stdin = "-" in paths
    if use_stdin and len(paths) > 1:
        raise _UsageError("`-` (standard input) cannot be combined with other paths")
    if args.stdin_filename and not use_stdin:
        raise _UsageError("--stdin-filename needs `-` as the path")
    if args.statistics and args.format not in ("text", "json"):
        raise _UsageError("--statistics prints text or json; drop --format or use one of those")
    if args.show_path and (args.format != "text" or args.statistics):
        raise _UsageError("--show-path prints paths under the findings of the text format; json (`trace`) and "
                          "sarif (`codeFlows`) always carry them, github annotations cannot")
    if use_stdin and (args.fix or args.diff or args.add_noqa or args.project):
        raise _UsageError("--fix, --diff, --add-noqa and --project work on files, not on standard input")
    if args.add_noqa and (args.fix or args.diff or args.baseline):
        raise _UsageError("--add-noqa writes comments for the findings as they are: run it without --fix, "
                          "--diff and --baseline")
    if args.write_baseline and not args.baseline:
        raise _UsageError("--write-baseline needs --baseline FILE (the file to write)")


def _run(args: argparse.Namespace, out: TextIO, stdin: Optional[BinaryIO]) -> int:
    if args.explain:
        text = explain(args.explain)
        if text is None:
            raise _UsageError(f"no rule has the code {args.explain!r}")
        out.write(text)
        return 0
    paths = list(args.paths) or ["."]
    _check_flags(args, paths)
    use_stdin = "-" in paths
    stdin_name = args.stdin_filename or "-"
    config = _load(args, [stdin_name] if use_stdin else paths)
    selection = _selection(args, config)
    session = _Session(args=args, config=config, selection=selection, jobs=args.jobs or config.jobs or default_jobs(),
                       cache=None if use_stdin else _cache(args, config, selection), out=out)
    force_exclude = args.force_exclude or config.force_exclude

    failures: list[Diagnostic] = []
    if use_stdin:
        # the name stands for a file named on the command line: excluded only under --force-exclude
        files = [] if force_exclude and config.excluded(stdin_name) else [(stdin_name, _read_stdin(stdin))]
    else:
        files, failures = _collect(paths, config, force_exclude)
    if not files and not failures:
        # ruff's wording: an empty folder or only excluded files is most often a wrong path
        _warn("No Python files found under the given path(s)")
    if args.project and files:
        session.context = project_context(files, config)
    diagnostics = session.lint(files, failures)

    if args.add_noqa:
        return _add_noqa(files, diagnostics)
    if args.diff:
        return _show_diff(session, files, diagnostics)
    if args.fix:
        diagnostics = _fix(session, files, failures, diagnostics)
    elif args.unsafe_fixes:
        _, unsafe = fixable_counts(diagnostics)
        available = (f"add --fix to apply the {unsafe} unsafe fix(es) available, or --diff to see them" if unsafe
                     else "no unsafe fix is available here")
        _warn(f"--unsafe-fixes changes only what --fix and --diff apply; {available}")
    if session.cache is not None and session.cache.write_error:
        _warn(session.cache.write_error)
    in_baseline = 0
    if args.baseline:
        diagnostics, in_baseline = _baseline(args, files, session.context, diagnostics)

    if args.statistics:
        write_statistics(diagnostics, out, as_json=args.format == "json")
    else:
        if args.show_path:
            write_text(diagnostics, out, show_path=True)
        else:
            FORMATS[args.format](diagnostics, out)
        if args.format == "text" and _is_terminal(out):
            out.write(summary_line(diagnostics, args.unsafe_fixes, in_baseline) + "\n")
    if any(d.code in _ANALYSIS_FAILURES for d in diagnostics):
        return 2
    if diagnostics and not args.exit_zero:
        return 1
    return 0


def _is_terminal(out: TextIO) -> bool:
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return False


def _baseline(args: argparse.Namespace, files: Sequence[tuple[str, bytes]], context: Sequence[tuple[str, bytes]],
              diagnostics: list[Diagnostic]) -> tuple[list[Diagnostic], int]:
    """--baseline FILE: (findings FILE does not record, how many it held back). A missing FILE, or
    --write-baseline, records today's findings and reports only what could not be analysed."""
    originals = {**dict(context), **dict(files)}
    if args.write_baseline or not os.path.exists(args.baseline):
        n = write_baseline(args.baseline, diagnostics, originals)
        print(f"lora-lint: recorded {n} finding(s) in the baseline {args.baseline}; later runs with "
              f"--baseline {args.baseline} report only new ones", file=sys.stderr)
        left = [d for d in diagnostics if d.code in _ANALYSIS_FAILURES]
        return left, len(diagnostics) - len(left)
    result = apply_baseline(args.baseline, diagnostics, originals, linted={p for p, _ in files})
    if result.fixed:
        print(f"lora-lint: {result.fixed} finding(s) recorded in {args.baseline} are gone; "
              f"--write-baseline records the smaller set", file=sys.stderr)
    return result.new, result.matched


def _add_noqa(files: Sequence[tuple[str, bytes]], diagnostics: Sequence[Diagnostic]) -> int:
    """--add-noqa: write the directives; report only what could not be analysed."""
    outcome = add_noqa(diagnostics, dict(files))
    for problem in outcome.problems:
        print(f"lora-lint: {problem}", file=sys.stderr)
    print(f"lora-lint: added {outcome.added} noqa directive(s) to {len(outcome.written)} file(s)", file=sys.stderr)
    failed = [d for d in diagnostics if d.code in _ANALYSIS_FAILURES]
    for d in failed:
        print(f"{d.path}:{d.line}:{d.column}: {d.code} {d.message}", file=sys.stderr)
    return 2 if failed or outcome.problems else 0


def _show_diff(session: _Session, files: Sequence[tuple[str, bytes]], diagnostics: Sequence[Diagnostic]) -> int:
    """--diff: print what the fixes would change, write nothing; exit 1 when something would
    change (ruff's convention, so CI can fail on pending fixes)."""
    from analyzer.fixes import fix_files

    named = dict(files)
    mine = [d for d in diagnostics if d.path in named]
    outcome = fix_files(mine, named, unsafe=session.args.unsafe_fixes, write=False)
    session.out.write(outcome.diff)
    for problem in outcome.problems:
        print(f"lora-lint: {problem}", file=sys.stderr)
    would = len(mine) - len(outcome.remaining)
    if would:
        print(f"lora-lint: would fix {would} finding(s)", file=sys.stderr)
    if any(d.code in _ANALYSIS_FAILURES for d in diagnostics):
        return 2
    return 1 if outcome.diff else 0


def _fix(session: _Session, files: Sequence[tuple[str, bytes]], failures: list[Diagnostic],
         diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """--fix: write the fixes, re-lint, repeat while fixes apply; the findings left. Only the
    files named (or found under the folders named) are written, never --project's context."""
    from analyzer.fixes import fix_files

    originals = dict(files)
    fixed_files: set[str] = set()
    for _ in range(_MAX_FIX_PASSES):
        outcome = fix_files([d for d in diagnostics if d.path in originals], originals,
                            unsafe=session.args.unsafe_fixes, write=True)
        for problem in outcome.problems:
            print(f"lora-lint: {problem}", file=sys.stderr)
        if not outcome.written:
            break
        fixed_files.update(outcome.written)
        for path in outcome.written:
            raw = read_source(path)
            if isinstance(raw, Diagnostic):
                failures.append(raw)
                originals.pop(path, None)
            else:
                originals[path] = raw
        diagnostics = session.lint(list(originals.items()), failures)
    if fixed_files:
        print(f"lora-lint: fixed {len(fixed_files)} file(s): {', '.join(sorted(fixed_files))}", file=sys.stderr)
    return diagnostics


def main() -> None:
    try:
        code = run()
        sys.stdout.flush()
    except BrokenPipeError:
        # `lora-lint | head`: the reader left; exit quietly as other command-line tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = 1
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)


if __name__ == "__main__":
    main()
