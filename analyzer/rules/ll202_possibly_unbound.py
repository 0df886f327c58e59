"""LL202: a local name used where it is not bound on every path."""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable

from analyzer import tree as T
from analyzer.flow.names import binding_lines
from analyzer.flow.results import UseKind
from analyzer.rules.base import Invalid, Report, Rule, RuleContext
from analyzer.rules.ll201_undefined_name import with_slot_fix


def reaching_binding_lines(scope: T.AST, name: str, line: int) -> list[int]:
    """The lines of `scope`'s bindings of `name` that can reach a read at `line`: those above it,
    and those below it in the body of a loop around it (they reach it on a later pass).

    The read's own line is left out: `x = x + 1` binds `x` only after reading it. This is the
    evidence a message names, read from the source layout; the verdict is the flow analysis'."""
    loops = _loop_spans(scope)
    return [n for n in binding_lines(scope, name) if n < line or any(lo <= line < n <= hi for lo, hi in loops)]


def _loop_spans(scope: T.AST) -> list[tuple[int, int]]:
    """(header line, last line of the body) of each loop in `scope`'s own body; a loop's `else`
    runs after the last pass, so it is not part of the span."""
    spans = []
    stack = list(getattr(scope, "body", None) or [])
    while stack:
        node = stack.pop()
        if isinstance(node, (T.FunctionDef, T.AsyncFunctionDef, T.ClassDef, T.Lambda)):
            continue
        if isinstance(node, (T.For, T.AsyncFor, T.While)) and node.body:
            spans.append((node.lineno, node.body[-1].end_lineno))
        stack.extend(T.iter_child_nodes(node))
    return spans


def _lines_text(lines: list[int]) -> str:
    if not lines:
        return ""
    if len(lines) == 1:
        return f"line {lines[0]}"
    return "lines " + ", ".join(str(n) for n in lines[:-1]) + f" and {lines[-1]}"


