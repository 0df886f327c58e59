"""Watched functions on real parts: the seed bug in a LoRA helper's disabled-adapter branch,
caught in a tiny PEFT Llama's training loop, with the static return lines in the message; and
the tracer's own safety (identity, exceptions, restore, threads)."""

from __future__ import annotations

import os
import threading
import warnings

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("peft")
pytest.importorskip("transformers")

import analyzer.runtime as rt  # noqa: E402
from tests.runtime.conftest import FIXTURES, helper_line  # noqa: E402

# per forward, the fast path calls the helper once per q_proj and v_proj of each of 2 layers
CALLS_PER_FORWARD = 4


def _model(getter: str, five_slots: bool = False):
    import tiny_llama

    model = tiny_llama.build()
    assert tiny_llama.use_fast_path(model, getter=getter, five_slots=five_slots) == CALLS_PER_FORWARD
    return model


def _six_lines(func: str) -> tuple[int, int]:
    return (helper_line(func, "return W, quant_state, None, None, None, base_layer.bias"),
            helper_line(func, "return W, quant_state, A, B, proj.scaling[adapter], base_layer.bias"))


def test_seed_bug_raises_at_the_first_disabled_adapter_call_with_the_static_lines():
    import tiny_llama

    model = _model("get_lora_parameters_bias")
    with rt.checking("raise"):
        rt.watch_model(model)
        rt.watch("lora_helpers:get_lora_parameters_bias")
        with pytest.raises(rt.RuntimeViolation) as err:
            tiny_llama.train(model, steps=4, reference_at=(2,))
    first, last = _six_lines("get_lora_parameters_bias")
    call = 2 * CALLS_PER_FORWARD + 1  # steps 0 and 1 ran clean; step 2 starts with the reference forward
    assert str(err.value) == (f"get_lora_parameters_bias returned 5 values on call {call}; "
                              f"its returns at lines {first} and {last} produce 6")


def test_warn_mode_warns_once_goes_on_and_counts():
    import tiny_llama

    model = _model("get_lora_parameters_bias", five_slots=True)
    with rt.checking("warn"):
        rt.watch_model(model)
        rt.watch("lora_helpers:get_lora_parameters_bias")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            losses = tiny_llama.train(model, steps=6, reference_at=(1, 3, 5))
        ours = [w for w in caught if issubclass(w.category, rt.RuntimeViolationWarning)]
        assert len(losses) == 6
        assert len(ours) == 1, [str(w.message) for w in ours]
        assert f"returned 5 values on call {CALLS_PER_FORWARD + 1};" in str(ours[0].message)
        (only,) = rt.reports()
        assert only.count == 3 * CALLS_PER_FORWARD
        with warnings.catch_warnings(record=True) as at_end:
            warnings.simplefilter("always")
            rt.disable()
    (summary,) = at_end
    where = helper_line("fast_lora_forward_five", "globals()[getter](proj)[:5]")
    # one summary for the run, pointing at the user's call of the helper, not at lora-lint or contextlib
    assert str(summary.message) == ("lora-lint runtime summary: 1 site went wrong\n"
                                    f"  {os.path.relpath(FIXTURES / 'lora_helpers.py')}:{where}: {only.message} (12 times)")
    assert (summary.filename.endswith("lora_helpers.py"), summary.lineno) == (True, where)


def test_clean_helper_and_model_report_nothing():
    import tiny_llama

    model = _model("get_lora_parameters_fixed")
    with rt.checking("raise"):
        assert rt.watch_model(model) == 8
        rt.watch("lora_helpers:get_lora_parameters_fixed")
        tiny_llama.train(model, steps=4, reference_at=(1, 3))
        model.merge_adapter()  # the helper's merged branch, and merged layers under the hooks
        with torch.no_grad():
            model(input_ids=torch.randint(0, 128, (2, 8)))
        assert rt.reports() == []


def test_log_mode_writes_one_jsonl_line_per_site_and_totals(tmp_path):
    import json

    import tiny_llama

    model = _model("get_lora_parameters_bias", five_slots=True)
    with rt.checking("log", log_dir=str(tmp_path)):
        rt.watch("lora_helpers:get_lora_parameters_bias")
        tiny_llama.train(model, steps=3, reference_at=(0, 2))
    records = [json.loads(line) for line in (tmp_path / "lora-lint-rank0.jsonl").read_text().splitlines()]
    assert [(r["site"], r["count"], r["summary"]) for r in records] == [
        ("get_lora_parameters_bias:arity", 1, False), ("get_lora_parameters_bias:arity", 8, True)]


def _mismatched(flag):
    if flag:
        return 1, 2  # noqa: LL101 (the mismatch under test)
    return 1, 2, 3


def test_tie_between_return_arities_expects_the_longer_one():
    with rt.checking("raise"):
        watched = rt.watch(_mismatched)
        assert watched(False) == (1, 2, 3)
        with pytest.raises(rt.RuntimeViolation, match=r"_mismatched returned 2 values on call 2; its returns at "
                                                       r"line \d+ produce 3$"):
            watched(True)


