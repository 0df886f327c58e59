"""`python -m analyzer.runtime [--mode raise] [--watch mod:func ...] [--watch-module pkg.mod] script.py [args]`

Runs the script exactly as `python script.py` would (its folder first on sys.path, `__name__ ==
"__main__"`, arguments passed through, exit status kept) with the tracer on. Works under
`torchrun ... -m analyzer.runtime train.py`.
"""

from __future__ import annotations

import argparse
import os
import runpy
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analyzer.runtime", description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["log", "warn", "raise"], default=None,
                        help="default: $LORA_LINT_RUNTIME, else warn")
    parser.add_argument("--watch", action="append", default=[], metavar="MODULE:FUNC")
    parser.add_argument("--watch-module", action="append", default=[], metavar="MODULE")
    parser.add_argument("--log-dir", default=None, help="with --mode log: one JSONL file per rank here")
    parser.add_argument("script")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    ns = parser.parse_args(argv)

    from analyzer import runtime

    script = os.path.abspath(ns.script)
    sys.argv = [ns.script] + list(ns.args)
    sys.path.insert(0, os.path.dirname(script))
    runtime.enable(ns.mode, log_dir=ns.log_dir)
    for spec in ns.watch:
        runtime.watch(spec)
    for mod in ns.watch_module:
        runtime.watch_module(mod)
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    finally:
        runtime.disable()
    return 0


if __name__ == "__main__":
    sys.exit(main())
