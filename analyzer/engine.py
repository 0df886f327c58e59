"""Parse a file once, run the flow analysis once, run every selected rule over its results."""

from __future__ import annotations

import gc
import re
import sys
import warnings
from dataclasses import dataclass, field
from typing import Optional, Sequence

import libcst as cst

from analyzer import tree as T
from analyzer.diagnostics import Diagnostic, TraceStep
from analyzer.flow.call_facts import names_in, RunFacts
from analyzer.flow.definite import analyze_module
from analyzer.flow.names import builtins_for
from analyzer.flow.index import ProjectIndex
from analyzer.flow.project import ModuleSummary, summarize_module
from analyzer.noqa import noqa_codes, noqa_silences, suppressed
from analyzer.rules.base import ProjectRule, Report, Rule, RuleContext
from analyzer.selection import Selection, rules_for
from analyzer.source import DecodeFailure, SourceText, decode_source
from analyzer.tree.versions import too_new

__all__ = ["FileAnalysis", "analyze_source", "project_call_facts", "project_diagnostics", "lint_source", "lint_sources",
           "with_project_facts"]

# `ast.PyCF_ONLY_AST`, spelled out: the engine imports no `ast`. Used only to word a syntax error
# LibCST already found (see `_syntax_diagnostic`); the linted code is never run or optimised.
_ONLY_AST = 0x400


@dataclass
class FileAnalysis:
    """One file's findings from the per-file rules, plus what cross-file rules need from it."""

    path: str
    diagnostics: list[Diagnostic]
    summary: Optional[ModuleSummary] = None
    # line -> codes silenced there (empty set: every code), for findings added later
    noqa: dict[int, set[str]] = field(default_factory=dict)
    # the names a run fact may be keyed by in the top-level defs and classes holding the flow
    # findings (`call_facts.names_in`); None: some finding is outside them, any fact may count
    flagged_names: Optional[frozenset[str]] = None


def analyze_source(raw: bytes | str, path: str, selection: Selection = Selection(),
                   rules: Optional[Sequence[Rule]] = None, honor_noqa: bool = True,
                   run_facts: Optional[RunFacts] = None) -> FileAnalysis:
    """Per-file findings and the module summary for one file's content. Never raises.

    `honor_noqa=False` keeps findings on `# noqa` lines, for front-ends (flake8) that apply
    `noqa` themselves. `run_facts`: what the run's other modules tell this one (see
    `project_call_facts`)."""
    return _deep(_analyze_source, raw, path, selection, rules, honor_noqa, run_facts)


