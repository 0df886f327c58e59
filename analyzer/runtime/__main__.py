"""`python -m analyzer.runtime [--mode raise] [--watch mod:func ...] [--watch-module pkg.mod] script.py [args]`

Runs the script as `python script.py` would (its folder first on sys.path, `__name__ ==
"__main__"`, arguments passed through, its exit status kept) with the tracer on. Told nothing, it
watches every PEFT LoRA layer and the return-tuple helpers of your own code, the script's
included (`--no-defaults` turns that off). Works under `torchrun --nproc_per_node 2 -m
analyzer.runtime train.py`. In `raise` mode a violation ends the run with the exception's
traceback and status 1.
"""

from __future__ import annotations

import argparse
import os
import sys

from analyzer.runtime.state import MODES


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analyzer.runtime", description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=MODES, default=None, help="default: $LORA_LINT_RUNTIME, else warn")
    parser.add_argument("--watch", action="append", default=[], metavar="MODULE:FUNC",
                        help="watch this function's returns (repeatable); MODULE:Class.method works too, and "
                             "__main__:func (or the script's own name) names a function of the script")
    parser.add_argument("--watch-module", action="append", default=[], metavar="MODULE",
                        help="watch every function defined in this module (repeatable)")
    parser.add_argument("--no-defaults", action="store_true",
                        help="watch only what --watch/--watch-module name: no LoRA layers or helpers by default")
    parser.add_argument("--log-dir", default=None,
                        help="with --mode log: one JSONL file per rank here (default: $LORA_LINT_RUNTIME_LOG_DIR)")
    parser.add_argument("--sample-every", type=int, default=1, metavar="N",
                        help="after each layer's first forwards, run the LoRA-layer checks on every N-th")
    parser.add_argument("script")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    return parser


def _split_specs(specs: list[str], script: str) -> tuple[list[str], set[str]]:
    """(specs for modules, qualnames of the script's own functions)."""
    stem = os.path.splitext(os.path.basename(script))[0]
    others, own = [], set()
    for spec in specs:
        module, sep, qualname = spec.partition(":")
        if sep and qualname and module in ("__main__", stem):
            own.add(qualname)  # importing the script by its name would run its top level twice
        else:
            others.append(spec)
    return others, own


def main(argv: list[str] | None = None) -> int:
    ns = _parser().parse_args(argv)
    script = os.path.abspath(ns.script)
    if not os.path.isfile(script):
        print(f"python -m analyzer.runtime: can't open file {ns.script!r}", file=sys.stderr)
        return 2
    from analyzer import runtime
    from analyzer.runtime import mainscript, selection

    # as `python script.py`: the script's folder replaces the one `-m` put first
    if sys.path and os.path.abspath(sys.path[0] or os.curdir) == os.path.abspath(os.curdir):
        sys.path[0] = os.path.dirname(script)
    else:
        sys.path.insert(0, os.path.dirname(script))
    sys.argv = [ns.script, *ns.args]
    specs, own = _split_specs(ns.watch, script)
    try:
        missing = mainscript.missing_qualnames(script, own)
        if missing:
            raise AttributeError(f"{ns.script} defines no function {', '.join(sorted(map(repr, missing)))} to watch")
        runtime.enable(ns.mode, log_dir=ns.log_dir, sample_every=ns.sample_every, defaults=not ns.no_defaults,
                       roots=[os.path.dirname(script), os.getcwd()], script="")
        # the script folder is on sys.path now, so its own modules can be watched
        for spec in specs:
            runtime.watch(spec)
        for module in ns.watch_module:
            runtime.watch_module(module)
        if not ns.no_defaults:
            own |= selection.helper_qualnames_in_file(script)
    except (ImportError, ValueError, AttributeError, TypeError, SyntaxError) as exc:
        runtime.disable()
        print(f"python -m analyzer.runtime: {exc}", file=sys.stderr)
        return 2
    try:
        # SystemExit passes through untouched: its status (or message) is the script's own
        mainscript.run_script(script, own)
    finally:
        runtime.disable()
    return 0


if __name__ == "__main__":
    sys.exit(main())
