"""Fixit front-end: lora-lint's findings and fixes as Fixit lint rules (the rules are declared in
`analyzer.fixit`; this module needs `fixit` installed: `pip install lora-lint[fixit]`).

Fixit visits the LibCST module it parsed itself; a fix is a replacement of one of *its* nodes. So
the engine runs once per module, in a LibCST metadata provider that every rule of the pack
depends on (LibCST resolves a provider once per module and shares it), and each finding is placed
on Fixit's tree by position: a fix on the expression node that spans exactly the fix's range (the
node `lora-lint --fix` replaces), a finding without one on the smallest node that covers it, so
Fixit's `# lint-ignore` comments apply to the statement it is in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Optional

import libcst as cst
from libcst.metadata import BaseMetadataProvider, CodePosition, CodeRange, PositionProvider

from analyzer.diagnostics import Diagnostic
from analyzer.engine import lint_source
from analyzer.rules import ALL_RULES, rule_by_code
from analyzer.selection import Selection

__all__ = ["Finding", "LoraLintFindings", "LoraLintRule"]

# every rule, the opt-in ones included: which of them report is Fixit's `enable` / `disable`
_EVERY_CODE = Selection(select=tuple(rule.code for rule in ALL_RULES))
# Fixit hands the provider a module, not a path; the name only has to be a Python file's
_PATH = "<fixit>.py"


@dataclass(frozen=True)
class Finding:
    """One lora-lint finding placed on Fixit's tree."""

    code: str
    message: str
    node: cst.CSTNode
    range: CodeRange
    replacement: Optional[cst.CSTNode]


class LoraLintFindings(BaseMetadataProvider[tuple]):
    """The module's lora-lint findings (a tuple of `Finding`), set on the `Module` node."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def _gen_impl(self, module: cst.Module) -> None:
        diagnostics = lint_source(module.code, _PATH, _EVERY_CODE)
        found: tuple[Finding, ...] = ()
        if diagnostics:
            nodes = _nodes_by_range(module, self)
            found = tuple(f for f in (_place(d, nodes) for d in diagnostics) if f is not None)
        self.set_metadata(module, found)


def _nodes_by_range(module: cst.Module, provider: LoraLintFindings) -> list[tuple[tuple[int, int, int, int], cst.CSTNode]]:
    """Every node of `module` with its range as lora-lint writes it (1-based columns), outermost
    first."""
    out: list[tuple[tuple[int, int, int, int], cst.CSTNode]] = []

    class _Collect(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            try:
                rng = provider.get_metadata(PositionProvider, node)
            except KeyError:  # nodes without a position of their own (operators, whitespace)
                return True
            out.append(((rng.start.line, rng.start.column + 1, rng.end.line, rng.end.column + 1), node))
            return True

    module.visit(_Collect())
    return out


def _place(d: Diagnostic, nodes: list[tuple[tuple[int, int, int, int], cst.CSTNode]]) -> Optional[Finding]:
    start = (d.line, d.column)
    end = (d.end_line or d.line, d.end_column or d.column)
    span = CodeRange(CodePosition(start[0], start[1] - 1), CodePosition(end[0], end[1] - 1))
    if d.fix is not None:
        want = (d.fix.line, d.fix.column, d.fix.end_line, d.fix.end_column)
        # the outermost expression with exactly that range, as `lora-lint --fix` picks it
        target = next((n for key, n in nodes if key == want and isinstance(n, cst.BaseExpression)), None)
        if target is not None:
            return Finding(d.code, d.message, target, span, cst.parse_expression(d.fix.replacement))
    # nodes come outermost first, so the last one that covers the finding is the innermost
    covering = [n for key, n in nodes if (key[0], key[1]) <= start and (key[2], key[3]) >= end]
    return Finding(d.code, d.message, covering[-1], span, None) if covering else None


class LoraLintRule:
    """Mixed into `fixit.LintRule` by each rule of the pack: `CODE` names the lora-lint rule, whose
    docstring and examples become the Fixit rule's (so `fixit test analyzer.fixit` runs them)."""

    CODE: ClassVar[str]
    # the codes this rule reports: its own, or the engine's for the rule that reports analysis failures
    CODES: ClassVar[frozenset[str]] = frozenset()
    METADATA_DEPENDENCIES = (PositionProvider, LoraLintFindings)
    VALID: ClassVar[list] = []
    INVALID: ClassVar[list] = []

    def __init_subclass__(cls, **kwargs) -> None:
        from fixit import Invalid, Valid

        rule = rule_by_code(cls.CODE)
        if rule is not None:
            own = cls.__dict__.get("__doc__")
            cls.__doc__ = (rule.__doc__ or "") + (f"\n    ## In Fixit\n    {own.strip()}\n" if own else "")
            cls.VALID = [Valid(src) for src in rule.VALID]
            cls.INVALID = [Invalid(ex.source, expected_message=f"{cls.CODE} {ex.message}",
                                   expected_replacement=ex.fixed) for ex in rule.INVALID]
        if not cls.CODES:
            cls.CODES = frozenset({cls.CODE})
        super().__init_subclass__(**kwargs)  # fixit.LintRule: AUTOFIX from the examples

    def visit_Module(self, node: cst.Module) -> None:
        for f in self.get_metadata(LoraLintFindings, node, ()):  # type: ignore[attr-defined]
            if f.code in self.CODES:
                self.report(f.node, f"{f.code} {f.message}", position=f.range,  # type: ignore[attr-defined]
                            replacement=f.replacement)
