"""`LORA_LINT_RUNTIME=raise python train.py`: the tracer on with no change to the script.

`lora_lint_runtime.pth` (in this folder) goes into site-packages; Python runs its one line at
every start-up. The line reads the environment variable and imports this module only when the
variable asks for a mode other than off, so an unset variable costs one dictionary lookup.
`start()` then turns the tracer on with the default watching, before the script's first line.

    python -m analyzer.runtime.autostart install     # into this interpreter's site-packages
    python -m analyzer.runtime.autostart uninstall
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import sysconfig

__all__ = ["start", "install", "uninstall", "PTH_NAME"]

PTH_NAME = "lora_lint_runtime.pth"
_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), PTH_NAME)


def start() -> None:
    """Called by the .pth line at interpreter start-up. Never raises: a tracer that cannot start
    says why on one line and lets the program run."""
    try:
        from analyzer import runtime

        if not runtime.state.STATE.on:
            runtime.enable()
    except Exception as exc:
        print(f"lora-lint runtime: not started: {exc}", file=sys.stderr)


def _site_packages(target: str | None) -> str:
    return target or sysconfig.get_paths()["purelib"]


def install(target: str | None = None) -> str:
    """Copy the .pth into `target` (default: this interpreter's site-packages); returns its path."""
    path = os.path.join(_site_packages(target), PTH_NAME)
    shutil.copyfile(_SOURCE, path)
    return path


def uninstall(target: str | None = None) -> str:
    path = os.path.join(_site_packages(target), PTH_NAME)
    if os.path.exists(path):
        os.remove(path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analyzer.runtime.autostart",
                                     description="install the start-up hook that reads $LORA_LINT_RUNTIME")
    parser.add_argument("action", choices=("install", "uninstall"))
    parser.add_argument("--target", default=None, help="a site-packages folder (default: this interpreter's)")
    ns = parser.parse_args(argv)
    path = install(ns.target) if ns.action == "install" else uninstall(ns.target)
    print(f"{ns.action}ed {path}" if ns.action == "install" else f"removed {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