def _analyze_source(raw: bytes | str, path: str, selection: Selection, rules: Optional[Sequence[Rule]],
                    honor_noqa: bool = True, run_facts: Optional[RunFacts] = None) -> FileAnalysis:
    if isinstance(raw, bytes):
        decoded = decode_source(raw)
        if isinstance(decoded, DecodeFailure):
            return FileAnalysis(path, [Diagnostic(path, decoded.line, decoded.column, "LL002",
                                                  f"cannot decode file: {decoded.reason}")])
        text = decoded
    else:
        text = raw[1:] if raw.startswith("\ufeff") else raw
    source = SourceText(text)
    if "\x00" in text:  # a NUL byte is never valid Python; say where it is
        return FileAnalysis(path, [_null_byte_diagnostic(path, source)])
    target = selection.target_version
    try:
        _module, tree = T.parse(text)
    except cst.ParserSyntaxError as exc:
        return FileAnalysis(path, [_syntax_diagnostic(path, text, exc)])
    except T.TooDeep as exc:
        return FileAnalysis(path, [Diagnostic(path, exc.line, exc.column, "LL001",
                                              f"syntax error: {exc.reason} here, too deeply nested for the parser")])
    except (RecursionError, MemoryError):  # very deep nesting, in the parser or the lowering
        return FileAnalysis(path, [Diagnostic(path, 1, 1, "LL001", "file is too deeply nested for the Python parser")])
    newer = too_new(tree, target) if target else None
    if newer is not None:
        node, what, since = newer
        return FileAnalysis(path, [Diagnostic(path, node.lineno, node.col_offset + 1, "LL001",
                                              f"syntax error: {what} need Python {since}; target-version is {target}")])
    if rules is None:
        rules = rules_for(selection)
    try:
        flow = analyze_module(tree, builtins_for(target) if target else None, run_facts)
    except RecursionError:
        return FileAnalysis(path, [_too_deep_diagnostic(path, "the flow analysis", tree, source)])
    except Exception as exc:  # an engine bug must not end the run or hide other files' findings
        return FileAnalysis(path, [Diagnostic(path, 1, 1, "LL000",
                                              f"internal error in the flow analysis: {type(exc).__name__}: {exc}")])
    ctx = RuleContext(path=path, source=source, tree=tree, flow=flow, is_stub=path.endswith(".pyi"))
    out: list[Diagnostic] = []
    for rule in rules:
        if (isinstance(rule, ProjectRule) and not rule.also_per_file) or (ctx.is_stub and not rule.checks_stubs):
            continue
        try:
            found = [_to_diagnostic(path, rule.code, rep, source) for rep in rule.check(ctx)]
        except RecursionError:
            out.append(_too_deep_diagnostic(path, rule.code, tree, source))
            continue
        except Exception as exc:
            out.append(Diagnostic(path, 1, 1, "LL000", f"internal error in {rule.code}: {type(exc).__name__}: {exc}"))
            continue
        out.extend(d for d in found if not (honor_noqa and suppressed(source, d)))
    out.sort()
    summary = None
    try:
        summary = summarize_module(flow, path)
    except Exception as exc:
        out.append(Diagnostic(path, 1, 1, "LL000", f"internal error in the project index: {type(exc).__name__}: {exc}"))
    noqa = {}
    # the lines where cross-file rules may report: call sites that unpack, reads only a star import binds
    lines = [u.line for u in summary.unpacks] if summary and honor_noqa else []
    for line in lines:
        codes = noqa_codes(source.line(line))
        if codes is not None:
            noqa[line] = codes
    if summary is not None and honor_noqa and summary.star is not None:
        for line in {r[1] for r in summary.star.reads}:
            # the read's LL201 is silenced as the per-file one would be (also `# type: ignore[name-defined]`)
            if suppressed(source, Diagnostic(path, line, 1, "LL201", "")) and noqa.get(line) != set():
                noqa[line] = noqa.get(line, set()) | {"LL201"}
    return FileAnalysis(path, out, summary, noqa, _flagged_names(tree, out))


def _flagged_names(tree: T.Module, found: list[Diagnostic]) -> Optional[frozenset[str]]:
    """`call_facts.names_in` the top-level defs and classes that hold the flow findings (None
    when one is elsewhere): only facts about those names can change a finding in a second pass."""
    lines = {d.line for d in found if d.code not in _NOT_FLOW}
    if not lines:
        return frozenset()
    holders: list[T.stmt] = []
    for st in tree.body:
        if not lines:
            break
        inside = {ln for ln in lines if st.lineno <= ln <= st.end_lineno}
        if not inside:
            continue
        if isinstance(st, T.ClassDef):
            # a method's findings: that method (what a class body runs is the class's)
            methods = [m for m in st.body if isinstance(m, (T.FunctionDef, T.AsyncFunctionDef))
                       and any(m.lineno <= ln <= m.end_lineno for ln in inside)]
            covered = {ln for ln in inside for m in methods if m.lineno <= ln <= m.end_lineno}
            holders.extend(methods if covered == inside else [st])
        elif isinstance(st, (T.FunctionDef, T.AsyncFunctionDef)):
            holders.append(st)
        else:
            return None
        lines -= inside
    if lines:
        return None
    return names_in(holders, [c for c in tree.body if isinstance(c, T.ClassDef)])


def project_call_facts(analyses: Sequence[FileAnalysis]) -> dict[str, RunFacts]:
    """path -> what the run's other modules tell that file (a validator it calls, a function
    returning only literals, the literals every call in the run passes one of its functions, the
    `Literal` attributes of a class it imports), for the files whose per-file rules found
    something: the facts narrow what a value can be, so only those files' findings can change,
    and only they are analysed again (`with_project_facts`)."""
    flagged = [a for a in analyses if a.summary is not None and any(d.code not in _NOT_FLOW for d in a.diagnostics)]
    if not flagged:
        return {}
    out = {}
    try:
        index = ProjectIndex([a.summary for a in analyses if a.summary is not None])
        for a in flagged:
            facts = RunFacts(index.imported_call_facts(a.summary), index.run_closed_params(a.summary),
                             index.literal_fields(a.summary)).used_by(a.flagged_names)
            if facts:
                out[a.path] = facts
    except Exception:  # the first pass's findings stand; `project_diagnostics` reports the index's error
        return {}
    return out


