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


# a string PEFT may be meant to read as a regular expression (a lone `target_modules` string is one)
_REGEX_CHARS = re.compile(r"[|*+?\\\[\]()^$]")


def _tuple_fix(source: SourceText, node: T.expr) -> Optional[tuple[str, Fix]]:
    """For a parenthesized literal: its text and the safe fix that makes it a 1-tuple. The range
    is the literal's own; its grouping parentheses belong to the same LibCST node and are
    replaced with it."""
    span = _paren_span(source, node)
    if span is None:
        return None
    line, open_col, close_col = span
    text = source.line(line)[open_col + 1:close_col - 1].strip()
    return text, Fix(line, node.col_offset + 1, line, node.end_col_offset + 1, f"({text},)", safety="safe")


def _literal(node: T.AST) -> bool:
    return isinstance(node, T.Constant) and isinstance(node.value, (str, bytes, int, float)) and not isinstance(node.value, bool)


class ParenthesizedNotTuple(Rule):
    """
    ## What it does
    Flags a lone string or number in parentheses, `("q_proj")`, used where a tuple is evidently
    meant: iterated (`for m in ("q_proj"):`), tested for membership (`name in ("q_proj")`),
    indexed (`("q_proj")[0]`), or passed to a parameter that takes a collection of module names
    (`target_modules=("q_proj")`), also through a module-level name: `TARGETS = ("q_proj")` is
    reported when `TARGETS` is passed to such a parameter and nothing else in the module binds it
    (a string with regular-expression characters is taken as the pattern PEFT reads it as; a
    number is not reported there, as PEFT reads a lone layer index as a list of one).
    Parentheses alone do not make a tuple; the comma does.

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
        # a module-level string used as one, or bound again
        "PREFIX = ('lora_')\n\ndef is_lora(name):\n    return name.startswith(PREFIX)\n",
        "TARGETS = ('q_proj')\nif WIDE:\n    TARGETS = ['q_proj', 'v_proj']\ncfg = LoraConfig(target_modules=TARGETS)\n",
        "PATTERN = (r'.*\\.(q|v)_proj')\ncfg = LoraConfig(target_modules=PATTERN)\n",
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
        Invalid("TARGETS = (\"q_proj\")\n\nconfig = LoraConfig(target_modules=TARGETS, r=8)\n", 1, 12,
                "parentheses around \"q_proj\" do not make a tuple, and `TARGETS` is passed as `target_modules` "
                "at line 3: did you mean `(\"q_proj\",)`?",
                fixed="TARGETS = (\"q_proj\",)\n\nconfig = LoraConfig(target_modules=TARGETS, r=8)\n"),
    ]

    def check(self, ctx: RuleContext) -> Iterable[Report]:
        if not _MAYBE.search(ctx.source.text):
            return
        by_type = ctx.flow.by_type
        nodes = [n for t in (T.Compare, T.For, T.AsyncFor, T.comprehension, T.Subscript, T.keyword)
                 for n in by_type.get(t, ())]
        for node in nodes:
            for cand in self._candidates(node):
                found = _tuple_fix(ctx.source, cand)
                if found is None:
                    continue
                text, fix = found
                message = f"parentheses around {text} do not make a tuple: did you mean `({text},)`?"
                yield Report(cand.lineno, cand.col_offset, cand.end_lineno, cand.end_col_offset, message, fix)

        yield from self._through_names(ctx)

    @staticmethod
    def _through_names(ctx: RuleContext) -> Iterable[Report]:
        """`TARGETS = ("q_proj")` at module level, passed as `target_modules=TARGETS`: reported at
        the assignment. Only a name bound by that one statement and nowhere else in the module
        (no other assignment, parameter, import or loop variable of that name in any scope), so
        every read of it is that string."""
        by_type = ctx.flow.by_type
        uses: dict[str, tuple[int, str]] = {}  # name -> first (line, parameter) it is passed to
        for kw in by_type.get(T.keyword, ()):
            if kw.arg in _COLLECTION_PARAMS and isinstance(kw.value, T.Name):
                use = (kw.value.lineno, kw.arg)
                uses[kw.value.id] = min(use, uses.get(kw.value.id, use))
        if not uses or ctx.flow.dynamic:
            return
        counts = _binding_counts(by_type, uses)
        for stmt in _module_statements(ctx.tree.body):
            if isinstance(stmt, T.Assign) and len(stmt.targets) == 1:
                target, value = stmt.targets[0], stmt.value
            elif isinstance(stmt, T.AnnAssign) and stmt.value is not None:
                target, value = stmt.target, stmt.value
            else:
                continue
            # strings only: PEFT takes a lone layer index (`layers_to_transform=3`) as `[3]`
            if not (isinstance(target, T.Name) and target.id in uses and counts.get(target.id) == 1
                    and isinstance(value, T.Constant) and isinstance(value.value, str)):
                continue
            if _REGEX_CHARS.search(value.value):
                continue  # `PATTERN = (r".*\.(q|v)_proj")`: a regular expression, passed as one
            found = _tuple_fix(ctx.source, value)
            if found is None:
                continue
            text, fix = found
            use_line, param = uses[target.id]
            message = (f"parentheses around {text} do not make a tuple, and `{target.id}` is passed as "
                       f"`{param}` at line {use_line}: did you mean `({text},)`?")
            yield Report(value.lineno, value.col_offset, value.end_lineno, value.end_col_offset, message, fix)

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


def _module_statements(body: list[T.stmt]) -> Iterable[T.stmt]:
    """The statements that run in the module's scope, in blocks (`if`, `try`, `with`) included."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, (T.FunctionDef, T.AsyncFunctionDef, T.ClassDef)):
            continue
        for field in ("body", "orelse", "finalbody"):
            block = getattr(stmt, field, None)
            if isinstance(block, list):
                yield from _module_statements(block)
        for handler in getattr(stmt, "handlers", None) or ():
            yield from _module_statements(handler.body)


def _binding_counts(by_type: dict, names: dict[str, int]) -> dict[str, int]:
    """How many places in the whole module, any scope, bind each of `names`."""
    counts: dict[str, int] = {}

    def add(name: str | None) -> None:
        if name in names:
            counts[name] = counts.get(name, 0) + 1

    for node in by_type.get(T.Name, ()):
        if not isinstance(node.ctx, T.Load):
            add(node.id)
    for cls in (T.FunctionDef, T.AsyncFunctionDef, T.ClassDef):
        for node in by_type.get(cls, ()):
            add(node.name)
    for node in by_type.get(T.arg, ()):
        add(node.arg)
    for node in by_type.get(T.alias, ()):
        add(node.asname or node.name.split(".")[0])
    for cls in (T.ExceptHandler, T.MatchAs, T.MatchStar):
        for node in by_type.get(cls, ()):
            add(node.name)
    for node in by_type.get(T.Global, ()) + by_type.get(T.Nonlocal, ()):
        for name in node.names:
            add(name)
    return counts
