"""Time lora-lint against pyflakes on the same files, in one run, one process each.

    python benchmarks/lint_speed.py [FOLDER] [--package NAME] [--repeat N] [--libcst]
                                    [--jobs N] [--cache] [--flake8] [--all]

FOLDER defaults to the installed `peft` package (`--package transformers` for another one).
Prints files, lines, the median seconds of each tool over N repetitions and two ratios: to
`libcst.parse_module` over the same files (the floor of any LibCST pass: the engine parses with
it) and to pyflakes. `--libcst` adds the engine's phases (parse, lowering, flow analysis) and how
many files generated code to compute positions (LibCST keeps none in its nodes: a column, or a
line inside a statement spanning lines, costs the code generation of that statement).

The other modes time the command line end to end (discovery, reading, the project index, output
to memory) rather than the engine on preloaded files: `--jobs N` adds `lora-lint` cold (no cache)
in one process and in N processes (0: all cores); `--cache` adds a warm-cache run (the cache is
filled once first, in a temporary folder); `--flake8` adds flake8 with its default plugins,
without and with the lora-lint plugin (subprocesses, flake8's default `--jobs`). `--all` is
`--jobs 0 --cache --flake8`, the table of the front-ends issue. `--paired N` adds the engine against
`libcst.parse_module` file by file: each file parsed and linted in turn N times, the least time
of each kept (a machine whose other tenants come and go slows both sides of a pair alike, and the
least of N runs drops the slowed ones):

    python benchmarks/lint_speed.py --package transformers --all --repeat 3
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import io
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# flake8 without the lora-lint plugin: the same flake8, with the plugin left out of its discovery
_FLAKE8_WITHOUT_PLUGIN = """
import sys
from flake8.plugins import finder
_find = finder.find_plugins
finder.find_plugins = lambda *a, **k: [p for p in _find(*a, **k) if p.package != "lora-lint"]
from flake8.main.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _files(folder: Path) -> list[tuple[str, bytes]]:
    out = []
    for p in sorted(folder.rglob("*.py")):
        try:
            out.append((str(p), p.read_bytes()))
        except OSError:
            continue
    return out


