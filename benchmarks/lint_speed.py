"""Time lora-lint against pyflakes on the same files, in one run, one process each.

    python benchmarks/lint_speed.py [FOLDER] [--repeat N] [--libcst]

FOLDER defaults to the installed `peft` package. Prints files, lines, the median seconds of each
tool over N repetitions and the ratio to pyflakes. `--libcst` also times `libcst.parse_module`
alone, the figure behind the choice of `ast` for analysis (LibCST is used for rewriting only).
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from pathlib import Path


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--libcst", action="store_true", help="also time libcst.parse_module alone")
    args = ap.parse_args()
    if args.folder:
        folder = Path(args.folder)
    else:
        import peft

        folder = Path(peft.__file__).parent
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

    rows = [("pyflakes", _time(run_pyflakes, args.repeat)), ("lora-lint", _time(run_lora_lint, args.repeat))]
    if args.libcst:
        import libcst

        def run_libcst() -> None:
            for _, src in files:
                try:
                    libcst.parse_module(src)
                except Exception:
                    pass

        rows.append(("libcst.parse_module only", _time(run_libcst, args.repeat)))
    base = rows[0][1]
    print(f"folder: {folder}")
    print(f"files: {len(files)}  lines: {lines}  repetitions: {args.repeat} (one process)")
    print(f"{'tool':<28}{'median s':>10}{'vs pyflakes':>14}")
    for name, secs in rows:
        print(f"{name:<28}{secs:>10.3f}{secs / base:>13.2f}x")


if __name__ == "__main__":
    main()
