"""Order-proof watching on real code: a watched function is checked however it was imported and
whenever enable() ran - `from m import f` before enable(), methods and bound methods taken
before, functools.partial, modules imported after enable() (import hook), and functions of the
script the launcher runs. Nothing is changed while off."""

from __future__ import annotations

import functools
import importlib
import os
import subprocess
import sys

import pytest

from tests.runtime.conftest import FIXTURES, ROOT

torch = pytest.importorskip("torch")

import analyzer.runtime as rt  # noqa: E402

ORDER = FIXTURES / "order"


@pytest.fixture()
def shapes():
    sys.path.insert(0, str(ORDER))
    sys.modules.pop("shapes", None)
    module = importlib.import_module("shapes")
    yield module
    sys.path.remove(str(ORDER))
    sys.modules.pop("shapes", None)


def test_names_imported_before_enable_are_checked(shapes):
    namespace: dict = {}
    exec("from shapes import triple, Layer", namespace)  # the usual layout: imports first
    layer = namespace["Layer"]()
    bound = layer.params  # a bound method taken before enable()
    partial = functools.partial(namespace["triple"], True)
    code = shapes.triple.__code__
    rt.enable("raise", defaults=False)
    for spec in ("shapes:triple", "shapes:Layer.params", "shapes:Layer.static_params", "shapes:Layer.class_params"):
        rt.watch(spec)
    assert namespace["triple"](False) == (1, 2, 3)
    calls = [lambda: namespace["triple"](True), lambda: bound(True), lambda: partial(),
             lambda: namespace["Layer"].static_params(True), lambda: layer.class_params(True)]
    names = ["triple", "Layer.params", "triple", "Layer.static_params", "Layer.class_params"]
    for call, name in zip(calls, names):
        with pytest.raises(rt.RuntimeViolation, match=rf"^{name} returned 2 values on call \d+; its returns at "):
            call()
    rt.disable()
    assert shapes.triple.__code__ is code and namespace["triple"](True) == (1, 2)  # restored everywhere


def test_partial_and_methods_watched_by_object(shapes):
    with rt.checking("raise"):
        assert rt.watch(functools.partial(shapes.triple)) is not None
        assert rt.watch(shapes.Layer().params) is not None  # the function behind the bound method
        with pytest.raises(rt.RuntimeViolation, match="^triple returned 2 values"):
            shapes.triple(True)
        with pytest.raises(rt.RuntimeViolation, match="^Layer.params returned 2 values"):
            shapes.Layer().params(True)


def test_modules_imported_after_enable_get_their_helpers_watched(tmp_path):
    (tmp_path / "late_helpers.py").write_text("def pair(flag):\n    if flag == 1:\n        return 1, 2, 3\n"
                                              "    if flag == 2:\n        return 2, 3\n    return 1, 2\n")
    sys.path.insert(0, str(tmp_path))
    try:
        meta_path = list(sys.meta_path)
        rt.enable("raise", roots=[str(tmp_path)], script="")
        assert len(sys.meta_path) == len(meta_path) + 1  # the import hook, while on
        from late_helpers import pair  # imported by name, after enable()

        assert pair(0) == (1, 2)
        with pytest.raises(rt.RuntimeViolation, match=r"^pair returned 3 values on call 2; its returns at lines"):
            pair(1)
        rt.disable()
        assert sys.meta_path == meta_path and not hasattr(pair, "__lora_lint_watched__")
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("late_helpers", None)


def test_nothing_is_changed_while_off(shapes):
    code, meta_path = shapes.triple.__code__, list(sys.meta_path)
    rt.watch("shapes:triple")
    rt.watch(shapes.Layer.params)
    assert shapes.triple.__code__ is code and shapes.Layer.params.__kwdefaults__ is None
    assert sys.meta_path == meta_path and shapes.triple(True) == (1, 2)


def _launch(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    env.pop("LORA_LINT_RUNTIME", None)
    return subprocess.run([sys.executable, "-m", "analyzer.runtime", *args], cwd=ORDER, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("watch", [[], ["--no-defaults", "--watch", "__main__:get_pair"],
                                   ["--no-defaults", "--watch", "own_helper:get_pair"]])
def test_launcher_checks_the_scripts_own_functions(watch):
    proc = _launch("--mode", "raise", *watch, "own_helper.py")
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.count("top level ran") == 1  # the script ran once, not again by import
    assert "not reached" not in proc.stdout
    assert "RuntimeViolation: get_pair returned 3 values on call 2; its returns at lines" in proc.stderr
    # the traceback ends at the script's call, not in lora-lint, and starts at the script too
    frames = [line.strip() for line in proc.stderr.splitlines() if line.strip().startswith("File ")]
    assert frames[0].startswith(f'File "{ORDER / "own_helper.py"}"') and frames[-1].endswith("in main")


def test_launcher_says_when_the_script_has_no_such_function():
    proc = _launch("--watch", "__main__:nope", "own_helper.py")
    assert (proc.returncode, proc.stdout) == (2, "")
    assert "own_helper.py defines no function 'nope' to watch" in proc.stderr


class _Base:
    def pair(self, x):
        return x, x


class _Child(_Base):
    def pair(self, x, *, scale=2):
        offset = 1

        def inner(y):
            return y + offset, x * scale  # a closure over two names

        return super().pair(x)[0], inner(x)[1]  # super(): a `__class__` cell


def test_closures_super_keyword_defaults_signature_and_source_survive_patching():
    import inspect

    child = _Child()
    source = inspect.getsource(_Child.pair)
    signature = inspect.signature(_Child.pair)
    with rt.checking("raise"):
        rt.watch(_Child.pair)
        assert child.pair(3) == (3, 6) and child.pair(3, scale=3) == (3, 9)
        assert inspect.signature(_Child.pair) == signature and inspect.getsource(_Child.pair) == source
        assert _Child.pair.__kwdefaults__ != {"scale": 2}  # the trampoline's, while watched
    assert _Child.pair.__kwdefaults__ == {"scale": 2} and child.pair(3) == (3, 6)
