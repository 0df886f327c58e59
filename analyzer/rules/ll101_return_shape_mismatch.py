"""LL101: one function returns tuples of different shapes."""

from __future__ import annotations

from collections import Counter
from typing import Iterable, Optional

from analyzer import tree as T
from analyzer.flow.autograd import find_autograd_classes, gradient_count
from analyzer.flow.results import FunctionFlow, ReturnRecord
from analyzer.flow.project import flag_guarded_returns
from analyzer.flow.shapes import annotation_allows_variants, describe_shape, short_shape
from analyzer.flow.syntax import returns_under_tests
from analyzer.rules.base import Invalid, Report, Rule, RuleContext

__all__ = ["ReturnShapeMismatch", "shape_checked_returns"]


def shape_checked_returns(func: FunctionFlow) -> Optional[list[ReturnRecord]]:
    """The returns LL101 compares, or None when the function is out of scope."""
    node = func.node
    # a generator's returns are its StopIteration value (what `yield from` gives): the same rule
    if func.dynamic or not isinstance(node, (T.FunctionDef, T.AsyncFunctionDef)):
        return None
    if annotation_allows_variants(node.returns):
        return None
    # `return ()` is the usual "nothing" sentinel, not a tuple of the wrong size
    return [r for r in func.returns
            if (r.shape is not None and len(r.shape) > 0) or r.starred_head is not None]


def _nesting_conflict(a, b, func_name: str) -> bool:
    """Two same-arity shapes that cannot both be right: the same values grouped differently
    (`((a, b), c)` vs `(a, (b, c))`), or a nested tuple whose size differs (`(W, (A, B), s)` vs
    `(W, (A, B, m), s)`). A slot that holds `()` on one path and some value on another is how an
    empty result looks, and pickle's `__reduce__` protocol returns argument tuples whose length
    varies by design."""
    if "reduce" in func_name or func_name in ("__getstate__", "__getnewargs__", "__getnewargs_ex__"):
        return False
    return _leaves(a) == _leaves(b) or _inner_sizes_differ(a, b)


def _inner_sizes_differ(a, b) -> bool:
    for x, y in zip(a, b):
        if x is None or y is None or not x or not y:
            continue
        if len(x) != len(y) or _inner_sizes_differ(x, y):
            return True
    return False


def _leaves(shape) -> int:
    """How many values a shape holds once flattened (`((a, b), c)`: 3; `(x, ())`: 1)."""
    return sum(1 if item is None else _leaves(item) for item in shape)


def _majority(records: list[ReturnRecord], key):
    """(majority key, a record with it), or (None, None) when no shape clearly wins.

    A shape wins when more returns have it than any other shape. With one return of each of two
    shapes, the function's last return wins: the early exit that differs from it is the one to
    report (the disabled-adapter branch that forgot `bias`). With no winner (two shapes of equal
    count, or three shapes none of which is the majority) the function returns tagged results or a
    protocol's variants by design; a caller that unpacks a fixed count still gets LL301."""
    if not records:
        return None, None
    counts = Counter(key(r) for r in records)
    ranked = counts.most_common()
    if len(ranked) == 1 or ranked[0][1] > ranked[1][1]:
        best = ranked[0][0]
        return best, next(r for r in records if key(r) == best)
    if len(records) == 2:
        last = max(records, key=lambda r: (r.line, r.col))
        return key(last), last
    return None, None


def _values(n: int) -> str:
    return f"{n} value" if n == 1 else f"{n} values"


