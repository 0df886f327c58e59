"""What a rule is: a class whose docstring documents it and whose examples test it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Iterable, Optional

from analyzer import tree as T
from analyzer.diagnostics import Fix
from analyzer.flow.results import ModuleFlow
from analyzer.source import SourceText

__all__ = ["Rule", "ProjectRule", "RuleContext", "Report", "Invalid", "report_at", "report_at_def_name"]


@dataclass(frozen=True)
class Invalid:
    """An example the rule must flag: exactly one finding at (line, column) with this message.

    Columns are 1-based, as printed. `fixed` is the source after the rule's fix, when it has one.
    """

    source: str
    line: int
    column: int
    message: str
    fixed: Optional[str] = None


@dataclass(frozen=True)
class Report:
    line: int
    col: int  # 0-based character column
    end_line: int
    end_col: int
    message: str
    fix: Optional[Fix] = None
    # the path the analysis believes (`analyzer.flow.witness.Step`s: line, 0-based column, text)
    trace: tuple = ()


def report_at(node: T.AST, message: str, fix: Optional[Fix] = None) -> Report:
    return Report(
        node.lineno,
        node.col_offset,
        getattr(node, "end_lineno", None) or node.lineno,
        getattr(node, "end_col_offset", None) or node.col_offset,
        message,
        fix,
    )


def report_at_def_name(node: T.FunctionDef | T.AsyncFunctionDef, message: str) -> Report:
    """A report spanning the name in `def name(` (where editors should point for a whole function)."""
    col = node.col_offset + (len("async def ") if isinstance(node, T.AsyncFunctionDef) else len("def "))
    return Report(node.lineno, col, node.lineno, col + len(node.name), message)


@dataclass
class RuleContext:
    path: str
    source: SourceText
    tree: T.Module
    flow: ModuleFlow
    is_stub: bool = False


class Rule:
    """Base class. Subclasses set `code`, `name`, `summary`, a docstring with the sections
    What it does / Why is this bad / Example / Use instead, and VALID / INVALID examples."""

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    default_enabled: ClassVar[bool] = True
    # other tools' codes for the same defect; `# noqa: <alias>` on the line silences this rule too
    noqa_aliases: ClassVar[tuple[str, ...]] = ()
    # type checkers' codes for the same defect; `# type: ignore[<code>]` on the line silences it
    checker_ignores: ClassVar[tuple[str, ...]] = ()
    # False for rules about what happens when code runs: a stub (.pyi) never runs, and its bare
    # annotations (`x: int`) declare names that no statement binds
    checks_stubs: ClassVar[bool] = True
    VALID: ClassVar[list[str]] = []
    INVALID: ClassVar[list[Invalid]] = []

    def check(self, ctx: RuleContext) -> Iterable[Report]:
        raise NotImplementedError


class ProjectRule(Rule):
    """A rule that reads the project index (several files' summaries) instead of one file's flow.

    `check` is not used (unless `also_per_file`: then it runs on each file as a plain rule's does);
    `check_module` runs once per module with the whole index. Its INVALID examples are single files
    (the same module is a project of one)."""

    also_per_file: ClassVar[bool] = False

    def check(self, ctx: RuleContext) -> Iterable[Report]:
        return ()

    def check_module(self, index, summary) -> Iterable[Report]:
        raise NotImplementedError
