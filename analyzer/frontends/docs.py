"""Rule documentation generated from the rule classes: `--explain`, SARIF help, docs/rules.md.

    python -m analyzer.frontends.docs            # print the page
    python -m analyzer.frontends.docs --write    # rewrite docs/rules.md

The page is generated, never edited: tests/frontends/test_docs.py fails when it is stale.
"""

from __future__ import annotations

import argparse
import inspect
import os
import re
import sys
from typing import Optional

from analyzer import rules as registry
from analyzer.rules import ENGINE_CODES, rule_by_code

__all__ = ["rule_markdown", "rules_page", "explain", "DOCS_PAGE"]

DOCS_PAGE = os.path.join("docs", "rules.md")
_HEADING = re.compile(r"^#+ ")


def _anchor(rule) -> str:
    return f"{rule.code}-{rule.name}".lower()


def _shift_headings(doc: str, shift: int) -> str:
    """Demote markdown headings by `shift` levels, leaving `#` comments in code blocks alone."""
    out = []
    in_code = False
    for line in doc.split("\n"):
        if line.lstrip().startswith("```"):
            in_code = not in_code
        elif not in_code and shift:
            m = _HEADING.match(line)
            if m:
                line = "#" * shift + line
        out.append(line)
    return "\n".join(out)


def _fence(source: str) -> str:
    return f"```python\n{source.rstrip()}\n```"


def rule_markdown(rule, heading_level: int = 1, examples: bool = True) -> str:
    """One rule's documentation: its docstring, with its `##` sections placed one level under a
    heading of `heading_level` (0: no heading), and with examples, the pinned findings."""
    doc = inspect.cleandoc(rule.__doc__ or "")
    shift = heading_level - 1 if heading_level else 0
    doc = _shift_headings(doc, shift)
    sub = "#" * (heading_level + 1) if heading_level else "##"
    parts = []
    if heading_level:
        parts.append(f"{'#' * heading_level} {rule.code} {rule.name}")
    state = "on by default" if rule.default_enabled else "off by default (enable with `--extend-select`)"
    fix = " Offers a fix." if any(ex.fixed is not None for ex in rule.INVALID) else ""
    parts.append(f"{rule.summary[:1].upper()}{rule.summary[1:]}. {state[:1].upper()}{state[1:]}.{fix}")
    parts.append(doc)
    if examples and rule.INVALID:
        parts.append(f"{sub} Flagged (pinned by the tests)")
        for ex in rule.INVALID:
            parts.append(_fence(ex.source))
            parts.append(f"```text\nexample.py:{ex.line}:{ex.column}: {rule.code} {ex.message}\n```")
            if ex.fixed is not None:
                parts.append("After the fix:\n\n" + _fence(ex.fixed))
    if examples and rule.VALID:
        parts.append(f"{sub} Not flagged")
        parts.extend(_fence(src) for src in rule.VALID)
    return "\n\n".join(parts) + "\n"


def rules_page() -> str:
    """The whole docs/rules.md."""
    lines = [
        "# lora-lint rules",
        "",
        "<!-- Generated from the rule classes by `python -m analyzer.frontends.docs --write`; do not edit. -->",
        "",
        "| code | name | summary | default |",
        "| --- | --- | --- | --- |",
    ]
    for rule in registry.ALL_RULES:
        default = "on" if rule.default_enabled else "off"
        lines.append(f"| [{rule.code}](#{_anchor(rule)}) | {rule.name} | {rule.summary} | {default} |")
    lines.append("")
    body = [rule_markdown(rule, heading_level=2) for rule in registry.ALL_RULES]
    engine = ["## Codes for files that could not be analysed", "",
              "Always reported; the exit code is 2 when any of them is.", ""]
    engine += [f"- **{code}**: {text}" for code, text in sorted(ENGINE_CODES.items())]
    return "\n".join(lines) + "\n" + "\n".join(body) + "\n" + "\n".join(engine) + "\n"


def explain(code: str) -> Optional[str]:
    """The documentation of one code, or None when no rule has it."""
    code = code.strip().upper()
    if code in ENGINE_CODES:
        return f"# {code}\n\n{ENGINE_CODES[code]}. Always reported; the exit code is 2.\n"
    rule = rule_by_code(code)
    if rule is None:
        return None
    return rule_markdown(rule, heading_level=1)


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description="Print (or --write) the generated rules page.")
    ap.add_argument("--write", action="store_true", help=f"rewrite {DOCS_PAGE} under the current folder")
    args = ap.parse_args(argv)
    page = rules_page()
    if args.write:
        os.makedirs(os.path.dirname(DOCS_PAGE), exist_ok=True)
        with open(DOCS_PAGE, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(page)
    else:
        sys.stdout.write(page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