class ReturnShapeMismatch(Rule):
    """
    ## What it does
    Flags a `return` whose tuple has a different number of items, or a different nesting, than
    the other `return` statements of the same function. Tuples held in a local are followed when
    the local's value is known on every path. A starred return (`return a, *rest`) sets a lower
    bound that a shorter return violates. A generator's returns (the value `yield from` gives)
    count too, and so do the tuple arms of a lambda's conditional expression. Functions annotated with a variadic or union return type, and returns whose value
    is not a known tuple, are left alone.

    The returns that disagree with the clear majority are reported. With one return of each of
    two shapes, the early one that differs from the function's last return is reported. With no
    clear majority (two shapes of equal count, or three shapes) nothing is: tagged results and
    protocol variants look like that, and a caller that unpacks a fixed count still gets LL301.
    Shapes chosen by a version test (`if torch_version >= ...:`), tagged by a leading string
    (`("dense", w)` / `("lora", A, B)`), a 1-tuple (a sequence of one item), and functions whose
    result the module measures with `len()` before using it are meant.

    ## Why is this bad?
    Callers unpack a fixed count: `W, qs, A, B, s, bias = get_params(proj)`. A branch that
    returns one item fewer (the classic "added `bias` to one return, forgot the other") raises
    `ValueError: not enough values to unpack` only when that branch runs.

    ## Example
    ```python
    def get_params(proj):
        if proj.disable_adapters:
            return proj.weight, None, None, None, None
        return proj.weight, None, proj.lora_A, proj.lora_B, proj.scaling, proj.bias
    ```

    ## Use instead
    ```python
            return proj.weight, None, None, None, None, proj.bias
    ```
    """

    code = "LL101"
    name = "return-shape-mismatch"
    summary = "returns of one function disagree in tuple arity or nesting"

    VALID = [
        "def f(a):\n    if a:\n        return 1, 2\n    return 3, 4\n",
        # an autograd backward is held to forward's inputs by LL401: trailing Nones may differ
        "import torch\n\nclass F(torch.autograd.Function):\n    @staticmethod\n    def forward(ctx, x, w, b):\n"
        "        return x @ w\n\n    @staticmethod\n    def backward(ctx, g):\n        if ctx.fast:\n"
        "            return g, g, None, None\n        return g, g, None\n",
        "def shard(shape, skip):\n    if skip:\n        return tuple(shape), ()\n    return tuple(shape), offsets(shape)\n",
        "def __reduce__(self):\n    if self.sparse:\n        return rebuild_sparse, (self.a, self.b)\n"
        "    return rebuild, (self.a, self.b, self.c)\n",
        "def f(x, output_attentions=False):\n    if output_attentions:\n        return x, x\n    return (x,)\n",
        "def f(x, mask=None):\n    if mask is not None:\n        return x, mask, x\n    if x:\n        return x, x\n    return x, None\n",
        "def f(path):\n    if not path:\n        return ()\n    return (path,)\n",
        "def f(a) -> tuple[int, ...]:\n    if a:\n        return 1, 2\n    return (3,)\n",
        "def f(a):\n    if a:\n        return 1, 2\n    return g()\n",
        "def forward(self, args):\n    if len(args) == 2:\n        emb, mask = args\n        return emb, mask\n"
        "    emb, past, mask = args\n    return emb, past, mask\n",
        "def f(a):\n    out = (1, 2)\n    if a:\n        return out\n    return 3, 4\n",
        "def f(a):\n    if a:\n        yield 1\n        return 1, 2\n    return (3,)\n",
        # no clear majority: variants by design (a caller that unpacks gets LL301)
        "def parse(tok):\n    if tok.kind == 'pair':\n        return tok.a, tok.b\n    if tok.kind == 'one':\n"
        "        return (tok.a,)\n    return tok.a, tok.b, tok.c\n",
        "def f(m):\n    if torch_version >= (2, 4):\n        return m.a, m.b\n    return m.a, m.b, m.c\n",
        "def f(m):\n    if m.dense:\n        return 'dense', m.w\n    return 'lora', m.a, m.b\n",
    ]
    INVALID = [
        Invalid(
            "params = lambda m: (m.weight, None) if m.merged else (m.weight, m.lora_A, m.lora_B)\n",
            1, 20, "this lambda gives 2 values here but 3 at line 1, col 54",
        ),
        Invalid(
            "def stream(chunks):\n    for c in chunks:\n        if c.error:\n            return c.text, c.n\n"
            "        yield c.text\n    if not chunks:\n        return '', 0, None\n    return chunks[-1].text, len(chunks), None\n",
            4, 13, "`stream` returns 2 values here but 3 at line 7",
        ),
        Invalid(
            "def get_params(proj):\n"
            "    if proj.disable_adapters:\n"
            "        return proj.weight, None, None, None, None\n"
            "    if proj.merged:\n"
            "        return proj.weight, None, None, None, None, proj.bias\n"
            "    return proj.weight, None, proj.lora_A, proj.lora_B, proj.scaling, proj.bias\n",
            3, 9, "`get_params` returns 5 values here but 6 at line 5",
        ),
        Invalid(
            "def f(a, adapter=None):\n    if adapter is None:\n        return a, a, a\n    if a.use_dora:\n"
            "        return a, None\n    return a, a, a\n",
            5, 9, "`f` returns 2 values here but 3 at line 3",
        ),
        Invalid(
            "def split(m, a):\n    if m.merged:\n        return m.W, (None, None), 0.0\n    if m.use_dora[a]:\n"
            "        return m.W, (m.A, m.B, m.mag), m.s\n    return m.W, (m.A, m.B), m.s\n",
            5, 9, "`split` returns a tuple shaped (_, (_, _, _), _) here but (_, (_, _), _) at line 3",
        ),
        Invalid(
            "def f(a):\n    if a:\n        return (1, 2), 3\n    return 1, 2, 3\n",
            3, 9, "`f` returns 2 values here but 3 at line 4",
        ),
        Invalid(
            "def f(a):\n    if a:\n        return (1, 2), 3\n    return 1, (2, 3)\n",
            3, 9, "`f` returns a tuple shaped ((_, _), _) here but (_, (_, _)) at line 4",
        ),
        Invalid(
            "def f(a, rest):\n    if a:\n        return a, a, *rest\n    return (a,)\n",
            4, 5, "`f` returns 1 value here but at least 2 at line 3",
        ),
        Invalid(
            "def f(a):\n    out = (1, 2, 3)\n    if a:\n        return out\n    return 1, 2\n",
            4, 9, "`f` returns 3 values here but 2 at line 5",
        ),
        Invalid(
            "def get_params(proj):\n    if proj.merged:\n        out = (proj.weight, proj.bias)\n"
            "    else:\n        out = (proj.weight, proj.bias, proj.lora_A)\n    return out\n",
            6, 5, "`get_params` returns 2 or 3 values here, depending on the path: `out` holds tuples of different sizes",
        ),
    ]

    def check(self, ctx: RuleContext) -> Iterable[Report]:
        yield from self._check_lambdas(ctx)
        # an autograd backward whose returns give PyTorch one count once the surplus `None`s it
        # drops are dropped (`dq, dk, *((None,) * 30)` next to `dq, dk`): LL401 holds that count
        # to forward's inputs; returns that still differ are left to the usual check
        judged = set()
        for c in find_autograd_classes(ctx.flow):
            rng = c.input_range() if c.backward is not None else None
            if rng is not None:
                counts = {gradient_count(r, c.backward.node, rng[1]) for r in c.backward.returns}
                if len(counts) == 1 and None not in counts:
                    judged.add(id(c.backward.node))
        for func in ctx.flow.functions:
            if id(func.node) in judged:
                continue
            returns = shape_checked_returns(func)
            if returns is None:
                continue
            reports = list(self._check_function(func, returns)) if returns else []
            reports += list(self._path_dependent(func))
            if not reports:
                continue
            if _private_with_starred_callers(ctx.tree, func):
                continue  # `q, *meta = _quantize(w)`: every caller takes a variable length
            if _len_dispatched(ctx, func.name):
                continue  # `parts = f(m); if len(parts) == 5: ...`: the callers read the variant
            if _mirrors_input_arity(func, returns):
                continue  # `x, mask = args` / `x, past, mask = args`: it gives back the arity it got
            guarded = flag_guarded_returns(func.node) & {id(r.node) for r in func.returns}
            if guarded:
                # an argument flag chooses the arity of the returns under it (`if output_attentions:
                # return x, attn`): a deliberate API. The other returns must still agree.
                rest = [r for r in returns if id(r.node) not in guarded]
                if rest and any(True for _ in self._check_function(func, rest)):
                    # they do not: report them, measured against every return as usual
                    at = {(r.node.lineno, r.node.col_offset) for r in returns if id(r.node) in guarded}
                    reports = [rep for rep in reports if (rep.line, rep.col) not in at]
                else:
                    reports = list(self._path_dependent(func, skip=guarded))
            yield from reports

    def _check_lambdas(self, ctx: RuleContext) -> Iterable[Report]:
        """`lambda m: (m.w, m.b) if m.merged else (m.w, m.b, m.s)`: the arms are its returns."""
        for lam in ctx.flow.by_type.get(T.Lambda, ()):
            arms = list(_arms(lam.body))
            if len(arms) < 2 or None in arms:
                continue
            sizes = {len(a.elts) for a in arms}
            if len(sizes) < 2 or 1 in sizes:
                continue
            counts = Counter(len(a.elts) for a in arms)
            ranked = counts.most_common()
            if len(ranked) > 2 or (ranked[0][1] == ranked[1][1] and len(arms) > 2):
                continue  # no clear majority: variants by design
            # the last arm (the `else`) is the lambda's usual result; an earlier one that differs is the slip
            major = ranked[0][0] if ranked[0][1] > ranked[1][1] else len(arms[-1].elts)
            witness = next(a for a in reversed(arms) if len(a.elts) == major)
            for a in arms:
                if len(a.elts) != major and not _tags_differ_nodes(a, witness):
                    yield Report(a.lineno, a.col_offset, a.end_lineno or a.lineno, a.end_col_offset or a.col_offset,
                                 f"this lambda gives {_values(len(a.elts))} here but {major} at line "
                                 f"{witness.lineno}, col {witness.col_offset + 1}")

    def _check_function(self, func: FunctionFlow, returns: list[ReturnRecord]) -> Iterable[Report]:
        exact = [r for r in returns if r.shape is not None and r.starred_head is None]
        starred = [r for r in returns if r.starred_head is not None]
        reported: set[int] = set()
        switched = _version_switched(func.node)

        def meant(r: ReturnRecord, witness: ReturnRecord) -> bool:
            # a shape chosen by the installed library's version, or a tagged result whose first
            # item names its variant (`("dense", w)` / `("lora", A, B)`), differs by design
            # and a 1-tuple is a sequence that happens to hold one item (`return (total,)` beside
            # `return (q, k, v)`), not a record with slots missing
            return (id(r.node) in switched or _tags_differ(r, witness)
                    or (witness.starred_head is None
                        and any(x.shape is not None and len(x.shape) == 1 for x in (r, witness))))

        # 1. arity: the clear majority wins (see _majority for ties)
        arity_major, arity_witness = _majority(exact, lambda r: len(r.shape))
        if arity_major is None:
            exact = []
        for r in exact:
            if len(r.shape) != arity_major and not meant(r, arity_witness):
                reported.add(id(r))
                yield self._report(func, r, _values(len(r.shape)), str(arity_major), arity_witness.line)
        # 2. nesting, among returns of the majority arity; a slot that some return fills with a
        # literal None says nothing about nesting (an optional pair is often None)
        same = [r for r in exact if len(r.shape) == arity_major]
        none_slots: set[int] = set()
        for r in same:
            none_slots |= r.site().none_slots
        norm = {id(r): tuple(None if i in none_slots else item for i, item in enumerate(r.shape)) for r in same}
        if len(set(norm.values())) > 1:
            shape_major, shape_witness = _majority(same, lambda r: norm[id(r)])
            for r in same if shape_witness is not None else ():
                if (norm[id(r)] != shape_major and _nesting_conflict(norm[id(r)], shape_major, func.name)
                        and not meant(r, shape_witness)):
                    reported.add(id(r))
                    yield self._report(func, r, describe_shape(r.shape), short_shape(shape_witness.shape),
                                       shape_witness.line)
        # 3. a starred return fixes a lower bound
        for s in starred:
            for r in exact:
                if id(r) not in reported and len(r.shape) < s.starred_head and not meant(r, s):
                    reported.add(id(r))
                    yield self._report(func, r, _values(len(r.shape)), f"at least {s.starred_head}", s.line)

    def _path_dependent(self, func: FunctionFlow, skip: frozenset = frozenset()) -> Iterable[Report]:
        """`return out` where `out` is a tuple of one size on some paths and another on others."""
        for r in func.returns:
            if not r.alt_shapes or id(r.node) in skip:
                continue
            sizes = sorted({len(sh) for sh in r.alt_shapes})
            if len(sizes) < 2:
                continue
            what = " or ".join(str(n) for n in sizes)
            node = r.node
            yield Report(node.lineno, node.col_offset, node.end_lineno or node.lineno,
                         node.end_col_offset or node.col_offset,
                         f"`{func.name}` returns {what} values here, depending on the path: "
                         f"`{r.value.id}` holds tuples of different sizes")

    def _report(self, func: FunctionFlow, r: ReturnRecord, here: str, other: str, line: int) -> Report:
        node = r.node
        message = f"`{func.name}` returns {here} here but {other} at line {line}"
        return Report(node.lineno, node.col_offset, node.end_lineno or node.lineno,
                      node.end_col_offset or node.col_offset, message)