class PossiblyUnbound(Rule):
    """
    ## What it does
    Flags a load of a local name that is bound on some paths to it and not on others (it "may be
    unbound"), or on none of them (it "is unbound": a certain `UnboundLocalError` whenever that
    line runs).

    Python makes a name local to a function when the function assigns it anywhere, so a module
    global of the same name does not help: the early return reads the local. The analysis follows
    `if`/`elif`/`else`, loops (including `break`, `continue`, `else`), `try`/`except`/`else`/
    `finally`, `with` blocks that may swallow exceptions (`contextlib.suppress`), `match` without a
    default case, walrus in `and`/`or`, `del`, nested functions called while a free variable may be
    unbound, and functions that never return.

    It tracks simple branch conditions, so a name bound under `if flag:` and used under the same
    `if flag:` (with `flag` unchanged) is not reported, nor a loop variable used after a loop over
    a list that was checked to be non-empty.

    A function that reads a module global bound only by a module-level `try: import x` whose
    `except ImportError:` goes on without binding it is LL204's: it fails only when the optional
    dependency is missing, a contract (often checked in another module) this rule cannot see.

    Cases that hang on a contract the analysis cannot see are left to the opt-in LL204: the
    binding is skipped only when an argument is `None` (or an optional argument has some value),
    the use sits under a later test of other values, or a loop over a count or a local collection
    runs zero times. A read that succeeded proves the name bound, so one missing binding is
    reported at its first read only.

    ## Why is this bad?
    `UnboundLocalError` fires only on the path that misses the binding: an adapter disabled, a
    merged layer, an empty batch, an exception swallowed. Those are the runs that crash hours in.

    ## Example
    ```python
    def get_lora_parameters(proj):
        base_layer = proj.base_layer
        if proj.disable_adapters or proj.merged:
            return base_layer.weight, None, None, None, None, bias
        bias = base_layer.bias
        return base_layer.weight, None, proj.lora_A, proj.lora_B, proj.scaling, bias
    ```

    ## Use instead
    Bind the name before the branch, or return the expression itself.
    """

    code = "LL202"
    checks_stubs = False
    name = "possibly-unbound"
    noqa_aliases = ("F821", "F823")  # pyflakes' undefined name, local referenced before assignment
    checker_ignores = ("possibly-undefined", "reportPossiblyUnbound", "unbound-name")  # mypy, pyright, pyrefly
    summary = "local name not bound on every path to its use"

    VALID = [
        "def f(flag):\n    if flag:\n        x = 1\n    if flag:\n        return x\n    return 0\n",
        "def f(items):\n    if not items:\n        raise ValueError\n    for item in items:\n        last = item\n    return last\n",
        "def f(a):\n    if a:\n        x = 1\n    else:\n        x = 2\n    return x\n",
        "import sys\n\ndef f(a):\n    if a:\n        x = 1\n    else:\n        sys.exit(1)\n    return x\n",
        "def f(path):\n    with open(path) as fh:\n        data = fh.read()\n    return data\n",
        "def f(xs):\n    for i, x in enumerate(xs):\n        if i == 0:\n            prev = x\n            continue\n        print(prev)\n        prev = x\n",
        "def f(x):\n    match x:\n        case 1:\n            y = 'a'\n        case _:\n            y = 'b'\n    return y\n",
        "try:\n    import yaml\n    HAVE_YAML = True\nexcept ImportError:\n    HAVE_YAML = False\n\n"
        "def load(text):\n    if not HAVE_YAML:\n        raise ImportError('pyyaml')\n    return yaml.safe_load(text)\n",
    ]
    INVALID = [
        Invalid(
            "def get_lora_parameters(proj):\n"
            "    base_layer = proj.base_layer\n"
            "    if proj.disable_adapters or proj.merged:\n"
            "        return base_layer.weight, None, None, None, None, bias\n"
            "    bias = base_layer.bias\n"
            "    return base_layer.weight, None, proj.lora_A, proj.lora_B, proj.scaling, bias\n",
            4, 59, "`bias` is unbound here on every path (UnboundLocalError); it is bound only at line 5",
        ),
        Invalid(
            "def f(a):\n    if a:\n        x = 1\n    return x\n",
            4, 12, "`x` may be unbound here: it is bound at line 3, but not on every path to this line",
        ),
        Invalid(
            "import contextlib\n\ndef f():\n    with contextlib.suppress(KeyError):\n        v = {}['k']\n    return v\n",
            6, 12, "`v` may be unbound here: it is bound at line 5, but not on every path to this line",
        ),
        Invalid(
            "def f(xs):\n    for x in xs:\n        total = total + x\n    return 0\n",
            3, 17, "`total` is unbound on the first pass of the loop at line 2; this line binds it only after reading it",
        ),
        Invalid(  # a binding below the read cannot reach it, unless a loop around both runs again
            "def f(a):\n    if a:\n        x = 1\n    print(x)\n    x = 2\n    return x\n",
            4, 11, "`x` may be unbound here: it is bound at line 3, but not on every path to this line",
        ),
        Invalid(
            "def merge(layer, names):\n    w = layer.weight\n    for n in names:\n        w = w.dequantize()\n"
            "        w += layer.delta(n)\n        layer.weight = w\n        del w\n",
            4, 13, "`w` may be unbound here: it is bound at lines 2 and 5, but not on every path to this line",
        ),
        Invalid(
            "def outer(flag):\n    if flag:\n        x = 1\n    def inner():\n        return x\n    return inner()\n",
            5, 16, "`x` may be unbound when `inner` is called at line 6: it is bound at line 3, but not on every path to that call",
        ),
        Invalid(
            "def make_hook(config):\n    if config.use_rslora:\n        scale = config.alpha\n"
            "    def hook(module, args, out):\n        return out * scale\n    return hook\n",
            5, 22, "`scale` may be unbound when `hook` runs: `make_hook` binds it at line 3, but not on every path "
                   "on which `hook` outlives it",
        ),
        Invalid(
            "def replace(model):\n    for key, target in model.named_modules():\n        if key.endswith('q'):\n"
            "            if target.is_linear:\n                new = 1\n            elif model.merged:\n"
            "                new = 2\n            model.swap(key, new)\n",
            8, 29, "`new` may be unbound here: it is bound at lines 5 and 7, but not on every path to this line",
        ),
        Invalid(
            "def get_kernel(dtype):\n    global _KERNEL\n    if dtype == 'fp16':\n        _KERNEL = build(dtype)\n"
            "    return _KERNEL\n",
            5, 12, "`_KERNEL` may be undefined here: it is a module global that only this function creates, at "
                   "line 4, and not on every path to this line",
        ),
        Invalid(
            "def f(x, W, offload=False):\n    W_full = W.float()\n    if offload:\n        del W_full\n"
            "    return x @ W_full\n",
            5, 16, "`W_full` may be unbound here: it is bound at line 2, but not on every path to this line",
        ),
        Invalid(
            "def free(proj, cache, keep):\n    if not keep:\n        del cache\n    return cache\n",
            4, 12, "`cache` may be unbound here: a `del` on some path to this line removes it",
        ),
    ]

    def check(self, ctx: RuleContext) -> Iterable[Report]:
        for use in ctx.flow.uses:
            if use.kind in _KINDS:
                yield replace(with_slot_fix(ctx, use, _message(use)), trace=use.trace)


