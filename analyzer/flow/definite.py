"""Definite-assignment and return-shape analysis over one module.

The analysis interprets each scope's statements in order over a path-sensitive abstract state
(`analyzer.flow.state`). Python has no goto, so structured interpretation is exact for control
flow: `if`/`match` fork and join, loops join their entry with an over-approximation of the back
edge, `try` handlers start from the state before the body widened by what the body may bind,
`return`/`raise`/never-returning calls end a path.

It emits no diagnostics: it records facts (`NameUse`, `ReturnRecord`, `FunctionFlow`) that the
rules in `analyzer.rules` turn into findings.

Limits, by design (each errs towards silence):
- a `finally` block is checked on the normal path only (an exception raised before a name is bound
  would be replaced by the NameError, but the original error is already fatal);
- context managers are taken never to swallow exceptions, except `contextlib.suppress`,
  `pytest.raises`, `assertRaises*` and classes of the same module whose `__exit__` may return a
  truthy value;
- a condition tested twice is taken to give the same answer while no name it reads is rebound
  (calls included: `if is_available(): ...` twice is correlated);
- a free variable of a nested function is checked only where that function is called directly in
  the scope that defines it; a function that escapes (returned, passed, decorated) is not followed.

How the package is layered (each module imports only from the ones above it in this list):

    names, shapes, state, results     scope bindings, tuple shapes, path sets, the records rules read
    syntax, exports                   tree helpers with no analysis state; a module's `__all__`
    conditions                        branch conditions as facts; which subjects a scope tests
    signature                         what a `def` declares about its arguments
    context                           facts about the module and one scope, computed once
    interpreter/frame ... branches    the interpreter, one layer per file (see `interpreter.frame`)
    slicing                           the statements of a function that decide one name
    definite                          this driver: runs every scope of a module

Glossary:
- bound: a name is bound on a path when every execution that path stands for has assigned it;
  `maybe` when some have. Both are bitmasks over the scope's names (`state.Path`).
- carried: bound later in an enclosing loop's body, so unbound on the first pass only.
- fact: a branch condition a path assumed, `Fact(key, truth)`; the key (`FactKey`) names the
  test's kind, its subject and the value it compares with (`analyzer.flow.conditions`).
- subject: the dotted value a fact is about (`flag`, `self.mode`, `len(xs)`); facts are forgotten
  subject by subject when the name is rebound or too many paths pile up.
- gap: a name missing on the same kind of paths; one binding fixes every load of the same gap,
  so it is reported once, at its first load.
- verdict: what a load finds (`results.UseKind`), recorded as a `NameUse` for the rules.
"""

from __future__ import annotations

from typing import Optional

from analyzer import tree as T
from analyzer.flow.call_facts import RunFacts
from analyzer.flow.context import ModuleContext, ScopeInfo
from analyzer.flow.exports import undefined_exports
from analyzer.flow.interpreter.branches import Runner
from analyzer.flow.interpreter.frame import Sink
from analyzer.flow.names import BUILTIN_NAMES, collect_bindings
from analyzer.flow.results import FunctionFlow, ModuleFlow, NameUse, ReturnRecord, ReturnSite, UseKind
from analyzer.flow.slicing import Slicer
from analyzer.flow.syntax import param_names

__all__ = ["analyze_module", "analyze_function_returns"]


def analyze_module(tree: T.Module, builtins: Optional[frozenset[str]] = None,
                   run_facts: Optional[RunFacts] = None) -> ModuleFlow:
    """Run the flow analysis over every scope of `tree`. `builtins`: the names the target Python
    provides (default: those of every supported version). `run_facts`: what the other modules of
    the run tell this one (`engine.project_call_facts`)."""
    module = ModuleContext(tree, BUILTIN_NAMES if builtins is None else builtins, run_facts)
    sink = Sink()
    info = ScopeInfo("module", tree, frozenset(module.bindings.bound), None, "<module>", dynamic=module.bindings.dynamic)
    runner = Runner(module, info, module.bindings, sink)
    runner.block(runner.initial_state(), tree.body)
    for name, node in undefined_exports(tree, lambda n: module.is_global(n) or n in module.bindings.type_checking_only,
                                        module.by_type):
        sink.use(NameUse(node, name, UseKind.UNDEFINED, "<module>", scope_node=tree, detail="__all__"))
    functions: list[FunctionFlow] = []
    done: set[int] = set()
    while sink.pending:
        node, parent, qualname = sink.pending.pop(0)
        if id(node) in done:
            continue
        done.add(id(node))
        flow = _run_scope(module, node, parent, qualname, sink)
        if flow is not None:
            functions.append(flow)
    return ModuleFlow(tree=tree, uses=sink.uses, functions=functions, dynamic=module.dynamic, unpacks=sink.unpacks,
                      classes=module.classes, imports=module.imports, by_type=module.by_type,
                      module_names=frozenset(module.global_names), arg_values=module.arg_values())