def _len_dispatched(ctx: RuleContext, name: str) -> bool:
    """Does the module take `len()` of a name assigned a call of `name` (`parts = attention(m)` ...
    `if len(parts) == 5:`)? Its callers then dispatch on the variant returned."""
    cache = ctx.flow.cache.setdefault("ll101_len_of", {})
    if not cache:
        held: dict[str, set[str]] = {}
        measured: set[str] = set()
        for node in T.walk(ctx.tree):
            if isinstance(node, T.Assign) and isinstance(node.value, T.Call) and len(node.targets) == 1 \
                    and isinstance(node.targets[0], T.Name):
                called = node.value.func
                callee = called.attr if isinstance(called, T.Attribute) else getattr(called, "id", None)
                if callee:
                    held.setdefault(callee, set()).add(node.targets[0].id)
            elif isinstance(node, T.Call) and isinstance(node.func, T.Name) and node.func.id == "len" \
                    and len(node.args) == 1 and isinstance(node.args[0], T.Name):
                measured.add(node.args[0].id)
        cache.update({callee: bool(names & measured) for callee, names in held.items()})
        cache.setdefault("", False)  # computed, even when nothing is held
    return cache.get(name, False)


def _arms(node: T.expr):
    """The values a conditional expression can give: its tuple-literal arms, or None for an arm
    that is something else (a call, a name: its size is unknown)."""
    if isinstance(node, T.IfExp):
        yield from _arms(node.body)
        yield from _arms(node.orelse)
    elif isinstance(node, T.Tuple) and node.elts and not any(isinstance(e, T.Starred) for e in node.elts):
        yield node
    else:
        yield None


