"""LL204 (opt-in): a local that is unbound only if a contract the analysis cannot see is broken."""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable

from analyzer.flow.names import binding_lines
from analyzer.flow.results import UseKind
from analyzer.rules.base import Invalid, Report, Rule, RuleContext, report_at
from analyzer.rules.ll202_possibly_unbound import _lines_text, reaching_binding_lines


class PossiblyUnboundByContract(Rule):
    """
    ## What it does
    Flags a load of a local name that is unbound only on paths that a contract outside the
    function's code may rule out:

    - the binding is skipped only when an argument is `None` (`if audio is not None: inputs = ...`)
      or an optional argument takes some value: callers may always pass it;
    - the load sits under a later test of other values (`if cache is not None and is_updated:`)
      that may imply the binding: the analysis cannot see how the two tests relate;
    - the binding happens only inside a loop over a count (`range(n)`) or a local collection that
      may, in principle, run zero times;
    - the name is a module global bound only by a module-level `try: import x` whose handler goes
      on without it (`HAVE_X = False`), and nothing in the function, its class or where it is
      named checks the import: the contract is that the optional dependency is installed.

    These are the strict half of "possibly unbound" (LL202 reports the evident half). The rule is
    off by default: on installed transformers most of what it finds is a latent crash for an
    unusual input, not a bug that fires, so it is meant for code that wants every path proved
    (`--select LL204`, or `extend-select` in the configuration).

    ## Why is this bad?
    The contract lives in callers, configurations or data shapes, and it changes without the
    function noticing: the day a caller leaves the argument out, or a configuration has zero
    layers of some kind, the function dies with `UnboundLocalError` far from the cause.

    ## Example
    ```python
    def forward(self, hidden_states, encoder_states=None):
        if encoder_states is not None:
            kv = self.kv_proj(encoder_states)
        return self.attend(hidden_states, kv)
    ```

    ## Use instead
    Make the contract explicit: bind a default before the branch, or raise a clear error on the
    path that misses the binding.
    """

    code = "LL204"
    checks_stubs = False
    name = "possibly-unbound-by-contract"
    summary = "local name unbound unless a caller, test or loop contract holds (opt-in)"
    default_enabled = False
    noqa_aliases = ("F821", "F823")
    checker_ignores = ("possibly-undefined", "reportPossiblyUnbound", "unbound-name")  # mypy, pyright, pyrefly

    VALID = [
        "def f(x=None):\n    if x is not None:\n        y = x\n    else:\n        y = 0\n    return y\n",
        "def f(xs):\n    if not xs:\n        return None\n    for x in xs:\n        last = x\n    return last\n",
        "def f(flag=False):\n    if flag:\n        y = 1\n    if flag:\n        return y\n    return 0\n",
        # evident cases are LL202's, not this rule's
        "def f(a):\n    if a:\n        x = 1\n    return x\n",
    ]
    INVALID = [
        Invalid(
            "try:\n    from safetensors.torch import save_file\n    HAS_SAFETENSORS = True\n"
            "except ImportError:\n    HAS_SAFETENSORS = False\n\n"
            "def export_adapter(state, path):\n    save_file(state, path)\n",
            8, 5, "`save_file` may be unbound: bound only when the import in the `try` at line 1 succeeds (its "
                  "`except` goes on without it), and nothing here checks that the optional dependency is installed",
        ),
        Invalid(
            "def forward(self, hidden_states, encoder_states=None):\n"
            "    if encoder_states is not None:\n"
            "        kv = self.kv_proj(encoder_states)\n"
            "    return self.attend(hidden_states, kv)\n",
            4, 39, "`kv` may be unbound here: it is bound at line 3 only for some argument values (an "
            "argument that is not None, an optional one not left at its default); callers may always pass them",
        ),
        Invalid(
            "def f(cache, layer):\n"
            "    if isinstance(cache, dict):\n"
            "        seen = cache.get(layer)\n"
            "    if layer.cross and seen:\n"
            "        return 1\n"
            "    return 0\n",
            4, 24, "`seen` may be unbound here: it is bound at line 3, and this line runs under a later "
            "test that may imply that binding; the analysis cannot tell",
        ),
        Invalid(
            "def f(n):\n"
            "    for i in range(n):\n"
            "        last = i\n"
            "    return last\n",
            4, 12, "`last` may be unbound here: it is bound at line 3, inside a loop over a count or a "
            "local collection that is unbound if it runs zero times",
        ),
    ]

    def check(self, ctx: RuleContext) -> Iterable[Report]:
        for use in ctx.flow.uses:
            if use.kind == UseKind.MAYBE_IMPORT:
                # the contract: the optional dependency is installed (a missing one gives NameError
                # instead of ImportError; on the own corpus these were version-bound torch
                # internals or checked in another module, never a plausible default path)
                yield report_at(use.node, f"`{use.name}` may be unbound: bound only when the import in the `try` at "
                                          f"line {use.other_line} succeeds (its `except` goes on without it), and "
                                          "nothing here checks that the optional dependency is installed")
                continue
            if use.kind == UseKind.MAYBE_IMPORT_GUARDED:
                yield report_at(use.node, f"`{use.name}` may be unbound: bound only when the import in the `try` at "
                                          f"line {use.other_line} succeeds; this line runs under a test that may "
                                          "check that, the analysis cannot tell")
                continue
            if use.kind not in (UseKind.MAYBE_ARGUMENT, UseKind.MAYBE_GUARDED, UseKind.MAYBE_LOOP_LOCAL):
                continue
            # the bindings that can reach the read, as LL202 names them
            lines = _lines_text(reaching_binding_lines(use.scope_node, use.name, use.node.lineno)
                                or binding_lines(use.scope_node, use.name))
            if use.kind == UseKind.MAYBE_ARGUMENT:
                msg = (f"`{use.name}` may be unbound here: it is bound at {lines} only for some argument "
                       "values (an argument that is not None, an optional one not left at its default); "
                       "callers may always pass them")
            elif use.kind == UseKind.MAYBE_GUARDED:
                msg = (f"`{use.name}` may be unbound here: it is bound at {lines}, and this line runs under a "
                       "later test that may imply that binding; the analysis cannot tell")
            else:
                msg = (f"`{use.name}` may be unbound here: it is bound at {lines}, inside a loop over a "
                       "count or a local collection that is unbound if it runs zero times")
            yield replace(report_at(use.node, msg), trace=use.trace)