def with_project_facts(analysis: FileAnalysis, raw: bytes | str, selection: Selection, facts: RunFacts,
                       rules: Optional[Sequence[Rule]] = None, honor_noqa: bool = True) -> FileAnalysis:
    """`analysis` with its per-file findings made again knowing `facts`; the summary (and so the
    project index, built before) stays the first pass's."""
    again = analyze_source(raw, analysis.path, selection, rules, honor_noqa, facts)
    return FileAnalysis(analysis.path, again.diagnostics, analysis.summary, analysis.noqa)


# findings that no flow fact can change: decoding, syntax, internal errors
_NOT_FLOW = frozenset({"LL000", "LL001", "LL002"})


def project_diagnostics(analyses: Sequence[FileAnalysis], selection: Selection = Selection(),
                        rules: Optional[Sequence[Rule]] = None) -> list[Diagnostic]:
    """Findings of the cross-file rules over every analysed file (one index for the run)."""
    if rules is None:
        rules = rules_for(selection)
    project_rules = [r for r in rules if isinstance(r, ProjectRule)]
    summaries = [a.summary for a in analyses if a.summary is not None]
    if not project_rules or not summaries:
        return []
    try:
        index = ProjectIndex(summaries)
    except Exception as exc:  # cross-file rules are skipped; per-file findings stand
        first = next(a.path for a in analyses if a.summary is not None)
        return [Diagnostic(first, 1, 1, "LL000", f"internal error building the index of {len(summaries)} files, "
                                                 f"cross-file rules skipped: {type(exc).__name__}: {exc}")]
    out: list[Diagnostic] = []
    for a in analyses:
        if a.summary is None:
            continue
        for rule in project_rules:
            try:
                reports = list(rule.check_module(index, a.summary))
            except Exception as exc:
                out.append(Diagnostic(a.path, 1, 1, "LL000", f"internal error in {rule.code}: {type(exc).__name__}: {exc}"))
                continue
            for rep in reports:
                if noqa_silences(a.noqa.get(rep.line), rule.code):
                    continue
                # project reports carry 0-based character columns already
                out.append(Diagnostic(a.path, rep.line, rep.col + 1, rule.code, rep.message, rep.end_line,
                                      rep.end_col + 1, rep.fix))
    return out


def lint_source(raw: bytes | str, path: str, selection: Selection = Selection(),
                rules: Optional[Sequence[Rule]] = None, honor_noqa: bool = True) -> list[Diagnostic]:
    """All findings for one file's content, the file being its own project. Never raises."""
    if rules is None:
        rules = rules_for(selection)
    # the file is the whole run, second pass included (what `lora-lint FILE` does)
    analyses = _second_pass([analyze_source(raw, path, selection, rules, honor_noqa)], {path: raw}, selection, rules,
                            honor_noqa)
    return sorted(analyses[0].diagnostics + project_diagnostics(analyses, selection, rules))


def lint_sources(files: Sequence[tuple[str, bytes]], selection: Selection = Selection()) -> list[Diagnostic]:
    """All findings for several files linted as one project (cross-file rules see all of them)."""
    rules = rules_for(selection)
    analyses = _second_pass([analyze_source(raw, path, selection, rules) for path, raw in files], dict(files),
                            selection, rules)
    out = [d for a in analyses for d in a.diagnostics] + project_diagnostics(analyses, selection, rules)
    return sorted(out)


def _second_pass(analyses: list[FileAnalysis], raws: dict, selection: Selection, rules: Sequence[Rule],
                 honor_noqa: bool = True) -> list[FileAnalysis]:
    """The analyses after the second pass (`project_call_facts`), in this process and uncached
    (the command line's runner caches it and uses worker processes)."""
    facts = project_call_facts(analyses)
    return [with_project_facts(a, raws[a.path], selection, facts[a.path], rules, honor_noqa) if a.path in facts else a
            for a in analyses]