def _tags_differ_nodes(a: T.Tuple, b: T.Tuple) -> bool:
    """Both tuples lead with a different string literal: a tagged result."""
    first_a, first_b = a.elts[0], b.elts[0]
    return all(isinstance(f, T.Constant) and isinstance(f.value, str) for f in (first_a, first_b)) \
        and first_a.value != first_b.value


def _tags_differ(a: ReturnRecord, b: ReturnRecord) -> bool:
    """The two returns are tuple literals tagged apart (see `_tags_differ_nodes`)."""
    return all(isinstance(r.value, T.Tuple) and r.value.elts for r in (a, b)) \
        and _tags_differ_nodes(a.value, b.value)


def _mentions_version(test: T.expr) -> bool:
    for node in T.walk(test):
        word = node.id if isinstance(node, T.Name) else node.attr if isinstance(node, T.Attribute) else ""
        if "version" in word.lower():
            return True
    return False


def _version_switched(func: T.AST) -> set[int]:
    """Returns in either arm of an `if` that tests a version (`if torch_version >= (2, 4):`,
    `if is_transformers_version(">=", "4.40")`): the installed library chooses that shape."""
    return returns_under_tests(getattr(func, "body", []), _mentions_version)


def _mirrors_input_arity(func: FunctionFlow, returns) -> bool:
    """Does the function unpack one parameter as tuples of several sizes (`emb, mask = args` in
    one branch, `emb, past, mask = args` in the other), and return only arities among those
    sizes? A pipeline stage that takes and gives back 2 or 3 values by design (gpt-neox's soft
    embedding layer) is such a protocol: its output arity follows its input."""
    args = getattr(func.node, "args", None)
    if not isinstance(args, T.arguments):
        return False
    params = {a.arg for a in list(args.posonlyargs) + list(args.args) + list(args.kwonlyargs)}
    if args.vararg is not None:
        params.add(args.vararg.arg)
    sizes: dict[str, set[int]] = {}
    for node in T.walk(func.node):
        if (isinstance(node, T.Assign) and len(node.targets) == 1 and isinstance(node.value, T.Name)
                and node.value.id in params and isinstance(node.targets[0], (T.Tuple, T.List))
                and not any(isinstance(e, T.Starred) for e in node.targets[0].elts)):
            sizes.setdefault(node.value.id, set()).add(len(node.targets[0].elts))
    arities = {len(r.shape) for r in returns if r.shape is not None}
    return any(len(got) > 1 and arities <= got for got in sizes.values())


def _private_with_starred_callers(tree: T.Module, func: FunctionFlow) -> bool:
    """A module-private function (`_name`, at module level) whose every call in the module is the
    value of a starred unpacking (`q, *meta = _name(...)`): its callers are written for a tuple
    whose length varies, so different arities are its contract."""
    name = func.qualname
    if "." in name or not name.startswith("_") or name.startswith("__"):
        return False
    starred = other = 0
    for node in T.walk(tree):
        if isinstance(node, T.Name) and node.id == name and isinstance(node.ctx, T.Load):
            other += 1
        if (isinstance(node, T.Assign) and isinstance(node.value, T.Call) and isinstance(node.value.func, T.Name)
                and node.value.func.id == name and len(node.targets) == 1
                and isinstance(node.targets[0], (T.Tuple, T.List))
                and any(isinstance(e, T.Starred) for e in node.targets[0].elts)):
            starred += 1
    return starred > 0 and starred == other