def test_no_source_learns_the_arity_from_the_first_call():
    namespace: dict = {}
    exec("def made(n):\n    return tuple(range(n)) if n else None\n", namespace)  # no file: no static contract
    with rt.checking("raise"):
        made = rt.watch(namespace["made"])
        assert made(0) is None  # None teaches nothing without source
        made(6)
        made(6)
        with pytest.raises(rt.RuntimeViolation, match=r"^made returned 5 values on call 4; call 2 returned 6 "):
            made(5)


def test_explicit_expect_and_none_slots():
    def quad(p):
        if p:
            return 1, None, 3, 4
        return 1, 2, None, 4

    with rt.checking("raise"):
        assert rt.watch(quad, expect=rt.Expect(arity=4, not_none="all"))(True) == (1, None, 3, 4)

        def sloppy(value):
            return 1, value, 3, 4

        checked = rt.watch(sloppy, expect=rt.Expect(not_none="all"))
        checked(2)
        with pytest.raises(rt.RuntimeViolation, match="sloppy returned None in slot 1 on call 2; its source never "
                                                      "returns None in any slot"):
            checked(None)

        def sloppy_too(value):
            return 1, value, 3, 4

        five = rt.watch(sloppy_too, expect=rt.Expect(arity=5))
        with pytest.raises(rt.RuntimeViolation, match=r"returned 4 values on call 1; expected 5 \(watch\(expect"):
            five(0)


def test_returns_of_unknown_shape_are_not_judged():
    def passthrough(x):
        if x is None:
            return 1, 2
        return tuple(x)  # a shape the source does not show

    with rt.checking("raise"):
        watched = rt.watch(passthrough)
        watched(None)
        watched([1, 2, 3])
        assert rt.reports() == []


class Holder:
    @staticmethod
    def pair(x):
        return x, x

    @classmethod
    def triple(cls, x):
        return cls, x, x

    def single(self):
        return (self,)


def test_methods_keep_their_kind():
    holder = Holder()
    with rt.checking("raise"):
        for name in ("pair", "triple", "single"):
            rt.watch(f"{__name__}:Holder.{name}")
        assert Holder.pair(1) == (1, 1) and holder.pair(2) == (2, 2)
        assert Holder.triple(1) == (Holder, 1, 1)
        assert holder.single() == (holder,)
        assert isinstance(Holder.__dict__["pair"], staticmethod)
    assert Holder.__dict__["pair"].__func__.__name__ == "pair" and not hasattr(Holder.pair, "__lora_lint_watched__")
    assert isinstance(Holder.__dict__["triple"], classmethod)


def test_identity_exceptions_and_restore():
    import lora_helpers

    sentinel = (object(), object())

    def f(flag):
        if flag:
            raise KeyError("boom")
        return sentinel

    original = lora_helpers.get_lora_parameters_fixed
    code = original.__code__
    with rt.checking("raise"):
        g = rt.watch(f)
        assert g is f and g(False) is sentinel
        with pytest.raises(KeyError, match="boom") as err:
            g(True)
        assert err.value.args == ("boom",)
        rt.watch("lora_helpers:get_lora_parameters_fixed")
        assert lora_helpers.get_lora_parameters_fixed is original and original.__code__ is not code
    assert lora_helpers.get_lora_parameters_fixed is original and original.__code__ is code


def test_thread_safe_counting():
    def pair():
        return 1, 2

    def bad():
        return 1, 2, 3

    with rt.checking("warn"):
        g = rt.watch(pair)
        threads = [threading.Thread(target=lambda: [g() for _ in range(2000)]) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert rt.reports() == []
        assert g() == (1, 2)
        count = rt.watch(bad, expect=rt.Expect(arity=2))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            threads = [threading.Thread(target=lambda: [count() for _ in range(2000)]) for _ in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            (only,) = rt.reports()
            assert only.count == 16000
            with pytest.raises(rt.RuntimeViolation, match="on call 16001;"):
                with rt.checking("raise"):
                    count()


def test_rank_prefix_from_environment(monkeypatch):
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    with rt.checking("raise"):
        g = rt.watch(_mismatched)
        with pytest.raises(rt.RuntimeViolation, match=r"^\[rank 1/2\] _mismatched returned 2 values"):
            g(True)


def test_checks_are_skipped_while_compiling(monkeypatch):
    with rt.checking("raise"):
        g = rt.watch(_mismatched)
        monkeypatch.setattr(rt.state.STATE, "is_compiling", lambda: True)
        assert g(True) == (1, 2)


def _pair(x):
    return x + 1, x * 2


def test_watched_function_compiles_without_graph_breaks():
    with rt.checking("raise"):
        watched = rt.watch(_pair)

        def step(x):
            a, b = watched(x)
            return a + b

        try:
            explained = torch._dynamo.explain(step)(torch.randn(3))
            assert explained.graph_break_count == 0, explained.break_reasons
            assert torch.compile(step, backend="eager")(torch.ones(2)).tolist() == [4.0, 4.0]
        finally:
            torch._dynamo.reset()
        assert rt.reports() == []
