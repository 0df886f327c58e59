"""Engine tests below the rules: a snippet in, the flow analysis's verdicts and shapes out.

Case files are Markdown, `tests/flow/cases/*.md`, read like ty's mdtests:

    ## maybe bound after an if without else

    ```py
    def f(c):
        if c:
            x = 1
        print(x)  # E: maybe x
    ```

Each `## heading` opens a case; its name is the heading, lowered, with runs of other characters
turned into `-` (pytest shows `file::name`). The case's source is its one ```py fenced block. Text
between the heading and the block is prose, except lines of the form

    xfail: <reason>      the analysis is known to be wrong here: the expectations say what it
                         *should* report, and the test is expected to fail (strict)
    checks: <what>, ...  compare `returns`, `unpacks` or `functions` exactly even though the case
                         has no tag of that kind (asserts there are none)

Expectations are comments at the end of a source line; several may share a line:

    # E: <kind> <name>[, <kind> <name> ...]
        a `NameUse` of `name` with verdict `kind` on this line ("maybe x", "undefined y").
        Uses are compared exactly, per case: a line without `# E:` must report nothing, and a
        case with no `# E:` at all asserts that the analysis reports no use.
    # R: <shape>[, <shape> ...]
        a `ReturnRecord` on this line: `2` a tuple of two items, `2+` a tuple with two fixed
        items and a starred tail (`return a, b, *rest`), `none` returning None (bare `return`,
        `return None`), `?` a value that is not a known tuple, `end` falling off the end of the
        body (recorded on the last line of the body's last statement).
        Returns are compared exactly, over every function of the case, when the case has at
        least one `# R:`; each function's `falls_off_end` must then agree with its `end` record.
    # U: <count>[+]
        an `UnpackSite` on this line (`a, b = f()`): `count` fixed targets, `+` for a starred
        target. Compared exactly when the case has at least one `# U:`.
    # F: generator | function
        on a `def` line: `FunctionFlow.is_generator` of that function. Compared exactly over the
        functions of the case when the case has at least one `# F:`.

Only `analyzer.tree.parse` and the flow analysis are used: no rule, no CLI.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from analyzer import tree as T

try:
    from analyzer.flow.definite import analyze_module
except ImportError:  # the flow package is being split into layers; the package keeps the export
    from analyzer.flow import analyze_module

CASES_DIR = Path(__file__).parent / "cases"

_HEADING = re.compile(r"^##\s+(.+?)\s*$")
_FENCE_OPEN = re.compile(r"^```(py|python)\s*$")
_XFAIL = re.compile(r"^xfail:\s*(.+?)\s*$")
_CHECKS = re.compile(r"^checks:\s*(.+?)\s*$")
_TAG = re.compile(r"#\s*([ERUF]):\s*")
_SHAPE = re.compile(r"^(\d+\+?|none|\?|end)$")
_UNPACK = re.compile(r"^(\d+)(\+?)$")


@dataclass
class Case:
    file: str
    name: str
    source: str
    first_line: int  # line of the source's first line within the case file
    xfail: Optional[str] = None
    uses: Counter = field(default_factory=Counter)  # (line, kind, name)
    returns: Optional[Counter] = None  # (line, shape token)
    unpacks: Optional[Counter] = None  # (line, "2" / "2+")
    functions: Optional[dict] = None  # def line -> "generator" / "function"

    @property
    def id(self) -> str:
        return f"{Path(self.file).stem}::{self.name}"


class CaseFormatError(ValueError):
    pass


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _parse_tags(case: Case, lineno: int, line: str) -> None:
    """Read the `# E:` / `# R:` / `# U:` / `# F:` comments of one source line into `case`."""
    matches = list(_TAG.finditer(line))
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(line)
        body = line[m.end():end].strip()
        items = [item.strip() for item in body.split(",") if item.strip()]
        if not items:
            raise CaseFormatError(f"{case.id}: empty `# {m.group(1)}:` on line {lineno}")
        tag = m.group(1)
        for item in items:
            if tag == "E":
                parts = item.split()
                if len(parts) != 2:
                    raise CaseFormatError(f"{case.id}: `# E: {item}` on line {lineno}: want `<kind> <name>`")
                case.uses[(lineno, parts[0], parts[1])] += 1
            elif tag == "R":
                if not _SHAPE.match(item):
                    raise CaseFormatError(f"{case.id}: `# R: {item}` on line {lineno}: want N, N+, none, ? or end")
                case.returns = case.returns if case.returns is not None else Counter()
                case.returns[(lineno, item)] += 1
            elif tag == "U":
                if not _UNPACK.match(item):
                    raise CaseFormatError(f"{case.id}: `# U: {item}` on line {lineno}: want N or N+")
                case.unpacks = case.unpacks if case.unpacks is not None else Counter()
                case.unpacks[(lineno, item)] += 1
            else:
                if item not in ("generator", "function"):
                    raise CaseFormatError(f"{case.id}: `# F: {item}` on line {lineno}: want generator or function")
                case.functions = case.functions if case.functions is not None else {}
                case.functions[lineno] = item


def load_file(path: Path) -> list[Case]:
    cases: list[Case] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    current: Optional[Case] = None
    block: Optional[list[str]] = None
    block_start = 0
    seen: set[str] = set()
    for i, line in enumerate(lines, 1):
        if block is not None:
            if line.strip() == "```":
                if current is None:
                    raise CaseFormatError(f"{path.name}:{block_start}: code block outside a case")
                if current.source:
                    raise CaseFormatError(f"{current.id}: more than one code block")
                current.source = "\n".join(block) + "\n"
                current.first_line = block_start + 1
                for n, src in enumerate(block, 1):
                    _parse_tags(current, n, src)
                block = None
            else:
                block.append(line)
            continue
        m = _HEADING.match(line)
        if m:
            current = Case(path.name, _slug(m.group(1)), "", 0)
            if current.name in seen:
                raise CaseFormatError(f"{path.name}:{i}: duplicate case name {current.name!r}")
            seen.add(current.name)
            cases.append(current)
            continue
        if _FENCE_OPEN.match(line):
            block, block_start = [], i
            continue
        m = _XFAIL.match(line)
        if m and current is not None:
            current.xfail = m.group(1)
        m = _CHECKS.match(line)
        if m and current is not None:
            for what in (w.strip() for w in m.group(1).split(",")):
                if what not in ("returns", "unpacks", "functions"):
                    raise CaseFormatError(f"{path.name}:{i}: unknown check {what!r}")
                if getattr(current, what) is None:
                    setattr(current, what, Counter() if what != "functions" else {})
    if block is not None:
        raise CaseFormatError(f"{path.name}:{block_start}: unclosed code block")
    for case in cases:
        if not case.source:
            raise CaseFormatError(f"{case.id}: no ```py block")
    return cases


def load_cases(directory: Path = CASES_DIR) -> list[Case]:
    cases: list[Case] = []
    for path in sorted(directory.glob("*.md")):
        cases.extend(load_file(path))
    return cases


# ------------------------------------------------------------------------------------ observing


def _kind(kind) -> str:
    return str(kind.value if hasattr(kind, "value") else kind)


def _shape_token(record) -> str:
    if getattr(record, "node", False) is None:  # the record of falling off the end has no node
        return "end"
    if record.starred_head is not None:
        return f"{record.starred_head}+"
    if record.shape is not None:
        return str(len(record.shape))
    if record.is_none:
        return "none"
    return "?"


@dataclass
class Observed:
    uses: Counter
    returns: Counter
    unpacks: Counter
    functions: dict
    # functions whose `falls_off_end` disagrees with their having an `end` return record
    inconsistent: list


def observe(source: str) -> Observed:
    _, tree = T.parse(source)
    flow = analyze_module(tree)
    uses = Counter((u.node.lineno, _kind(u.kind), u.name) for u in flow.uses)
    returns: Counter = Counter()
    functions: dict = {}
    inconsistent: list = []
    for f in flow.functions:
        tokens = [_shape_token(r) for r in f.returns]
        for r, token in zip(f.returns, tokens):
            returns[(r.line, token)] += 1
        functions[f.node.lineno] = "generator" if f.is_generator else "function"
        if bool(f.falls_off_end) != ("end" in tokens):
            inconsistent.append(f"  {f.qualname}: falls_off_end={f.falls_off_end} but return records {tokens}")
    unpacks = Counter((u.line, f"{u.count}{'+' if u.starred else ''}") for u in flow.unpacks)
    return Observed(uses, returns, unpacks, functions, inconsistent)


def _diff(what: str, expected: Counter, got: Counter, source_lines: list[str]) -> list[str]:
    out = []
    for key in sorted(set(expected) | set(got), key=str):
        e, g = expected.get(key, 0), got.get(key, 0)
        if e == g:
            continue
        line = key[0]
        text = source_lines[line - 1].strip() if 0 < line <= len(source_lines) else ""
        label = " ".join(str(k) for k in key[1:])
        if e > g:
            out.append(f"  missing {what} line {line}: {label} (x{e - g})   | {text}")
        else:
            out.append(f"  unexpected {what} line {line}: {label} (x{g - e})   | {text}")
    return out


def mismatches(case: Case) -> list[str]:
    """What the analysis says differently from the case's expectations; empty when it agrees."""
    got = observe(case.source)
    lines = case.source.splitlines()
    problems = _diff("use", case.uses, got.uses, lines)
    if case.returns is not None:
        problems += _diff("return", case.returns, got.returns, lines)
        problems += got.inconsistent
    if case.unpacks is not None:
        problems += _diff("unpack", case.unpacks, got.unpacks, lines)
    if case.functions is not None:
        problems += _diff("function", Counter(case.functions.items()), Counter(got.functions.items()), lines)
    return problems
