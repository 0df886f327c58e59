"""The engine never raises and never reports an internal error, on generated valid programs and on
arbitrary bytes; every fix it offers re-parses and is idempotent.

hypothesmith generates programs two ways: from Python's grammar (`from_grammar`, any token sequence
the grammar allows, checked with `compile`) and from LibCST node types (`from_node`: structured
modules and functions). Generated programs rarely contain what a fix is offered for, so
`fixable_programs` builds the LL103 shape (`x in ("lit")`) around generated literals, spacing and
contexts. The CI share is small and deterministic; `benchmarks/fuzz_long.py` runs the same checks
over tens of thousands of programs.
"""

from __future__ import annotations

import hypothesmith
import libcst
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.engine import lint_source
from tests.reliability.invariants import problems

_CI = settings(
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)

# compile() inside hypothesmith warns about odd literals it generates (`"a"()`, `1 is 1`)
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")


@settings(_CI, max_examples=150)
@given(code=hypothesmith.from_grammar())
def test_grammar_programs(code):
    assert problems(code) == []


@settings(_CI, max_examples=60)
@given(code=hypothesmith.from_node(libcst.Module))
def test_module_programs(code):
    assert problems(code) == []


@settings(_CI, max_examples=60)
@given(code=hypothesmith.from_node(libcst.FunctionDef))
def test_function_programs(code):
    # functions are where the flow analysis does most of its work (returns, locals, closures)
    assert problems(code) == []


_literals = st.one_of(
    st.text(max_size=12).map(repr),
    st.binary(max_size=6).map(repr),
    st.integers().map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["'q_proj'", '"lora_A"', "r'\\d+'", "'caf\u00e9'", "'\U0001f600'", "1_000", "0x1F", "'a' 'b'"]),
)
_space = st.sampled_from(["", " ", "  ", "\t"])
_contexts = st.sampled_from([
    "def f(name):\n    return name in {p}\n",
    "def f(name):\n    return name not in {p}\n",
    "for m in {p}:\n    print(m)\n",
    "x = [c for c in {p}]\n",
    "y = {p}[0]\n",
    "cfg = dict(target_modules={p}, r=8)\n",
    "if n in {p} and n in {p}:\n    pass\n",
])


@st.composite
def fixable_programs(draw):
    lit = draw(_literals)
    p = "(" + draw(_space) + lit + draw(_space) + ")"
    body = draw(_contexts).replace("{p}", p)
    head = draw(st.sampled_from(["", "# caf\u00e9 \U0001f600\n", "s = '\u00e9\u00e9'; t = 1\n"]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return (head + body).replace("\n", newline)


@settings(_CI, max_examples=60)
@given(code=fixable_programs())
def test_fixes_on_generated_literals(code):
    assert problems(code) == []


@settings(_CI, max_examples=100)
@given(raw=st.binary(max_size=300))
def test_arbitrary_bytes_never_raise_or_report_an_internal_error(raw):
    diagnostics = lint_source(raw, "bytes.py")
    assert not [d for d in diagnostics if d.code == "LL000"]
    assert all(d.line >= 1 and d.column >= 1 for d in diagnostics)


_noise = st.sampled_from([b"\x00", b"\r", b"\n", b"\r\n", b"\t", b"\x0c", b"\xef\xbb\xbf", b"\xff", b"\xe9",
                          b"(", b")", b":", b"\\", b"'", b'"""', b"# coding: latin-1\n", b"# coding: rot13\n",
                          b"    ", b"lambda", b"yield", b"return", b"\xc3\xa9", b"\xf0\x9f\x98\x80"])
_SEED = (b"import torch\n\n\ndef get(proj, x):\n    if proj.merged:\n        return proj.weight, None\n"
         b"    for name in ('q_proj',):\n        y = x @ proj.lora_A[name]\n    return proj.weight, y\n")


@settings(_CI, max_examples=100)
@given(edits=st.lists(st.tuples(st.integers(0, len(_SEED)), _noise), min_size=1, max_size=4))
def test_corrupted_programs_never_raise_or_report_an_internal_error(edits):
    raw = bytearray(_SEED)
    for pos, noise in edits:
        raw[pos:pos] = noise
    diagnostics = lint_source(bytes(raw), "mutant.py")
    assert not [d for d in diagnostics if d.code == "LL000"]
    assert all(d.line >= 1 and d.column >= 1 for d in diagnostics)
