"""Redo the declared draw of corpus.toml's split (run once, before anything was linted).

    python benchmarks/precision/split.py [--corpus FILE]

random.Random(2026).sample(sorted names, n // 2), repeated until the drawn repositories hold
40-60 % of the recorded lines; the drawn ones are the tune half.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parent / "corpus.toml")
    args = ap.parse_args()
    try:
        import tomllib
    except ModuleNotFoundError:
        import tomli as tomllib
    # the blind corpora were added later and are not part of this draw
    lines = {r["name"]: r["lines"] for r in tomllib.loads(args.corpus.read_text())["repo"] if r["half"] in ("tune", "holdout")}
    names, total, rng = sorted(lines), sum(lines.values()), random.Random(2026)
    for draw in range(1, 1000):
        tune = sorted(rng.sample(names, len(names) // 2))
        share = sum(lines[n] for n in tune) / total
        if 0.4 <= share <= 0.6:
            break
    print(f"draw {draw}: tune {tune} ({share:.1%} of {total} lines)")
    print(f"holdout {sorted(set(names) - set(tune))}")


if __name__ == "__main__":
    main()
