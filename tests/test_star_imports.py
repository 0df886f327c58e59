"""Star imports resolved through the run: a name read in a module that star-imports another
module of the same run is LL201 when that module (and every module it star-imports in turn) is
known not to export it; anything unknown on the way keeps the read quiet."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.engine import lint_sources
from analyzer.selection import Selection

USER = "from .layers import *\n\ndef f(x):\n    return merge(x) + scale(x)\n"


def _lint(tmp_path: Path, files: dict[str, str]) -> list[tuple[str, int, int, str]]:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    sources = []
    for name, text in files.items():
        path = pkg / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        sources.append((str(path), text.encode()))
    return [(Path(d.path).name, d.line, d.column, d.message) for d in lint_sources(sources, Selection())
            if d.code == "LL201"]


def test_a_name_the_star_imported_all_lacks(tmp_path):
    got = _lint(tmp_path, {"layers.py": "__all__ = ['merge']\n\ndef merge(x):\n    return x\n\n"
                                        "def scale(x):\n    return x\n",
                           "user.py": USER})
    assert got == [("user.py", 4, 23, "undefined name `scale`: nothing in the module binds it, and "
                                      "`from .layers import *` does not export it")]


def test_public_names_without_all_and_a_private_one(tmp_path):
    got = _lint(tmp_path, {"layers.py": "def merge(x):\n    return x\n\ndef _scale(x):\n    return x\n",
                           "user.py": "from .layers import *\n\ndef f(x):\n    return merge(x) + _scale(x)\n"})
    assert [g[:3] for g in got] == [("user.py", 4, 23)]


def test_followed_through_a_second_star_import(tmp_path):
    got = _lint(tmp_path, {"layers.py": "from .ops import *\n\ndef merge(x):\n    return x\n",
                           "ops.py": "def scale(x):\n    return x\n",
                           "user.py": USER})
    assert got == []


@pytest.mark.parametrize("layers", [
    pytest.param("from torch import *\n\ndef merge(x):\n    return x\n", id="a star import from outside the run"),
    pytest.param("EXTRA = ()\n__all__ = ['merge'] + list(EXTRA)\n\ndef merge(x):\n    return x\n",
                 id="computed __all__"),
    pytest.param("def merge(x):\n    return x\n\ndef __getattr__(name):\n    return name\n", id="module __getattr__"),
    pytest.param("def merge(x):\n    return x\n\nglobals()['scale'] = merge\n", id="globals() write"),
])
def test_unknown_exports_keep_the_read_quiet(tmp_path, layers):
    assert _lint(tmp_path, {"layers.py": layers, "user.py": USER}) == []


def test_star_imported_module_outside_the_run(tmp_path):
    assert _lint(tmp_path, {"user.py": USER}) == []


def test_submodule_of_a_star_imported_package(tmp_path):
    got = _lint(tmp_path, {"layers/__init__.py": "def merge(x):\n    return x\n",
                           "layers/scale.py": "X = 1\n",
                           "user.py": USER})
    assert got == []


def test_noqa_on_the_read(tmp_path):
    user = "from .layers import *\n\ndef f(x):\n    return merge(x) + scale(x)  # noqa: LL201\n"
    assert _lint(tmp_path, {"layers.py": "__all__ = ['merge']\n\ndef merge(x):\n    return x\n",
                            "user.py": user}) == []


@pytest.mark.parametrize("user", [
    pytest.param("try:\n    from .layers import *\nexcept ImportError:\n    pass\n\ndef f(x):\n    return scale(x)\n",
                 id="star import in a try"),
    pytest.param("from .layers import *\nfrom .more import *\n\ndef f(x):\n    return scale(x)\n",
                 id="a second star source outside the run"),
    pytest.param("from .layers import *\n\nglobals()['scale'] = len\n\ndef f(x):\n    return scale(x)\n",
                 id="names written through globals()"),
])
def test_unknown_star_sources_of_the_reader_keep_it_quiet(tmp_path, user):
    assert _lint(tmp_path, {"layers.py": "__all__ = ['merge']\n\ndef merge(x):\n    return x\n", "user.py": user}) == []


def test_type_checker_ignore_on_the_read(tmp_path):
    user = "from .layers import *\n\ndef f(x):\n    return merge(x) + scale(x)  # type: ignore[name-defined]\n"
    assert _lint(tmp_path, {"layers.py": "__all__ = ['merge']\n\ndef merge(x):\n    return x\n",
                            "user.py": user}) == []


def test_a_stub_of_the_star_imported_module_keeps_it_quiet(tmp_path):
    files = {"layers.pyi": "def merge(x: int) -> int: ...\nscale: int\n", "user.py": USER}
    assert _lint(tmp_path, files) == []
