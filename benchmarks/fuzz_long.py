"""The long fuzz run: lint N generated valid programs and count what went wrong.

    python benchmarks/fuzz_long.py [-n N] [--seed S] [--save DIR]

Programs come from hypothesmith, half from Python's grammar (`from_grammar`) and half from LibCST
node types (`from_node`: modules, functions, classes). Each is checked by
`tests/reliability/invariants.py` (the same checks as the CI fuzz test): `lint_source` must not
raise, must report no LL000 (and no LL001-LL003: the programs compile), must place every
diagnostic inside the file, and every fix it offers must re-parse and not be offered again.

Prints the number of programs, crashes (exceptions out of `lint_source`), LL000 findings, other
problems and seconds; `--save DIR` writes each failing program to DIR for a reproducer. Exit
status 1 when anything went wrong.
"""

from __future__ import annotations

import argparse
import collections
import signal
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make the `tests` package importable
    sys.path.insert(0, str(ROOT))



def strategies() -> dict:
    """Share of N per strategy. Imported here, not at the top: `--help` must work without the dev
    extras (hypothesis, hypothesmith)."""
    import hypothesmith
    import libcst

    return {
        "grammar": (hypothesmith.from_grammar(), 0.5),
        "module": (hypothesmith.from_node(libcst.Module), 0.2),
        "function": (hypothesmith.from_node(libcst.FunctionDef), 0.2),
        "class": (hypothesmith.from_node(libcst.ClassDef), 0.1),
    }


class _Hang(BaseException):
    """Raised by the watchdog inside a program's checks that ran too long (not an Exception, so
    the invariants do not take it for a crash of the engine)."""


def _alarm(signum, frame):
    raise _Hang()


def run_strategy(name: str, strategy, n: int, seed_value: int, found: list[tuple[str, str, list[str]]],
                 counts: collections.Counter, timeout: float) -> None:
    from hypothesis import HealthCheck, Phase, given, seed, settings

    from tests.reliability.invariants import problems

    # generation only: hypothesis' target phase hill-climbs for a long time without new programs
    @seed(seed_value)
    @settings(max_examples=n, deadline=None, database=None, derandomize=False, print_blob=False,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(code=strategy)
    def check(code: str) -> None:
        counts[name] += 1
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            bad = problems(code)
        except _Hang:
            bad = [f"hang: checks took more than {timeout:.0f} s"]
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if bad:
            found.append((name, code, bad))  # recorded, not raised: the run goes on, no shrinking

    check()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=10_000, help="programs in all (default 10000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--save", type=Path, help="write each failing program to this folder")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per program before it counts as a hang")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore", SyntaxWarning)  # compile() in hypothesmith warns on odd literals
    signal.signal(signal.SIGALRM, _alarm)
    counts: collections.Counter = collections.Counter()
    found: list[tuple[str, str, list[str]]] = []
    start = time.perf_counter()
    for i, (name, (strategy, share)) in enumerate(strategies().items()):
        t0 = time.perf_counter()
        run_strategy(name, strategy, max(1, round(args.n * share)), args.seed + i, found, counts, args.timeout)
        print(f"  {name}: {counts[name]} programs, {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - start
    crashes = [f for f in found if any(p.startswith(("raised", "(bytes input) raised")) for p in f[2])]
    ll000 = sum(1 for f in found for p in f[2] if p.startswith("LL000"))
    hangs = sum(1 for f in found if any(p.startswith("hang") for p in f[2]))
    print(f"programs: {sum(counts.values())} ({', '.join(f'{k} {v}' for k, v in counts.items())})")
    print(f"crashes: {len(crashes)}")
    print(f"LL000: {ll000}")
    print(f"hangs: {hangs}")
    print(f"programs with any problem: {len(found)}")
    print(f"seconds: {seconds:.0f}")
    for j, (name, code, bad) in enumerate(found[:20]):
        print(f"--- failure {j} ({name}):")
        print("\n".join("  " + line for p in bad for line in p.splitlines()))
        print("  program:\n" + "\n".join("    | " + line for line in code.splitlines()[:40]))
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
        for j, (_, code, _) in enumerate(found):
            (args.save / f"failure_{j}.py").write_text(code, encoding="utf-8")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
