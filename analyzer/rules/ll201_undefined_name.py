"""LL201: a name that nothing binds."""

from __future__ import annotations

import os
from typing import Iterable

from analyzer import tree as T
from analyzer.diagnostics import Fix
from analyzer.flow.exports import star_exported_names
from analyzer.flow.index import ProjectIndex, resolve_star_source
from analyzer.flow.project import ModuleSummary
from analyzer.flow.results import UseKind
from analyzer.flow.suggest import suggest_for_use
from analyzer.rules.base import Invalid, ProjectRule, Report, RuleContext, report_at

_KINDS = {UseKind.UNDEFINED, UseKind.TYPE_CHECKING, UseKind.CLASS_SCOPE}


class UndefinedName(ProjectRule):
    """
    ## What it does
    Flags a name loaded in a scope where nothing binds it: no local binding on any path, no
    enclosing function, not the module, not a builtin.

    ## Why is this bad?
    The load raises `NameError` when that line runs. In LoRA code this hides in branches that tests
    rarely reach: a helper's disabled-adapter or merged branch returned `bias`, a name the helper
    never assigned, and every disabled-adapter or DPO run crashed.

    Names imported only under `if TYPE_CHECKING:` are undefined at run time (they count as bound in
    annotations), and class-body names are not visible inside methods, nor inside a class-body
    comprehension past its first iterable. A bare annotation (`RANK: int`, no value) binds
    nothing. In a function that runs `exec` of a string literal, only the names the literal spells
    may come from it.

    Also flagged: an entry of a literal `__all__` that the module never defines (pyflakes' F822;
    not in a package `__init__.py`, whose `__all__` may name submodules), and a name that only a
    star import could bind when every star-imported module is linted in the same run, with its
    exports known, and none of them exports it.

    ## Example
    ```python
    def get_lora_parameters(proj):
        base_layer = proj.base_layer
        if proj.disable_adapters or proj.merged:
            return base_layer.weight, None, None, None, None, bias
        return base_layer.weight, None, proj.lora_A, proj.lora_B, proj.scaling, base_layer.bias
    ```

    ## Use instead
    ```python
            return base_layer.weight, None, None, None, None, base_layer.bias
    ```
    """

    code = "LL201"
    checks_stubs = False
    also_per_file = True  # the per-file check, and star imports resolved through the run's modules
    name = "undefined-name"
    noqa_aliases = ("F821", "F822")  # pyflakes' undefined name, undefined name in `__all__`
    checker_ignores = ("name-defined", "reportUndefinedVariable", "unknown-name")  # mypy, pyright, pyrefly
    summary = "name loaded where nothing binds it"

    VALID = [
        "import os\n\ndef f():\n    return os.sep\n",
        "def f(a):\n    def g():\n        return a\n    return g\n",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from x import Y\n\ndef f(a: Y) -> 'Y':\n    return a\n",
        "from os import *\n\ndef f():\n    return getcwd()\n",
        "def f():\n    try:\n        return undefined_thing\n    except NameError:\n        return None\n",
        "class A:\n    x = 1\n    y = [x]\n",
        "class A:\n    xs = [1, 2]\n    ys = [x * 2 for x in xs]\n",
        "RANK: int = 8\n\ndef scale(x):\n    return x * RANK\n",
        "from . import layers\n\n__all__ = ['merge'] + layers.__all__\n",
    ]
    INVALID = [
        Invalid(
            "def get_lora_parameters(proj):\n"
            "    base_layer = proj.base_layer\n"
            "    if proj.disable_adapters or proj.merged:\n"
            "        return base_layer.weight, None, None, None, None, bias\n"
            "    return base_layer.weight, None, proj.lora_A, proj.lora_B, proj.scaling, base_layer.bias\n",
            4, 59, "undefined name `bias`: nothing in `get_lora_parameters`, the module or builtins binds it; "
                   "did you mean `base_layer.bias`, as returned at line 5?",
            fixed="def get_lora_parameters(proj):\n"
                  "    base_layer = proj.base_layer\n"
                  "    if proj.disable_adapters or proj.merged:\n"
                  "        return base_layer.weight, None, None, None, None, base_layer.bias\n"
                  "    return base_layer.weight, None, proj.lora_A, proj.lora_B, proj.scaling, base_layer.bias\n",
        ),
        Invalid(
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import torch\n\ndef f(x):\n    return torch.zeros(x)\n",
            6, 12, "`torch` is imported only under `if TYPE_CHECKING:` and is undefined at run time",
        ),
        Invalid(
            "class Layer:\n    scale = 2.0\n\n    def forward(self, x):\n        return x * scale\n",
            5, 20, "`scale` is bound in an enclosing class body, which methods cannot see; use `self.scale`",
        ),
        Invalid(
            "class Targets:\n    prefix = 'model.layers'\n    names = [f'{prefix}.{i}.q_proj' for i in range(4)]\n",
            3, 17, "class-level name `prefix` is not visible inside the comprehension: only its first iterable "
                   "is evaluated in the class body",
        ),
        Invalid(
            "DEFAULT_RANK: int\n\ndef scaling(alpha):\n    return alpha / DEFAULT_RANK\n",
            4, 20, "undefined name `DEFAULT_RANK`: it is only annotated at line 1 (`DEFAULT_RANK: ...` without a "
                   "value binds nothing), and nothing else binds it",
        ),
        Invalid(
            "__all__ = ['merge_weights', 'unmerge_weights']\n\ndef merge_weights(w, d):\n    return w + d\n",
            1, 29, "`unmerge_weights` is exported in `__all__` but never defined in the module",
        ),
    ]

    def check(self, ctx: RuleContext) -> Iterable[Report]:
        templates = _source_templates(ctx.tree) if "getsource" in ctx.source.text else frozenset()
        for use in ctx.flow.uses:
            if use.kind not in _KINDS:
                continue
            if use.kind == UseKind.UNDEFINED and templates and templates & set(use.scope.split(".")):
                # its source is read with inspect.getsource and run in another module's globals
                continue
            if use.detail == "__all__":
                if _is_package_init(ctx.path):
                    continue  # `from package import *` also imports the submodules `__all__` names
                msg = f"`{use.name}` is exported in `__all__` but never defined in the module"
                yield report_at(use.node, msg)
                continue
            if use.kind == UseKind.TYPE_CHECKING:
                msg = f"`{use.name}` is imported only under `if TYPE_CHECKING:` and is undefined at run time"
            elif use.kind == UseKind.CLASS_SCOPE and use.detail == "comprehension":
                msg = (f"class-level name `{use.name}` is not visible inside the comprehension: only its "
                       f"first iterable is evaluated in the class body")
            elif use.kind == UseKind.CLASS_SCOPE:
                msg = (f"`{use.name}` is bound in an enclosing class body, which methods cannot see; "
                       f"use `self.{use.name}`")
            elif use.other_line:
                msg = (f"undefined name `{use.name}`: it is only annotated at line {use.other_line} "
                       f"(`{use.name}: ...` without a value binds nothing), and nothing else binds it")
            else:
                where = f"`{use.scope.split('.')[-1]}`" if use.scope != "<module>" else "the module"
                if use.scope == "<module>":
                    msg = f"undefined name `{use.name}`: nothing in the module or builtins binds it"
                else:
                    msg = f"undefined name `{use.name}`: nothing in {where}, the module or builtins binds it"
            yield with_slot_fix(ctx, use, msg)

    def check_module(self, index: ProjectIndex, summary: ModuleSummary) -> Iterable[Report]:
        """Reads that only a star import can bind, when every module the file star-imports (and
        those they star-import in turn) is in the run with its exports known."""
        star = summary.star
        if star is None or not star.reads or not star.sources or summary.path.endswith(".pyi"):
            return
        if any(not level and "." not in target for level, target in star.sources):
            return  # `from utils import *`: a top-level name several scripts of a run may share

        def facts_of(module: str):
            found = index.by_module.get(module)
            if found is None or found.path.endswith(".pyi"):
                return None  # a stub declares names with bare annotations, which bind nothing at run time
            return found.star

        followed = star_exported_names(summary.module, star, lambda m, lv, t: resolve_star_source(index, m, lv, t),
                                       facts_of)
        if followed is None:
            return
        names, modules = followed
        packages = [index.by_module[m] for m in modules if index.by_module[m].is_package]
        written = ", ".join(f"`from {'.' * level}{target} import *`" for level, target in star.sources)
        reported: set[str] = set()
        for name, line, col, end_line, end_col in star.reads:
            if name in names or name in reported or any(_is_submodule(p, name, index) for p in packages):
                continue
            reported.add(name)
            if len(star.sources) == 1:
                msg = f"undefined name `{name}`: nothing in the module binds it, and {written} does not export it"
            else:
                msg = f"undefined name `{name}`: nothing in the module binds it, and none of {written} exports it"
            yield Report(line, col, end_line, end_col, msg)


