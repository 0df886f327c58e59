"""pytest plugin: `pytest --lora-runtime=raise` runs the test session with the tracer on."""

from __future__ import annotations


def pytest_addoption(parser) -> None:
    group = parser.getgroup("lora-lint")
    group.addoption("--lora-runtime", choices=["off", "log", "warn", "raise"], default=None,
                    help="run the session with lora-lint's runtime tracer in this mode")


def pytest_configure(config) -> None:
    mode = config.getoption("--lora-runtime", default=None)
    if mode and mode != "off":
        from analyzer import runtime

        runtime.enable(mode)
        config._lora_lint_runtime = True


def pytest_unconfigure(config) -> None:
    if getattr(config, "_lora_lint_runtime", False):
        from analyzer import runtime

        runtime.disable()
