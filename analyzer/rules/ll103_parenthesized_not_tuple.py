"""LL103: a parenthesised single value where a tuple is evidently meant."""

from __future__ import annotations

import keyword
import re
from typing import Iterable, Optional

from analyzer import tree as T
from analyzer.diagnostics import Fix
from analyzer.rules.base import Invalid, Report, Rule, RuleContext
from analyzer.source import SourceText

# parameters that take a collection of names in PEFT / transformers APIs
_COLLECTION_PARAMS = {"target_modules", "modules_to_save", "exclude_modules", "layers_to_transform",
                      "target_parameters", "trainable_token_indices", "layers_pattern"}
# a cheap text test: a literal right after an opening parenthesis; files without one are skipped
_MAYBE = re.compile(r"""\(\s*[rbuRBUfF]{0,2}['"0-9]""")


def _paren_span(source: SourceText, node: T.expr) -> Optional[tuple[int, int, int]]:
    """(line, start col of '(', end col after ')') when `node` sits alone in grouping parentheses
    on one line (not a call's, a subscript's or a def's); else None. Columns are characters."""
    if node.lineno != node.end_lineno:
        return None
    line = source.line(node.lineno)
    start, end = node.col_offset, node.end_col_offset
    before = line[:start].rstrip()
    after = line[end:].lstrip()
    if not before.endswith("(") or not after.startswith(")"):
        return None
    head = before[:-1].rstrip()
    if head and (head[-1] in ")]}\"'" or head[-1].isalnum() or head[-1] == "_"):
        word = head.split()[-1] if head.split() else ""
        # `in (...)`, `return (...)`: grouping; `f(...)`, `x[...](...)`: a call
        if not keyword.iskeyword(word.lstrip("([{,=")):
            return None
    open_col = len(before) - 1
    close_col = end + (len(line[end:]) - len(after)) + 1
    return node.lineno, open_col, close_col


def _literal(node: T.AST) -> bool:
    return isinstance(node, T.Constant) and isinstance(node.value, (str, bytes, int, float)) and not isinstance(node.value, bool)


class ParenthesizedNotTuple(Rule):
    """
    ## What it does
    Flags a lone string or number in parentheses, `("q_proj")`, used where a tuple is evidently
    meant: iterated (`for m in ("q_proj"):`), tested for membership (`name in ("q_proj")`),
    indexed (`("q_proj")[0]`), or passed to a parameter that takes a collection of module names
    (`target_modules=("q_proj")`). Parentheses alone do not make a tuple; the comma does.

    ## Why is this bad?
    `name in ("q_proj")` is a substring test, so `"q"` and `"proj"` match; `for m in ("q_proj")`
    iterates over characters; `target_modules=("q_proj")` is one string, read by PEFT as a regex.
    Nothing fails: the adapter silently goes to the wrong modules, or to none.

    ## Example
    ```python
    if name in ("q_proj"):
        ...
    ```

    ## Use instead
    ```python
    if name in ("q_proj",):
        ...
    ```

    ## Fix safety
    Adding the comma is safe: it makes the code do what it reads as.
    """

    code = "LL103"
    name = "parenthesized-not-tuple"
    summary = "parenthesised single value where a tuple is meant"

    VALID = [
        "def f(name):\n    return name in ('q_proj',)\n",
        "def f(name):\n    return name in ('q_proj', 'v_proj')\n",
        "def f(x):\n    return len(('abc'))\n",
        "def f(name):\n    return name == ('q_proj')\n",
        "cfg = dict(target_modules=('q_proj'\n                           'v_proj'))\n",
    ]
    INVALID = [
        Invalid("def f(name):\n    return name in ('q_proj')\n", 2, 21,
                "parentheses around 'q_proj' do not make a tuple: did you mean `('q_proj',)`?",
                fixed="def f(name):\n    return name in ('q_proj',)\n"),
        Invalid("for m in (\"lora_A\"):\n    print(m)\n", 1, 11,
                "parentheses around \"lora_A\" do not make a tuple: did you mean `(\"lora_A\",)`?",
                fixed="for m in (\"lora_A\",):\n    print(m)\n"),
        Invalid("config = LoraConfig(target_modules=(\"q_proj\"), r=8)\n", 1, 37,
                "parentheses around \"q_proj\" do not make a tuple: did you mean `(\"q_proj\",)`?",
                fixed="config = LoraConfig(target_modules=(\"q_proj\",), r=8)\n"),
    ]

    def check(self, ctx: RuleContext) -> Iterable[Report]:
        if not _MAYBE.search(ctx.source.text):
            return
        by_type = ctx.flow.by_type
        nodes = [n for t in (T.Compare, T.For, T.AsyncFor, T.comprehension, T.Subscript, T.keyword)
                 for n in by_type.get(t, ())]
        for node in nodes:
            for cand in self._candidates(node):
                span = _paren_span(ctx.source, cand)
                if span is None:
                    continue
                line, open_col, close_col = span
                text = ctx.source.line(line)[open_col + 1:close_col - 1].strip()
                # the range is the literal's own; its grouping parentheses belong to the same
                # LibCST node and are replaced with it
                fix = Fix(line, cand.col_offset + 1, line, cand.end_col_offset + 1, f"({text},)", safety="safe")
                message = f"parentheses around {text} do not make a tuple: did you mean `({text},)`?"
                yield Report(cand.lineno, cand.col_offset, cand.end_lineno, cand.end_col_offset, message, fix)

    @staticmethod
    def _candidates(node: T.AST) -> Iterable[T.expr]:
        if isinstance(node, T.Compare):
            for op, right in zip(node.ops, node.comparators):
                if isinstance(op, (T.In, T.NotIn)) and _literal(right):
                    yield right
        elif isinstance(node, (T.For, T.AsyncFor, T.comprehension)) and _literal(node.iter):
            yield node.iter
        elif isinstance(node, T.Subscript) and _literal(node.value):
            yield node.value
        elif isinstance(node, T.keyword) and node.arg in _COLLECTION_PARAMS and _literal(node.value):
            yield node.value