def _run_scope(module: ModuleContext, node: T.AST, parent: ScopeInfo, qualname: str,
               sink: Sink) -> Optional[FunctionFlow]:
    """Interpret one nested scope (class body, lambda or function); a function's returns become
    its `FunctionFlow`, and the scopes nested in it join `sink.pending`."""
    if isinstance(node, T.ClassDef):
        b = module.bindings_of(node.body)
        info = ScopeInfo("class", node, frozenset(b.bound), parent, node.name, dynamic=b.dynamic or b.star_import)
        runner = Runner(module, info, b, sink, qualname=qualname)
        state = runner.initial_state()
        runner.block(state, node.body)
        return None
    if isinstance(node, T.Lambda):
        b = collect_bindings([T.Expr(None, None, node.body)])
        params = param_names(node.args)
        info = ScopeInfo("function", node, frozenset(b.bound | params), parent, "<lambda>", dynamic=b.dynamic,
                         dynamic_words=b.dynamic_words)
        runner = Runner(module, info, b, sink, params=params, qualname=qualname)
        runner.expr(runner.initial_state(), node.body)
        return None
    b = module.bindings_of(node.body)
    params = param_names(node.args)
    # a bare annotation (`x: int`) binds nothing but makes the name local to the function
    local_names = (b.bound | b.annotated.keys() | params) - b.globals - b.nonlocals
    info = ScopeInfo("function", node, frozenset(local_names), parent, node.name,
                     dynamic=b.dynamic or b.star_import, dynamic_words=None if b.star_import else b.dynamic_words)
    runner = Runner(module, info, b, sink, params=params, qualname=qualname)
    first_use = len(sink.uses)
    end = runner.block(runner.initial_state(), node.body)
    if runner.escaping_defs:
        runner.check_escaping_closures(end)
    silenced = [(read, name) for scope, read, name in sink.budget_silenced if scope is node]
    if silenced:
        _rerun_on_slices(module, node, info, b, params, qualname, sink, silenced,
                         {u.name for u in sink.uses[first_use:]})
    flow = FunctionFlow(node=node, name=node.name, qualname=qualname, returns=runner.returns,
                        falls_off_end=bool(end), is_generator=b.yields, dynamic=info.dynamic,
                        locals=frozenset(local_names))
    if end:
        last = node.body[-1]
        flow.returns.append(ReturnRecord(None, None, None, None, True, last=last))
    return flow


def _rerun_on_slices(module: ModuleContext, node: T.AST, info: ScopeInfo, b, params, qualname: str, sink: Sink,
                     silenced: list, reported: set[str]) -> None:
    """Reads the path budget left quiet get their verdict from the name's slice of the function
    (`analyzer.flow.slicing`), which is small enough to keep every assumption. Only those reads
    are taken from the slice, and only for names the full run reported nowhere."""
    checker = Runner(module, info, b, Sink(), params=params, qualname=qualname)
    slicer = Slicer(node, checker.never_returns)
    for name in sorted({name for _, name in silenced} - reported):
        reads = {id(read) for read, n in silenced if n == name}
        scratch = Sink()
        scratch.enums = sink.enums
        scratch.only = reads
        runner = Runner(module, info, b, scratch, params=params, qualname=qualname, facts=checker.facts)
        sliced = slicer.slice(name)
        runner.block(runner.initial_state(), sliced.body)
        for use in scratch.uses:
            if use.name == name and id(use.node) in reads:
                sink.use(use)


def analyze_function_returns(func: T.FunctionDef | T.AsyncFunctionDef) -> tuple[list[ReturnSite], bool, bool]:
    """Return sites of one function, analysed on its own (module context: the function alone)."""
    tree = T.Module(None, None, [func], [])
    flow = analyze_module(tree)
    for f in flow.functions:
        if f.node is func:
            return [r.site() for r in f.returns], f.falls_off_end, f.is_generator
    return [], False, False
