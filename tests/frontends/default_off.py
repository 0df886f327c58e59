"""Run flake8 or lora-lint with LL202 turned into a default-off rule (no shipped rule is off by
default yet, but the mechanism must work): `python default_off.py flake8|lora-lint ARGS...`."""

import sys

import analyzer.rules as rules
from analyzer.rules.ll202_possibly_unbound import PossiblyUnbound


class OffByDefault(PossiblyUnbound):
    default_enabled = False


swapped = tuple(OffByDefault if r is PossiblyUnbound else r for r in rules.ALL_RULES)
# one registry: every front-end reads analyzer.rules.ALL_RULES when it runs
rules.ALL_RULES = swapped

if sys.argv[1] == "flake8":
    from flake8.main.cli import main as flake8_main

    sys.exit(flake8_main(sys.argv[2:]))
else:
    from analyzer.frontends.cli import run

    sys.exit(run(sys.argv[2:]))
