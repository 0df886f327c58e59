"""Running the engine over many files: cache look-ups, worker processes, one project index.

Workers run `analyze_source` (per-file rules and the module summary); the parent joins every
summary, fresh or cached, and runs the cross-file rules once, so results and their order do not
depend on the number of processes or on what was cached.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Optional, Sequence

from analyzer.cache import AnalysisCache
from analyzer.diagnostics import Diagnostic
from analyzer.engine import FileAnalysis, analyze_source, project_call_facts, project_diagnostics, with_project_facts
from analyzer.flow.call_facts import facts_digest, RunFacts
from analyzer.selection import Selection

__all__ = ["default_jobs", "analyze_files", "lint_files", "lint_in_context"]

# below this many files to analyse, starting workers costs more than it saves
_MIN_FILES_FOR_POOL = 8


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _analyze(task: tuple[str, bytes, Selection]) -> FileAnalysis:
    path, raw, selection = task
    return analyze_source(raw, path, selection)


def _analyze_again(task: tuple[FileAnalysis, bytes, Selection, RunFacts]) -> FileAnalysis:
    analysis, raw, selection, facts = task
    return with_project_facts(analysis, raw, selection, facts)


def _pool_context():
    # fork starts workers in milliseconds with the engine already imported; only safe while
    # this process runs a single thread
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return None


def _run_all(work, tasks: list, sizes: list[int], jobs: int, min_tasks: int) -> list:
    """`work` over `tasks`, in worker processes when there are enough of them (`min_tasks`), with
    the results in the order of `tasks`. `sizes`: the bytes each task reads."""
    workers = min(jobs, len(tasks))
    if workers > 1 and len(tasks) >= min_tasks:
        # largest files first, one at a time: the last file handed out is a small one, so the
        # workers finish together (in order of the input, a few big files at the end of a chunk
        # left one core idle for seconds); the results go back to the input's order
        order = sorted(range(len(tasks)), key=lambda i: -sizes[i])
        try:
            with ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context()) as pool:
                done = list(pool.map(work, [tasks[i] for i in order], chunksize=1))
            out: list = [None] * len(tasks)
            for i, result in zip(order, done):
                out[i] = result
            return out
        except (BrokenProcessPool, OSError):
            pass  # a worker died (out of memory, killed): finish in this process
    return [work(t) for t in tasks]


def analyze_files(files: Sequence[tuple[str, bytes]], selection: Selection, jobs: int = 1,
                  cache: Optional[AnalysisCache] = None) -> list[FileAnalysis]:
    """One FileAnalysis per file, in the order given."""
    results: list[Optional[FileAnalysis]] = [None] * len(files)
    keys: list[Optional[str]] = [None] * len(files)
    todo: list[int] = []
    for i, (path, raw) in enumerate(files):
        if cache is not None:
            keys[i] = cache.key(path, raw)
            hit = cache.load(keys[i])
            if hit is not None:
                results[i] = hit
                continue
        todo.append(i)
    tasks = [(files[i][0], files[i][1], selection) for i in todo]
    fresh = _run_all(_analyze, tasks, [len(t[1]) for t in tasks], jobs, _MIN_FILES_FOR_POOL)
    for i, analysis in zip(todo, fresh):
        results[i] = analysis
        if cache is not None and keys[i] is not None:
            cache.store(keys[i], analysis)
    return _with_project_facts([r for r in results if r is not None], files, selection, jobs, cache)


def _with_project_facts(analyses: list[FileAnalysis], files: Sequence[tuple[str, bytes]], selection: Selection,
                        jobs: int, cache: Optional[AnalysisCache]) -> list[FileAnalysis]:
    """The second pass (`engine.project_call_facts`): the few files with findings that the run's
    other modules tell something are analysed again knowing it (in worker processes when there
    are two or more); cached under their content and those facts."""
    facts = project_call_facts(analyses)
    if not facts:
        return analyses
    raws = dict(files)
    out = list(analyses)
    todo: list[tuple[int, Optional[str]]] = []
    for i, a in enumerate(analyses):
        given = facts.get(a.path)
        if given is None:
            continue
        key = cache.key(a.path, raws[a.path] + b"\0" + facts_digest(given).encode()) if cache is not None else None
        hit = cache.load(key) if key is not None else None
        if hit is not None:
            out[i] = hit
        else:
            todo.append((i, key))
    tasks = [(analyses[i], raws[analyses[i].path], selection, facts[analyses[i].path]) for i, _ in todo]
    fresh = _run_all(_analyze_again, tasks, [len(t[1]) for t in tasks], jobs, 2)
    for (i, key), again in zip(todo, fresh):
        out[i] = again
        if key is not None:
            cache.store(key, again)
    return out


def lint_files(files: Sequence[tuple[str, bytes]], selection: Selection, jobs: int = 1,
               cache: Optional[AnalysisCache] = None) -> list[Diagnostic]:
    """Every finding for the files linted as one project (unsorted, unfiltered)."""
    analyses = analyze_files(files, selection, jobs, cache)
    out = [d for a in analyses for d in a.diagnostics]
    out.extend(project_diagnostics(analyses, selection))
    return out


def lint_in_context(files: Sequence[tuple[str, bytes]], context: Sequence[tuple[str, bytes]], selection: Selection,
                    jobs: int = 1, cache: Optional[AnalysisCache] = None) -> list[Diagnostic]:
    """Findings for `files` linted inside their project (`context`: the project's other files).

    Reported: every finding in `files`, and the cross-file findings in `context` that `files`
    cause, i.e. those that go away when the cross-file rules run without `files` (a staged callee
    now returning another count breaks its unchanged callers). The context's own per-file findings,
    and cross-file ones that do not involve `files`, are not reported: they are not what changed."""
    analyses = analyze_files(list(files) + list(context), selection, jobs, cache)
    named = {path for path, _ in files}
    out = [d for a in analyses if a.path in named for d in a.diagnostics]
    everything = project_diagnostics(analyses, selection)
    out.extend(d for d in everything if d.path in named)
    in_context = [d for d in everything if d.path not in named]
    if in_context:
        without = set(project_diagnostics([a for a in analyses if a.path not in named], selection))
        out.extend(d for d in in_context if d not in without)
    return out
