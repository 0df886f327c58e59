"""LL301: a call site unpacks a different number of values than the callee returns."""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable, Optional

from analyzer.flow.index import ProjectIndex
from analyzer.flow.project import ModuleSummary
from analyzer.rules.base import Invalid, ProjectRule, Report


def _wanted(site) -> str:
    return f"at least {site.count}" if site.starred else str(site.count)


def _lines(lines: list[int]) -> str:
    if len(lines) == 1:
        return f"line {lines[0]}"
    return "lines " + ", ".join(str(n) for n in lines[:-1]) + f" and {lines[-1]}"


def _values(n: int) -> str:
    return f"{n} value" if n == 1 else f"{n} values"


class UnpackCountMismatch(ProjectRule):
    """
    ## What it does
    Flags `a, b, c = f(...)` where `f` resolves (same module, or another module of the linted
    project through its imports, re-exports in `__init__.py`, `self.method` in a class or one of
    its bases, or `self.attr(...)` where the class assigns `self.attr = Cls(...)` once: then
    `Cls.__call__`, else `Cls.forward`) to a function whose returns are all tuples of known size,
    and the target count does not fit them. `a, b = self.factors()` in a method that a subclass of
    the run inherits while overriding `factors` with another count is reported too: the inherited
    method breaks on the subclass's instances. `a, *rest = f()` checks the lower bound. When the
    callee's own returns disagree (LL101), the message names the returns that break this
    unpacking. A callee that returns another function's result (`return _impl(x)`) has that
    function's shapes. A callee whose tuples fit but which may give `None` (it falls off the end,
    or has a bare `return` or `return None` that no optional argument chooses) is reported too,
    naming where. `for a, b in gen():` is checked against the tuple literals the generator
    yields. Unresolved calls, decorated callees and callees with any return of unknown size stay
    silent.

    ## Why is this bad?
    `ValueError: not enough values to unpack` is raised at the call, far from the return that
    changed; with the CLI, the caller and the callee may live in different files.

    ## Example
    ```python
    def get_lora_parameters(proj):
        return proj.weight, None, proj.lora_A, proj.lora_B, proj.scaling

    W, quant_state, A, B, s, bias = get_lora_parameters(proj)
    ```

    ## Use instead
    Make the callee return every slot the callers unpack, on every path.
    """

    code = "LL301"
    name = "unpack-count-mismatch"
    summary = "call site unpacks a different count than the callee returns"

    VALID = [
        "class LoraAdapter:\n    def factors(self):\n        return self.A, self.B\n\n    def delta_weight(self):\n        A, B = self.factors()\n        return B @ A\n\n\nclass DoraAdapter(LoraAdapter):\n    def factors(self):\n        return self.A, self.B, self.m\n\n    def delta_weight(self):\n        A, B, m = self.factors()\n        return m * (B @ A)\n",
        "def f():\n    return 1, 2\n\na, b = f()\n",
        "def f():\n    return 1, 2, 3\n\na, *rest = f()\n",
        "def f(x):\n    if x:\n        return 1, 2\n    return g()\n\na, b, c = f(1)\n",
        "import functools\n\n@functools.singledispatch\ndef f(x):\n    return 1, 2\n\na, b, c = f(1)\n",
        "class A:\n    def m(self):\n        return 1, 2\n\n    def n(self):\n        a, b = self.m()\n        return a + b\n",
        "def f(x, with_index=False):\n    if with_index:\n        return x, x, 0\n    return x, x\n\na, b = f(1)\n",
    ]
    INVALID = [
        Invalid(
            "def lora_factors(module):\n    if hasattr(module, 'lora_A'):\n"
            "        return module.lora_A, module.lora_B\n\n\ndef merge(module):\n"
            "    A, B = lora_factors(module)\n    return B @ A\n",
            7, 5, "unpacks 2 values from `lora_factors`, which may return None (it falls off the end after "
                  "line 3): unpacking None raises TypeError",
        ),
        Invalid(
            "def adapters(model):\n    for name, m in model.named_modules():\n        yield name, m, m.lora_A\n\n\n"
            "def count(model):\n    for name, m in adapters(model):\n        print(name)\n",
            7, 9, "unpacks 2 values from each item of `adapters`, but its yield at line 3 gives 3",
        ),
        Invalid(
            "def get_lora_parameters(proj):\n"
            "    return proj.weight, None, proj.lora_A, proj.lora_B, proj.scaling\n"
            "\n"
            "\n"
            "def forward(proj, x):\n"
            "    W, quant_state, A, B, s, bias = get_lora_parameters(proj)\n"
            "    return W\n",
            6, 5, "unpacks 6 values from `get_lora_parameters`, which returns 5 (line 2)",
        ),
        Invalid(
            "def get_params(proj):\n"
            "    if proj.merged:\n"
            "        return proj.weight, None\n"
            "    return proj.weight, None, proj.bias\n"
            "\n"
            "\n"
            "def forward(proj):\n"
            "    W, qs, bias = get_params(proj)\n"
            "    return W\n",
            8, 5, "unpacks 3 values from `get_params`, but its return at line 3 gives 2",
        ),
        Invalid(
            "def f():\n    return (1,)\n\na, b, *rest = f()\n",
            4, 1, "unpacks at least 2 values from `f`, which returns 1 (line 2)",
        ),
        Invalid(
            "class Layer:\n"
            "    def params(self):\n"
            "        return self.a, self.b\n"
            "\n"
            "    def forward(self):\n"
            "        a, b, c = self.params()\n"
            "        return a\n",
            6, 9, "unpacks 3 values from `Layer.params`, which returns 2 (line 3)",
        ),
        Invalid(
            "class LoraAdapter:\n"
            "    def factors(self):\n"
            "        return self.A, self.B\n"
            "\n"
            "    def delta_weight(self):\n"
            "        A, B = self.factors()\n"
            "        return B @ A\n"
            "\n"
            "\n"
            "class VeraAdapter(LoraAdapter):\n"
            "    def factors(self):\n"
            "        return self.A, self.B, self.d\n",
            6, 9, "unpacks 2 values from `self.factors()`, but `VeraAdapter` overrides it to return 3 (line 12) "
                  "and inherits `delta_weight`",
        ),
    ]

    def check_module(self, index: ProjectIndex, summary: ModuleSummary) -> Iterable[Report]:
        for site in summary.unpacks:
            callee = _followed(index, index.resolve(summary, site.callee, site.cls))
            if site.over:
                report = _yield_mismatch(site, callee)
                if report is not None:
                    yield report
                continue
            if callee is None or callee.unknown or not callee.returns:
                continue

            def fits(arity: int) -> bool:
                return arity >= site.count if site.starred else arity == site.count

            if all(fits(a) for a, _ in callee.returns):
                override = _breaking_override(index, summary, site, fits)
                if override is not None:
                    yield override
                elif callee.none_lines:
                    yield Report(site.line, site.col, site.end_line, site.end_col,
                                 f"unpacks {_wanted(site)} values from `{callee.qualname}`, which may return None "
                                 f"({_none_where(callee)}): unpacking None raises TypeError")
                continue
            bad = callee.lines_with(lambda a: not fits(a))
            if not bad or (callee.flag_dispatched and len(bad) < len(callee.returns)):
                # an arity chosen by an argument flag: the call may well pass that flag
                continue
            want = _wanted(site)
            if len(bad) == len(callee.returns):
                arities = sorted(callee.arities())
                got = " or ".join(str(a) for a in arities)
                msg = f"unpacks {want} values from `{callee.qualname}`, which returns {got} ({_lines(bad)})"
            else:
                gives = sorted({a for a, line in callee.returns if line in bad})
                what = " or ".join(str(a) for a in gives)
                which = "its return at" if len(bad) == 1 else "its returns at"
                msg = f"unpacks {want} values from `{callee.qualname}`, but {which} {_lines(bad)} gives {what}"
            yield Report(site.line, site.col, site.end_line, site.end_col, msg)