def _to_diagnostic(path: str, code: str, rep: Report, source: SourceText) -> Diagnostic:
    trace = tuple(TraceStep(step.line, step.col + 1, step.text) for step in rep.trace)
    return Diagnostic(path, rep.line, rep.col + 1, code, rep.message, rep.end_line, rep.end_col + 1, rep.fix, trace)


# The flow analysis recurses once per nesting level; CPython compiles code nested far deeper than
# the default limit of 1000 (long elif chains, 1000-term concatenations). Python-level recursion
# does not grow the C stack on 3.11+, so a higher limit while analysing is safe.
# On 3.10 every Python call also uses C stack: stay well inside the default 8 MiB there.
_ANALYSIS_RECURSION_LIMIT = 20000 if sys.version_info >= (3, 11) else 6000


def _deep(fn, *args):
    old = sys.getrecursionlimit()
    if old >= _ANALYSIS_RECURSION_LIMIT:
        return _without_gc(fn, *args)
    sys.setrecursionlimit(_ANALYSIS_RECURSION_LIMIT)
    try:
        return _without_gc(fn, *args)
    finally:
        sys.setrecursionlimit(old)


def _without_gc(fn, *args):
    """Run `fn` with Python's cyclic garbage collector paused. Parsing a file allocates hundreds of
    thousands of LibCST nodes that live until its analysis ends; each collection the allocations
    trigger walks all of them (on installed peft, 16 full and 178 middle collections took 15 % of
    the run) and frees none: the tree has no cycles, and is freed by reference counting when the
    file is done. What little cyclic garbage the analysis leaves is collected after it, as usual."""
    if not gc.isenabled():
        return fn(*args)
    gc.disable()
    try:
        return fn(*args)
    finally:
        gc.enable()


_LIBCST_AT = re.compile(r"error at (\d+):(\d+): (.*)", re.DOTALL)


def _syntax_diagnostic(path: str, text: str, exc: cst.ParserSyntaxError) -> Diagnostic:
    """LL001 where the interpreter places the error, in its words; LibCST's own when the
    interpreter accepts the file (a grammar LibCST does not know yet) or cannot say.

    LibCST's native parser reports the furthest token it tried and a list of expected tokens
    (`expected one of +, -, ..., AWAIT, False, NAME`), often a line before or after the mistake. A
    syntax error ends the file's analysis either way, so asking the interpreter's parser only to
    word and place it changes no other finding."""
    try:
        with warnings.catch_warnings():
            # the compiler's warnings (invalid escapes) concern the linted file, not this run
            warnings.simplefilter("ignore")
            compile(text, "<lint>", "exec", _ONLY_AST, dont_inherit=True)
    except SyntaxError as err:
        if err.lineno:
            return Diagnostic(path, err.lineno, max(err.offset or 1, 1), "LL001", f"syntax error: {err.msg}")
    except Exception:  # noqa: S110 - any other failure: fall back to LibCST's account
        pass
    msg = str(exc.message).strip()
    m = _LIBCST_AT.search(msg)
    if m is not None:
        return Diagnostic(path, int(m.group(1)), int(m.group(2)) + 1, "LL001", f"syntax error: {m.group(3).strip()}")
    return Diagnostic(path, max(exc.raw_line, 1), exc.raw_column + 1, "LL001", f"syntax error: {msg or 'invalid syntax'}")


def _null_byte_diagnostic(path: str, source: SourceText) -> Diagnostic:
    for lineno, line in enumerate(source.lines, 1):
        col = line.find("\x00")
        if col >= 0:
            return Diagnostic(path, lineno, col + 1, "LL001", "syntax error: source contains a NUL byte")
    return Diagnostic(path, 1, 1, "LL001", "syntax error: source contains a NUL byte")


def _too_deep_diagnostic(path: str, where: str, tree: T.AST, source: SourceText) -> Diagnostic:
    """LL000 at the most deeply nested node (found without recursion), so the user sees the cause."""
    depth, line, col = 0, 1, 0
    stack = [(tree, 0)]
    while stack:
        node, d = stack.pop()
        lineno = getattr(node, "lineno", None)
        if lineno is not None and (d, -lineno) > (depth, -line):
            depth, line, col = d, lineno, node.col_offset
        stack.extend((child, d + 1) for child in T.iter_child_nodes(node))
    return Diagnostic(path, line, col + 1, "LL000",
                      f"{where} skipped this file: code nested {depth} levels deep here exceeds the recursion limit")