def _time(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def _cli(folder: Path, *flags: str) -> None:
    from analyzer.frontends.cli import run

    code = run([str(folder), "--isolated", "--exit-zero", *flags], out=io.StringIO())
    if code != 0:
        raise SystemExit(f"lora-lint exited {code} on {folder}")


def _subprocess(cmd: list[str]) -> None:
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def _phases(files: list[tuple[str, bytes]], repeat: int) -> list[tuple[str, object]]:
    """The engine's steps, each timed alone over every file, and the files that paid for positions."""
    import libcst

    from analyzer.engine import lint_source
    from analyzer.flow import analyze_module
    from analyzer.tree import lower_module
    from analyzer.tree import positions

    texts = [src.decode("utf-8", "replace") for _, src in files]
    parsed = []
    for text in texts:
        try:
            parsed.append((libcst.parse_module(text), text))
        except Exception:
            continue

    def flow() -> float:
        # fresh trees each time (a tree keeps what it computed: positions, walks), not timed
        trees = [lower_module(m, text) for m, text in parsed]
        t0 = time.perf_counter()
        for t in trees:
            analyze_module(t)
        return time.perf_counter() - t0

    # as in the engine, without the cyclic garbage collector while a file is analysed
    gc.disable()
    try:
        rows: list[tuple[str, object]] = [
            ("  phase: lowering", _time(lambda: [lower_module(m, text) for m, text in parsed], repeat)),
            ("  phase: flow analysis", statistics.median(flow() for _ in range(repeat))),
        ]
    finally:
        gc.enable()
    made: list = []
    real = positions.Positions.__init__

    def recording(self, *args, **kwargs):
        real(self, *args, **kwargs)
        made.append(self)

    positions.Positions.__init__ = recording
    try:
        for path, src in files:
            lint_source(src, path)
    finally:
        positions.Positions.__init__ = real
    paid = [p for p in made if p.generated or p.computed]
    rows.append(("  files that generated code for positions", f"{len(paid)}/{len(files)}"))
    rows.append(("  ... statements generated / whole modules",
                 f"{sum(p.generated for p in made)} / {sum(p.computed for p in made)}"))
    return rows


def _paired(files: list[tuple[str, bytes]], rounds: int) -> list[tuple[str, object]]:
    """The engine and `libcst.parse_module` on each file in turn, `rounds` times: the sums of each
    file's least time, and their ratio."""
    import libcst

    from analyzer.engine import lint_source

    parse_total = engine_total = 0.0
    for path, src in files:
        best_parse = best_engine = float("inf")
        for _ in range(rounds):
            t0 = time.perf_counter()
            try:
                libcst.parse_module(src)
            except Exception:
                pass
            t1 = time.perf_counter()
            lint_source(src, path)
            t2 = time.perf_counter()
            best_parse, best_engine = min(best_parse, t1 - t0), min(best_engine, t2 - t1)
        parse_total += best_parse
        engine_total += best_engine
    return [(f"paired, least of {rounds}: parse_module", f"{parse_total:.3f}"),
            (f"paired, least of {rounds}: engine", f"{engine_total:.3f}"),
            ("  ... engine / parse_module, paired", f"{engine_total / parse_total:.2f}x")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?")
    ap.add_argument("--package", default="peft", help="installed package to lint when no FOLDER (default: peft)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--libcst", action="store_true", help="also time libcst.parse_module alone")
    ap.add_argument("--jobs", type=int, help="also time the CLI cold in one and in N processes (0: all cores)")
    ap.add_argument("--cache", action="store_true", help="also time the CLI with a warm cache")
    ap.add_argument("--flake8", action="store_true", help="also time flake8 without and with the plugin")
    ap.add_argument("--all", action="store_true", help="--jobs 0 --cache --flake8")
    ap.add_argument("--paired", type=int, metavar="N",
                    help="also time the engine and the parse file by file, alternating, least of N each")
    args = ap.parse_args()
    if args.all:
        args.cache = args.flake8 = True
        args.jobs = 0 if args.jobs is None else args.jobs
    if args.folder:
        folder = Path(args.folder)
    else:
        spec = importlib.util.find_spec(args.package)
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit(f"package {args.package!r} is not installed")
        folder = Path(list(spec.submodule_search_locations)[0])
    files = _files(folder)
    lines = sum(src.count(b"\n") for _, src in files)

    from pyflakes.api import check
    from pyflakes.reporter import Reporter

    from analyzer.engine import lint_source

    def run_pyflakes() -> None:
        rep = Reporter(io.StringIO(), io.StringIO())
        for path, src in files:
            check(src.decode("utf-8", "replace"), path, rep)

    def run_lora_lint() -> None:
        for path, src in files:
            lint_source(src, path)

    import libcst

    def run_libcst() -> None:
        for _, src in files:
            try:
                libcst.parse_module(src)
            except Exception:
                pass

    rows = [("libcst.parse_module only", _time(run_libcst, args.repeat)), ("pyflakes", _time(run_pyflakes, args.repeat)),
            ("lora-lint engine, 1 process", _time(run_lora_lint, args.repeat))]
    if args.libcst:
        rows.extend(_phases(files, args.repeat))
    if args.paired:
        rows.extend(_paired(files, args.paired))
    if shutil.which("ruff"):
        rows.append(("ruff check --select F (for scale)", _time(
            lambda: _subprocess(["ruff", "check", "--select", "F", "--no-cache", "--exit-zero", str(folder)]),
            args.repeat)))
    from analyzer.frontends.runner import default_jobs

    cores = default_jobs()
    if args.jobs is not None:
        jobs = args.jobs or cores
        rows.append(("lora-lint CLI cold, 1 process",
                     _time(lambda: _cli(folder, "--no-cache", "--jobs", "1"), args.repeat)))
        rows.append((f"lora-lint CLI cold, {jobs} processes",
                     _time(lambda: _cli(folder, "--no-cache", "--jobs", str(jobs)), args.repeat)))
    if args.cache:
        with tempfile.TemporaryDirectory(prefix="lora-lint-bench-") as cache_dir:
            _cli(folder, "--cache-dir", cache_dir, "--jobs", str(cores))  # fill it
            rows.append(("lora-lint CLI warm cache", _time(lambda: _cli(folder, "--cache-dir", cache_dir),
                                                           args.repeat)))
    if args.flake8:
        env_cmd = [sys.executable, "-c", _FLAKE8_WITHOUT_PLUGIN, str(folder)]
        rows.append(("flake8 default (no plugin)", _time(lambda: _subprocess(env_cmd), args.repeat)))
        rows.append(("flake8 default + lora-lint",
                     _time(lambda: _subprocess([sys.executable, "-m", "flake8", str(folder)]), args.repeat)))
    parse, flakes = rows[0][1], rows[1][1]
    print(f"folder: {folder}")
    print(f"files: {len(files)}  lines: {lines}  repetitions: {args.repeat}  cores: {cores} "
          f"(parse, pyflakes and engine rows: one process, files preloaded)")
    print(f"{'tool':<40}{'median s':>10}{'vs parse':>11}{'vs pyflakes':>14}")
    for name, secs in rows:
        if isinstance(secs, str):
            print(f"{name:<40}{secs:>10}")
            continue
        print(f"{name:<40}{secs:>10.3f}{secs / parse:>10.2f}x{secs / flakes:>13.2f}x")
    named = dict(rows)
    if args.flake8:
        ratio = named["flake8 default + lora-lint"] / named["flake8 default (no plugin)"]
        print(f"flake8 with the plugin / flake8 alone: {ratio:.2f}x")


if __name__ == "__main__":
    main()
