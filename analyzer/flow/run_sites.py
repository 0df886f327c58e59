"""The literal arguments each module passes to the run's top-level functions, for the values a
parameter receives from every call site in the run (issue 14's project-wide facts).

Each module records, from the nodes the flow analysis already sorted by type (no extra walk of
the tree):
- `Signature` of each of its top-level functions whose decorators keep its calls (none, or
  Triton's `jit` / `autotune` / `heuristics`: another may wrap or register it);
- `Site` for each call of a function it defines or imports by name (`f(...)`, `from .m import f`
  then `f(...)`, `from . import m` then `m.f(...)`, a Triton launch `f[grid](...)`): what the
  argument in each position and by each keyword can hold where the call runs (`arg_values`: a
  literal, a closed set of them, the caller's own parameter), None where it is anything else;
- the targets it uses other than by calling them (passed on, stored, rebound): those are open.

The project index joins the records of every module (`ProjectIndex.run_closed_params`): a
function every use of which in the run is a call gets, for each parameter, the literals those
calls pass or leave at a literal default, as if declared `Literal[...]`; a caller passing its own
parameter on passes what its callers pass it. Callers outside the run could pass other values;
that can only silence a finding, never raise one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from analyzer import tree as T
from analyzer.flow.arg_values import ArgValues, keeps_calls, launch_target, ParamRef
from analyzer.flow.conditions import literal_value
from analyzer.flow.signature import bind_arguments, Signature, signature_of

__all__ = ["Site", "closed_values", "module_signatures", "module_sites"]


@dataclass(frozen=True)
class Site:
    """One call: the target as the caller resolved it (`pkg.mod.f`), what it passes in each
    position and by each keyword (a Literal, a frozenset of them, a `ParamRef` to the caller's
    parameter, or None), whether it has `*` / `**` arguments it cannot spread, the top-level
    function making it (`pkg.mod.g`, for a `ParamRef`), and whether it is a Triton launch (its
    keywords that are not parameters are launch options)."""

    target: str
    positional: tuple
    keywords: tuple[tuple[str, object], ...]
    unpacked: bool
    caller: Optional[str] = None
    launch: bool = False


def module_signatures(tree: T.Module) -> dict[str, Signature]:
    # a decorator may wrap or register the function, unless it keeps its calls (`@triton.jit`)
    return {st.name: signature_of(st) for st in tree.body
            if isinstance(st, (T.FunctionDef, T.AsyncFunctionDef)) and keeps_calls(st)}


def module_sites(by_type: dict, module: str, own: dict[str, T.AST],
                 imports: dict[str, str], values: ArgValues) -> tuple[list[Site], set[str]]:
    """(calls of the run's functions this module makes, targets it uses otherwise). `own`: the
    module's top-level defs the module binds once, by name; `imports`: local name -> what it
    imports (`pkg.mod.f`); `values`: the module's `ArgValues`."""
    targets = {name: f"{module}.{name}" for name in own}
    targets.update((local, target) for local, target in imports.items() if local not in own)
    escaped = {targets[name] for name in own if name in imports}  # an import rebinds the name
    sites: list[Site] = []
    called: set[int] = set()  # the Name / Attribute nodes that are the function of a call
    for call in by_type.get(T.Call, ()):
        kernel = launch_target(call.func)
        func = call.func if kernel is None else kernel
        target = _target(func, targets)
        if target is None:
            continue
        called.add(id(func))
        sites.append(_site(call, target, kernel is not None, module, values))
    for name in by_type.get(T.Name, ()):
        if name.id in targets and id(name) not in called:
            # a load passes it on; a store or `del` rebinds it
            escaped.add(targets[name.id])
    for attr in by_type.get(T.Attribute, ()):
        if id(attr) not in called and isinstance(attr.value, T.Name) and attr.value.id in imports:
            escaped.add(f"{imports[attr.value.id]}.{attr.attr}")
    for kind in (T.FunctionDef, T.AsyncFunctionDef, T.ClassDef):
        for node in by_type.get(kind, ()):
            if node.name in targets and own.get(node.name) is not node:
                escaped.add(targets[node.name])  # another def or class of that name shadows it somewhere
    for node in by_type.get(T.Global, ()):
        escaped.update(targets[n] for n in node.names if n in targets)
    return sites, escaped


def _site(call: T.Call, target: str, launch: bool, module: str, values: ArgValues) -> Site:
    scope: list = []  # the call's scope, looked up for the first argument that is not a literal

    def held(expr: T.expr) -> object:
        lit = literal_value(expr)
        if lit is not None:
            return lit
        if not scope:
            scope.append(values.scope_of(call))
        return values.value(expr, scope[0])

    positional: list = []
    unpacked = any(k.arg is None for k in call.keywords)
    for a in call.args:
        if isinstance(a, T.Starred):
            n = values.star_length(a.value, values.scope_of(call, walk=True))
            unpacked = unpacked or n is None
            positional += [None] * (n or 0)
        else:
            positional.append(held(a))
    keywords = tuple((k.arg, held(k.value)) for k in call.keywords if k.arg is not None)
    caller = None
    if scope and isinstance(scope[0], (T.FunctionDef, T.AsyncFunctionDef)) and any(st is scope[0] for st in values.tree.body):
        caller = f"{module}.{scope[0].name}"
    return Site(target, tuple(positional), keywords, unpacked, caller, launch)


def _target(func: T.expr, targets: dict[str, str]) -> Optional[str]:
    if isinstance(func, T.Name):
        return targets.get(func.id)
    if isinstance(func, T.Attribute) and isinstance(func.value, T.Name) and func.value.id in targets:
        return f"{targets[func.value.id]}.{func.attr}"  # `m.f(...)` after `from . import m`
    return None


def closed_values(sig: Signature, sites: list[Site],
                  passed_on: Callable[[str, str], Optional[frozenset]]) -> dict[str, frozenset]:
    """parameter -> the literals every site passes it (or leaves at its literal default); a
    parameter some site passes anything else, or leaves without a literal default, is left out.
    `passed_on(caller, parameter)`: what the run passes a caller's parameter that it passes on."""
    names = list(sig.positional) + sorted(sig.keyword - set(sig.positional))
    defaults = dict(sig.defaults)
    values: dict[str, Optional[set]] = {n: set() for n in names}
    for site in sites:
        keywords = site.keywords
        if site.launch:  # launch options (`num_warps=4`) are no parameters
            keywords = tuple(k for k in keywords if k[0] in sig.keyword)
        given = None if site.unpacked else bind_arguments(sig, site.positional, keywords)
        if given is None:
            return {}  # `*` / `**` arguments, or a call that fails: nothing to learn from it
        for n in names:
            if values[n] is None:
                continue
            held = given[n] if n in given else defaults.get(n)
            if isinstance(held, ParamRef):
                held = passed_on(site.caller, held.name) if site.caller else None
            values[n] = None if held is None else values[n] | (held if isinstance(held, frozenset) else {held})
    return {n: frozenset(v) for n, v in values.items() if v}