def _yield_mismatch(site, callee) -> Optional[Report]:
    """`for a, b in gen():` where the generator yields tuples of another size."""
    if callee is None or not callee.yields:
        return None
    bad = [(arity, line) for arity, line in callee.yields
           if not (arity >= site.count if site.starred else arity == site.count)]
    if not bad:
        return None
    got = " or ".join(str(a) for a in sorted({a for a, _ in bad}))
    which = "its yield at" if len(bad) == 1 else "its yields at"
    return Report(site.line, site.col, site.end_line, site.end_col,
                  f"unpacks {_wanted(site)} values from each item of `{callee.qualname}`, but {which} "
                  f"{_lines([line for _, line in bad])} gives {got}")


def _none_where(callee) -> str:
    """`it falls off the end after line 7`, `a bare return or return None at line 4`, or both."""
    ends = sorted({line for line, kind in callee.none_lines if kind == "end"})
    explicit = sorted({line for line, kind in callee.none_lines if kind != "end"})
    parts = []
    if ends:
        parts.append(f"it falls off the end after {_lines(ends)}")
    if explicit:
        parts.append(f"it returns None at {_lines(explicit)}")
    return " and ".join(parts)


def _followed(index: ProjectIndex, callee, depth: int = 0):
    """`callee` with the shapes of the functions it returns the result of (`return _impl(x)`)
    folded in; unknown when one of them cannot be resolved or is unknown itself."""
    if callee is None or not callee.forwards:
        return callee
    owner = index.by_module.get(callee.module)
    returns = list(callee.returns)
    nones = list(callee.none_lines)
    unknown = callee.unknown or owner is None or depth > 4
    for written, line in callee.forwards:
        if unknown:
            break
        inner = _followed(index, index.resolve(owner, written, None), depth + 1)
        if inner is None or inner.unknown or inner is callee:
            unknown = True
            break
        returns += [(arity, line) for arity, _ in inner.returns]
        nones += [(line, "return")] if inner.none_lines else []
    return replace(callee, returns=tuple(returns), none_lines=tuple(nones), unknown=unknown, forwards=())


def _breaking_override(index: ProjectIndex, summary: ModuleSummary, site, fits) -> Optional[Report]:
    """`a, b = self.factors()` in a base method that a subclass inherits while overriding
    `factors` to return another count: the inherited method breaks on the subclass's instances."""
    parts = site.callee.split(".")
    if parts[0] != "self" or len(parts) != 2 or site.cls is None or site.method is None:
        return None
    for owner, sub in index.subclasses(summary, site.cls):
        methods = owner.methods.get(sub, frozenset())
        if parts[1] not in methods or site.method in methods:
            continue
        cs = owner.functions.get(f"{sub}.{parts[1]}")
        if cs is None or cs.unknown or cs.flag_dispatched or not cs.returns or any(fits(a) for a, _ in cs.returns):
            continue
        want = _wanted(site)
        got = " or ".join(str(a) for a in sorted(cs.arities()))
        where = "" if owner is summary else f" in {owner.module}"
        return Report(site.line, site.col, site.end_line, site.end_col,
                      f"unpacks {want} values from `self.{parts[1]}()`, but `{sub}`{where} overrides it to return "
                      f"{got} ({_lines([line for _, line in cs.returns])}) and inherits `{site.method}`")
    return None