_KINDS = frozenset({UseKind.UNBOUND, UseKind.MAYBE, UseKind.MAYBE_LOOP, UseKind.FIRST_ITERATION, UseKind.CLOSURE,
                    UseKind.MAYBE_GLOBAL, UseKind.CLOSURE_EXIT})
_EARLIER_PASS = "this line, on an earlier pass of the loop"


def _message(use) -> str:
    """What happened to `use.name`, for each kind of finding LL202 reports, with the binding lines
    that are its evidence."""
    name, kind, other, scope = use.name, use.kind, use.detail, use.scope_node
    line = use.node.lineno
    own = line in binding_lines(scope, name)
    if kind == UseKind.UNBOUND:  # no binding reaches: say where the name is bound instead
        where = _lines_text([n for n in binding_lines(scope, name) if n != line])
        msg = f"`{name}` is unbound here on every path (UnboundLocalError)"
        if where:
            return msg + f"; it is bound only at {where}"
        return msg + ("; this line binds it only after reading it" if own else "")
    if kind == UseKind.FIRST_ITERATION:
        where = _lines_text(reaching_binding_lines(scope, name, line))
        head = f"`{name}` is unbound on the first pass of the loop at line {use.other_line}; "
        if not where:
            return head + "this line binds it only after reading it"
        return head + f"it is bound later in the loop, at {where}" + (", and by this line after the read" if own else "")
    if kind == UseKind.CLOSURE:  # the bindings that reach the call
        where = _lines_text(reaching_binding_lines(scope, name, use.other_line))
        if use.certain:
            return (f"`{name}` is unbound when `{other}` is called at line {use.other_line} (NameError); "
                    f"it is bound at {where}")
        return (f"`{name}` may be unbound when `{other}` is called at line {use.other_line}: "
                f"it is bound at {where}, but not on every path to that call")
    if kind == UseKind.CLOSURE_EXIT:  # the nested function runs after its maker returns: every binding counts
        where = _lines_text(binding_lines(scope, name))
        outer = getattr(scope, "name", "the enclosing function")
        if use.certain:
            return (f"`{name}` is unbound when `{other}` runs (NameError): `{outer}` binds it only "
                    f"at {where}, on no path on which `{other}` outlives it")
        return (f"`{name}` may be unbound when `{other}` runs: `{outer}` binds it at "
                f"{where}, but not on every path on which `{other}` outlives it")
    where = _lines_text(reaching_binding_lines(scope, name, line)) or (_EARLIER_PASS if own else "")
    if kind == UseKind.MAYBE:
        if not where:  # a parameter, unbound only by a `del` on some paths
            return f"`{name}` may be unbound here: a `del` on some path to this line removes it"
        return f"`{name}` may be unbound here: it is bound at {where}, but not on every path to this line"
    if kind == UseKind.MAYBE_LOOP:
        return (f"`{name}` may be unbound here: it is bound at {where}, "
                "inside a loop over the caller's data that may run zero times")
    return (f"`{name}` may be undefined here: it is a module global that only this function creates, "  # MAYBE_GLOBAL
            f"at {where}, and not on every path to this line")
