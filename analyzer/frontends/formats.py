"""Rendering findings: text, JSON, SARIF 2.1.0, GitHub workflow annotations, statistics."""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import Callable, Sequence, TextIO
from urllib.parse import quote

from analyzer import __version__
from analyzer.diagnostics import Diagnostic
from analyzer.frontends.docs import rule_markdown
from analyzer import rules as registry
from analyzer.rules import ENGINE_CODES

__all__ = ["FORMATS", "write_text", "write_json", "write_sarif", "write_github", "write_statistics", "sarif_log",
           "summary_line", "fixable_counts"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def write_text(diagnostics: Sequence[Diagnostic], out: TextIO, show_path: bool = False) -> None:
    """`path:line:col: CODE message`, the format of flake8 and of compilers; with `show_path`, the
    path the analysis believes under each finding that has one (`    path: line 12: ...`)."""
    for d in diagnostics:
        out.write(f"{d.path}:{d.line}:{d.column}: {d.code} {d.message}\n")
        if show_path:
            for step in d.trace:
                out.write(f"    path: line {step.line}: {step.message}\n")


def write_json(diagnostics: Sequence[Diagnostic], out: TextIO) -> None:
    json.dump([d.as_json() for d in diagnostics], out, indent=2)
    out.write("\n")


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def write_github(diagnostics: Sequence[Diagnostic], out: TextIO) -> None:
    """GitHub Actions workflow commands: each finding becomes an annotation on the pull request."""
    for d in diagnostics:
        props = [f"file={_escape_property(d.path)}", f"line={d.line}", f"col={d.column}"]
        if d.end_line:
            props += [f"endLine={d.end_line}", f"endColumn={d.end_column}"]
        props.append(f"title={_escape_property(d.code)}")
        out.write(f"::error {','.join(props)}::{_escape_data(f'{d.code} {d.message}')}\n")


def _uri(path: str) -> str:
    if os.path.isabs(path):
        return "file://" + quote(path.replace(os.sep, "/"))
    rel = os.path.normpath(path).replace(os.sep, "/")
    return quote(rel)


def _sarif_rules() -> list[dict]:
    rules = []
    for rule in registry.ALL_RULES:
        doc = rule_markdown(rule, heading_level=1, examples=False)
        rules.append({
            "id": rule.code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": rule.summary},
            "help": {"text": doc, "markdown": doc},
            "defaultConfiguration": {"enabled": bool(rule.default_enabled), "level": "error"},
        })
    for code, text in sorted(ENGINE_CODES.items()):
        rules.append({
            "id": code,
            "name": "analysis-failure",
            "shortDescription": {"text": text},
            "fullDescription": {"text": text},
            "help": {"text": text, "markdown": text},
            "defaultConfiguration": {"enabled": True, "level": "error"},
        })
    return rules


def sarif_log(diagnostics: Sequence[Diagnostic]) -> dict:
    """A SARIF 2.1.0 log with one run: every rule in the driver, every finding with its location."""
    rules = _sarif_rules()
    index = {r["id"]: i for i, r in enumerate(rules)}
    results = []
    for d in diagnostics:
        region = {"startLine": d.line, "startColumn": d.column}
        if d.end_line:
            region.update(endLine=d.end_line, endColumn=max(d.end_column, 1))
        result = {
            "ruleId": d.code,
            "level": "error",
            "message": {"text": d.message},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(d.path)}, "region": region}}],
        }
        if d.trace:
            result["codeFlows"] = [_code_flow(d)]
        if d.code in index:
            result["ruleIndex"] = index[d.code]
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "lora-lint", "version": __version__, "semanticVersion": __version__,
                                "rules": rules}},
            # our columns count characters (code points), not SARIF's default UTF-16 units
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }


def _code_flow(d: Diagnostic) -> dict:
    """The path a finding's analysis believes as a SARIF codeFlow (3.36): one threadFlow whose
    locations are the branches taken, in order, each with its condition as the message, the
    last one the finding's own location."""
    uri = _uri(d.path)
    locations = []
    for i, step in enumerate(d.trace):
        location = {
            "location": {
                "physicalLocation": {"artifactLocation": {"uri": uri},
                                     "region": {"startLine": step.line, "startColumn": step.column}},
                "message": {"text": step.message},
            },
            "executionOrder": i + 1,
        }
        if i < len(d.trace) - 1:
            location["kinds"] = ["branch"]  # a decision; the last location is the read itself
        locations.append(location)
    return {"message": {"text": f"path to line {d.line}"}, "threadFlows": [{"locations": locations}]}


def write_sarif(diagnostics: Sequence[Diagnostic], out: TextIO) -> None:
    json.dump(sarif_log(diagnostics), out, indent=2)
    out.write("\n")


def _names() -> dict[str, str]:
    names = {r.code: r.name for r in registry.ALL_RULES}
    names.update({code: "analysis-failure" for code in ENGINE_CODES})
    return names


def write_statistics(diagnostics: Sequence[Diagnostic], out: TextIO, as_json: bool = False) -> None:
    """How many findings each code has, by code."""
    counts = Counter(d.code for d in diagnostics)
    names = _names()
    rows = [(code, names.get(code, ""), counts[code]) for code in sorted(counts)]
    if as_json:
        json.dump([{"code": c, "name": n, "count": k} for c, n, k in rows], out, indent=2)
        out.write("\n")
        return
    for code, name, count in rows:
        out.write(f"{count:>6}  {code}  {name}\n")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def fixable_counts(diagnostics: Sequence[Diagnostic]) -> tuple[int, int]:
    """(findings with a safe fix, findings with an unsafe fix)."""
    safe = sum(1 for d in diagnostics if d.fix is not None and d.fix.safety == "safe")
    unsafe = sum(1 for d in diagnostics if d.fix is not None and d.fix.safety != "safe")
    return safe, unsafe


def summary_line(diagnostics: Sequence[Diagnostic], unsafe_fixes: bool = False, in_baseline: int = 0) -> str:
    """What ruff prints under its findings on a terminal: `Found 3 findings (1 fixable with --fix).`"""
    extra = f" ({_plural(in_baseline, 'finding')} in the baseline not shown)" if in_baseline else ""
    if not diagnostics:
        return f"All checks passed!{extra}"
    safe, unsafe = fixable_counts(diagnostics)
    notes = []
    if unsafe_fixes and safe + unsafe:
        notes.append(f"{safe + unsafe} fixable with --fix --unsafe-fixes")
    else:
        if safe:
            notes.append(f"{safe} fixable with --fix")
        if unsafe:
            notes.append(f"{unsafe} {'more' if safe else 'fixable'} with --fix --unsafe-fixes")
    fixable = f" ({'; '.join(notes)})" if notes else ""
    return f"Found {_plural(len(diagnostics), 'finding')}{fixable}.{extra}"


FORMATS: dict[str, Callable[[Sequence[Diagnostic], TextIO], None]] = {
    "text": write_text,
    "json": write_json,
    "sarif": write_sarif,
    "github": write_github,
}
