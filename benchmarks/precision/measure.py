"""Precision of the default rules on one half of the own corpus (issue 14, Deliver 2).

    python benchmarks/precision/measure.py ROOT --half tune|holdout|blind|blind2|blind3|blind4 [--review FILE] [--jobs N]
                                           [--list TRUE|LATENT|FALSE]

ROOT holds one checkout per repository of corpus.toml, in a folder named after it
(ROOT/ms-swift/swift/...). For each repository of the half, lora-lint (default rules,
`--format json --no-cache --isolated`) is run on the .py files under its `lint` folder, named on
the command line (one run per repository, so cross-file rules see the whole package). Prints,
per repository and per rule, the findings and linted lines; with the classification file
(default benchmarks/precision/<half>.tsv, tab-separated: repo, path, line, col, code, verdict,
reason; verdict TRUE, LATENT or FALSE) also the verdict counts and findings and false alarms per
50k lines. Findings the file does not classify are listed as UNREVIEWED (as TSV rows to fill
in); a missing file classifies nothing (every finding UNREVIEWED). Classified findings no longer
reported are listed as GONE. --jobs 0 (the default) runs lora-lint on all cores. --list FALSE
prints the reported findings classified FALSE, with their reasons. Needs no network.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
VERDICTS = ("TRUE", "LATENT", "FALSE")


def load_corpus(path: Path) -> list[dict]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: lora-lint depends on tomli there
        import tomli as tomllib
    with open(path, "rb") as f:
        return tomllib.load(f)["repo"]


def python_files(folder: Path) -> list[Path]:
    """The .py files under folder, skipping hidden folders and __pycache__, sorted."""
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__pycache__")
        out += [Path(dirpath, f) for f in sorted(filenames) if f.endswith(".py")]
    return out


def count_lines(files: list[Path]) -> int:
    return sum(p.read_bytes().count(b"\n") for p in files)


def lint(checkout: Path, files: list[Path], jobs: int) -> list[dict]:
    """lora-lint's findings on files; jobs 0 means all cores (the CLI takes only jobs >= 1)."""
    jobs = jobs or os.cpu_count() or 1
    cmd = [sys.executable, "-m", "analyzer", "--format", "json", "--no-cache", "--isolated",
           "--exit-zero", "--jobs", str(jobs)] + [str(p.relative_to(checkout)) for p in files]
    proc = subprocess.run(cmd, cwd=checkout, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"lora-lint failed in {checkout} (exit {proc.returncode}):\n{proc.stderr}")
    return json.loads(proc.stdout)


def load_review(path: Path) -> dict[tuple, tuple[str, str]]:
    review = {}
    if not path.exists():
        return review
    for n, row in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not row.strip() or row.startswith(("#", "repo\t")):
            continue
        repo, fpath, line, col, code, verdict, reason = row.split("\t", 6)
        if verdict not in VERDICTS:
            sys.exit(f"{path}:{n}: verdict {verdict!r} is not one of {', '.join(VERDICTS)}")
        review[(repo, fpath, int(line), int(col), code)] = (verdict, reason)
    return review


def per50k(n: int, lines: int) -> str:
    return f"{n * 50_000 / lines:.2f}" if lines else "-"


def table(title: str, counts: dict[str, collections.Counter], lines: dict[str, int] | None,
          total_lines: int) -> None:
    print(f"\n{title:<14} {'lines':>8} {'find':>5} {'TRUE':>5} {'LAT':>5} {'FALSE':>5} "
          f"{'UNREV':>5} {'find/50k':>9} {'FALSE/50k':>9} {'FALSE%':>7}")
    for key in sorted(counts, key=lambda k: (k == "all", k)):
        c = counts[key]
        n_lines = lines[key] if lines else total_lines
        false_pct = f"{100 * c['FALSE'] / c['n']:.0f} %" if c["n"] else "-"
        print(f"{key:<14} {n_lines:>8} {c['n']:>5} {c['TRUE']:>5} {c['LATENT']:>5} {c['FALSE']:>5} "
              f"{c['UNREVIEWED']:>5} {per50k(c['n'], n_lines):>9} {per50k(c['FALSE'], n_lines):>9} "
              f"{false_pct:>7}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("root", type=Path, help="folder with one checkout per repository")
    ap.add_argument("--half", choices=("tune", "holdout", "blind", "blind2", "blind3", "blind4"), required=True)
    ap.add_argument("--corpus", type=Path, default=HERE / "corpus.toml")
    ap.add_argument("--review", type=Path, help="classification file (default: <half>.tsv here; "
                    "missing: nothing classified)")
    ap.add_argument("--jobs", "-j", type=int, default=0, help="lora-lint workers (0: all cores)")
    ap.add_argument("--list", choices=VERDICTS, help="also print the reported findings with this verdict")
    args = ap.parse_args()
    review = load_review(args.review or HERE / f"{args.half}.tsv")

    by_repo: dict[str, collections.Counter] = {}
    by_rule: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    lines: dict[str, int] = {}
    unreviewed, listed, seen = [], [], set()
    for repo in load_corpus(args.corpus):
        if repo["half"] != args.half:
            continue
        checkout = args.root / repo["name"]
        if not (checkout / repo["lint"]).is_dir():
            sys.exit(f"missing checkout: {checkout / repo['lint']} (see corpus.toml)")
        files = python_files(checkout / repo["lint"])
        lines[repo["name"]] = count_lines(files)
        by_repo[repo["name"]] = c = collections.Counter()
        for f in lint(checkout, files, args.jobs):
            key = (repo["name"], f["path"], f["line"], f["column"], f["code"])
            seen.add(key)
            verdict, reason = review.get(key, ("UNREVIEWED", ""))
            if verdict == args.list:
                listed.append("\t".join(map(str, key)) + f"\t{reason}")
            if verdict == "UNREVIEWED":
                unreviewed.append("\t".join(map(str, key)) + f"\t?\t{f['message']}")
            for counter in (c, by_rule[f["code"]], by_rule["all"]):
                counter["n"] += 1
                counter[verdict] += 1
    total = sum(lines.values())
    by_repo["all"] = by_rule["all"]
    lines["all"] = total
    print(f"half {args.half}: {len(lines) - 1} repositories, {total} lines of .py")
    table("repository", by_repo, lines, total)
    table("rule", dict(by_rule), None, total)
    gone = [k for k in review if k[0] in lines and k not in seen]
    if gone:
        print(f"\nGONE ({len(gone)}): classified but no longer reported")
        for key in sorted(gone):
            print("\t".join(map(str, key)) + "\t" + "\t".join(review[key]))
    if listed:
        print(f"\n{args.list} ({len(listed)}): repo path line col code reason")
        print("\n".join(listed))
    if unreviewed:
        print(f"\nUNREVIEWED ({len(unreviewed)}): repo path line col code ? message")
        print("\n".join(unreviewed))


if __name__ == "__main__":
    main()
