"""Values, not only counts: each slot of a watched function's tuple keeps the kinds it has held,
and a drift is a violation - on real tensors, with the rules of `analyzer.runtime.kinds`."""

from __future__ import annotations

import gc
import weakref

import pytest

torch = pytest.importorskip("torch")

import analyzer.runtime as rt  # noqa: E402

STALE = True  # a module-level name a return reads by mistake (see `stale_params`)


def stale_params(w, disabled):
    if disabled:
        return w, None, STALE
    return w, w, w.grad


def params(w, disabled):
    if disabled:
        return w, None, None
    return w, w, 2.0


def test_tensor_slot_receiving_a_bool_names_the_return_line_and_the_stale_global():
    w = torch.ones(2, requires_grad=True)
    w.grad = torch.zeros(2)
    with rt.checking("raise"):
        rt.watch(stale_params)
        stale_params(w, False)
        with pytest.raises(rt.RuntimeViolation) as err:
            stale_params(w, True)
    line = stale_params.__code__.co_firstlineno + 2
    assert str(err.value) == (
        "stale_params returned a bool (True) in slot 2 on call 2; earlier calls returned Tensor on cpu (from call 1) "
        f"there. It came from the return at line {line} (the module-level name `STALE`, now a bool (True)): a value "
        "left by module-level code, not one computed by this call")


def test_optional_slot_that_held_none_may_not_hold_a_flag_in_either_order():
    w = torch.ones(2)  # no grad: `w.grad` is None, from an expression, not a literal None
    for order in ((False, True), (True, False)):
        with rt.checking("raise"):
            rt.watch(stale_params)
            stale_params(w, order[0])
            with pytest.raises(rt.RuntimeViolation, match=r"in slot 2 on call 2; .* No return of stale_params writes a "
                                                          r"literal None in slot 2"):
                stale_params(w, order[1])


def test_literal_none_slots_and_number_slots_are_not_judged_wrong():
    w = torch.ones(2)
    with rt.checking("raise"):
        rt.watch(params)
        for disabled in (True, False, True, False):  # None first, then the float: a literal None slot
            params(w, disabled)
        assert rt.reports() == []


def test_kinds_learned_without_source_and_int_float_are_one_number():
    namespace: dict = {}
    exec("def made(x, s):\n    return x, s\n", namespace)  # no file: kinds come from the first calls
    with rt.checking("raise"):
        made = rt.watch(namespace["made"])
        made(torch.ones(1), 2.0)
        made(torch.ones(1), 2)
        with pytest.raises(rt.RuntimeViolation, match=r"^made returned a str \('2'\) in slot 1 on call 3; earlier "
                                                      r"calls returned float \(from call 1\), int \(from call 2\)"):
            made(torch.ones(1), "2")
        with pytest.raises(rt.RuntimeViolation, match=r"^made returned a list in slot 0 on call 4; earlier calls "
                                                      r"returned Tensor on cpu"):
            made([1], 2.0)


def test_no_tensor_is_kept():
    with rt.checking("raise"):
        rt.watch(params)
        w = torch.ones(4)
        out = params(w, False)
        ref = weakref.ref(w)
        del w, out
        gc.collect()
        assert ref() is None


def test_warn_mode_counts_drifts_per_slot():
    w = torch.ones(2)
    w.grad = torch.zeros(2)
    with rt.checking("warn"):
        rt.watch(stale_params)
        with pytest.warns(rt.RuntimeViolationWarning, match="in slot 2 on call 2"):
            for disabled in (False, True, False, True, True):
                stale_params(w, disabled)
        (only,) = rt.reports()
        assert (only.site, only.count) == ("stale_params:kind:2", 3)
