"""pytest plugin (entry point `pytest11`): `pytest --lora-runtime=raise` runs the test session
with lora-lint's runtime tracer in that mode, watching every PEFT LoRA layer and the return-tuple
helpers under the rootdir by default; `--lora-runtime-watch MODULE:FUNC` watches more. Imports
nothing heavy unless the option is given.

The rootdir goes on `sys.path` first, as pytest's `rootdir`-relative imports put a test's folder
there, so that `--lora-runtime-watch helpers:f` finds a module beside the tests under plain
`pytest` as under `python -m pytest` (which adds the working directory)."""

from __future__ import annotations

_SCOPE_KEY = "_lora_lint_runtime_scope"


def pytest_addoption(parser) -> None:
    group = parser.getgroup("lora-lint")
    group.addoption("--lora-runtime", choices=["off", "log", "warn", "raise"], default=None,
                    help="run the session with lora-lint's runtime tracer in this mode")
    group.addoption("--lora-runtime-watch", action="append", default=[], metavar="MODULE:FUNC",
                    help="with --lora-runtime: watch this function's returns (repeatable)")


def pytest_configure(config) -> None:
    mode = config.getoption("--lora-runtime", default=None)
    if not mode or mode == "off":
        return
    import pytest

    from analyzer import runtime
    from analyzer.runtime.switches import Scope

    import os
    import sys

    rootdir = str(config.rootpath)
    if rootdir not in sys.path:
        sys.path.insert(0, rootdir)
    scope = Scope()
    try:
        scope.enter(mode, roots=[rootdir, os.getcwd()], script="")
        for spec in config.getoption("--lora-runtime-watch", default=[]) or []:
            runtime.watch(spec)
    except (ImportError, ValueError, AttributeError, TypeError) as exc:
        runtime.disable()
        raise pytest.UsageError(f"--lora-runtime: {exc}") from exc
    setattr(config, _SCOPE_KEY, scope)


def pytest_report_header(config):
    if getattr(config, _SCOPE_KEY, None) is not None:
        return f"lora-lint runtime: {config.getoption('--lora-runtime')}"
    return None


def pytest_unconfigure(config) -> None:
    scope = getattr(config, _SCOPE_KEY, None)
    if scope is not None:
        scope.exit()
