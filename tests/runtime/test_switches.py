"""Modes and switches: enable/disable, `checking()` scopes, the environment variable read when
enabling, and nothing wrapped while off."""

from __future__ import annotations

import sys
import types

import pytest

pytest.importorskip("torch")

import analyzer.runtime as rt  # noqa: E402


def _module_with(source: str) -> types.ModuleType:
    module = types.ModuleType("lora_lint_test_mod")
    sys.modules[module.__name__] = module
    exec(compile(source, "<lora_lint_test_mod>", "exec"), module.__dict__)
    return module


def test_env_var_read_when_enabled_not_at_import(monkeypatch):
    monkeypatch.setenv("LORA_LINT_RUNTIME", "log")
    assert rt.current_mode() == "off"
    assert rt.enable(defaults=False) == "log"
    rt.disable()
    monkeypatch.setenv("LORA_LINT_RUNTIME", "off")
    assert rt.enable(defaults=False) == "off" and rt.current_mode() == "off"
    monkeypatch.setenv("LORA_LINT_RUNTIME", "bogus")
    with pytest.raises(ValueError, match="must be one of off, log, warn, raise, not 'bogus'"):
        rt.enable(defaults=False)
    monkeypatch.delenv("LORA_LINT_RUNTIME")
    assert rt.enable(defaults=False) == "warn"


def test_nothing_is_changed_while_off_and_enable_patches_decorated_functions():
    module = _module_with("import analyzer.runtime as rt\n\n@rt.watch\ndef f():\n    return 1, 2\n")
    plain = module.f
    code = plain.__code__
    assert not hasattr(plain, "__lora_lint_watched__")  # off: the decorator changed nothing
    for mode in ("raise", "warn"):  # every session patches it again, in place
        with rt.checking(mode):
            assert module.f is plain and plain.__code__ is not code
            assert plain.__lora_lint_watched__.__code__ is code
            assert module.f() == (1, 2)
        assert module.f is plain and plain.__code__ is code and not hasattr(plain, "__lora_lint_watched__")


def test_decorator_while_on_patches_at_once_and_disable_restores_the_code():
    with rt.checking("raise"):
        module = _module_with("import analyzer.runtime as rt\n\n@rt.watch\ndef f(x):\n    return x, x\n")
        code = module.f.__lora_lint_watched__.__code__
        assert module.f(1) == (1, 1)
    assert module.f.__code__ is code and module.f.__defaults__ is None and module.f.__kwdefaults__ is None
    with rt.checking("raise"):
        assert module.f.__lora_lint_watched__.__code__ is code


def test_nested_checking_keeps_the_outer_session():
    module = _module_with("def f():\n    return 1, 2\n")
    rt.enable("warn", defaults=False)
    rt.watch(f"{module.__name__}:f")
    outer = module.f.__code__
    with rt.checking("raise"):
        assert rt.current_mode() == "raise"
        rt.watch(f"{module.__name__}:f")  # already watched: not patched twice
        assert module.f.__code__ is outer
    assert rt.current_mode() == "warn" and module.f.__code__ is outer
    with rt.checking("off"):
        assert rt.current_mode() == "warn" and not rt.state.STATE.on
    assert rt.state.STATE.on
    rt.disable()
    assert rt.current_mode() == "off" and not hasattr(module.f, "__lora_lint_watched__")


def test_watch_module_wraps_plain_functions_only():
    module = _module_with("import os\n\ndef f():\n    return 1, 2\n\ndef g():\n    yield 1\n\nclass C:\n    pass\n")
    with rt.checking("raise"):
        assert rt.watch_module(module.__name__) == 1
        assert hasattr(module.f, "__lora_lint_watched__") and not hasattr(module.g, "__lora_lint_watched__")
        assert module.os is sys.modules["os"]


def test_bad_watch_targets_say_why():
    with rt.checking("raise"):
        with pytest.raises(ValueError, match="pkg.module:function"):
            rt.watch("no_colon")
        with pytest.raises(AttributeError, match="has no function 'nope'"):
            rt.watch("os.path:nope")

        def gen():
            yield 1

        with pytest.raises(TypeError, match="generator or coroutine"):
            rt.watch(gen)