def _is_submodule(package: ModuleSummary, name: str, index: ProjectIndex) -> bool:
    """`from package import *` may also give submodules that were imported before it."""
    if f"{package.module}.{name}" in index.by_module:
        return True
    folder = os.path.dirname(package.path)
    return os.path.exists(os.path.join(folder, name + ".py")) or os.path.isdir(os.path.join(folder, name))


def _is_package_init(path: str) -> bool:
    return path.replace("\\", "/").rsplit("/", 1)[-1] in ("__init__.py", "__init__.pyi")


def _source_templates(tree: T.Module) -> frozenset[str]:
    """Functions whose source the module reads with `inspect.getsource(f)`: patching libraries
    rewrite that text and `exec` it where the names it uses are defined."""
    out: set[str] = set()
    for node in T.walk(tree):
        if isinstance(node, T.Call) and node.args and isinstance(node.args[0], (T.Name, T.Attribute)):
            func = node.func
            name = func.attr if isinstance(func, T.Attribute) else getattr(func, "id", "")
            if name == "getsource":
                arg = node.args[0]
                out.add(arg.id if isinstance(arg, T.Name) else arg.attr)
    return frozenset(out)


def with_slot_fix(ctx: RuleContext, use, msg: str) -> Report:
    """The report, with the sibling returns' expression offered as an (unsafe) fix when evident."""
    hint = suggest_for_use(ctx.flow, use)
    if hint is None:
        return report_at(use.node, msg)
    node = use.node
    fix = Fix(node.lineno, node.col_offset + 1, node.end_lineno, node.end_col_offset + 1, hint.text, safety="unsafe")
    return report_at(node, f"{msg}; did you mean `{hint.text}`, as returned at line {hint.line}?", fix)
