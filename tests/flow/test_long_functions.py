"""Long training functions: far more flag combinations than the path budget keeps.

A 600-line `train()` tests each of its `args.use_feature_i` flags twice (at set-up and again in
the step loop), so the paths double at every flag and the scope must forget some assumptions
(`analyzer.flow.state.MAX_PATHS`). What it forgets must not cost a finding that does not depend
on them: the one real unbound read near the end is reported, and its twin, which reads the name
under the same flag that guarded the binding, stays quiet. (A read the budget leaves quiet is
re-run on the name's slice of the function: `analyzer.flow.slicing`.)
"""

from __future__ import annotations

from analyzer import tree as T
from analyzer.flow.context import ModuleContext
from analyzer.flow.definite import analyze_module
from analyzer.flow.results import UseKind
from analyzer.flow.state import MAX_PATHS

FLAGS = 66


def training_function(read: str) -> str:
    """`train()` with FLAGS feature flags; `read` is the last statements before the return."""
    lines = [
        "def train(args, model, train_loader, eval_loader, optimizer, scheduler, logger):",
        "    if args.do_eval:",
        "        best_metric = evaluate(model, eval_loader)",
        "        logger.info(\"baseline %s\", best_metric)",
        "    global_step = 0",
    ]
    for i in range(FLAGS):
        lines += [
            f"    if args.use_feature_{i}:",
            f"        feature_{i} = build_feature(args, {i})",
            f"        feature_{i}.attach(model)",
            f"        logger.info(\"feature {i} on\")",
            f"    if args.log_option_{i}:",
            f"        logger.info(\"option {i}: %s\", args.option_{i})",
        ]
    lines += [
        "    for epoch in range(args.num_epochs):",
        "        model.train()",
        "        for batch in train_loader:",
        "            outputs = model(**batch)",
        "            loss = outputs.loss",
    ]
    for i in range(FLAGS):
        lines += [
            f"            if args.use_feature_{i}:",
            f"                loss = feature_{i}.adjust(loss, batch)",
            f"                logger.debug(\"feature {i}: %s\", feature_{i}.value())",
        ]
    lines += [
        "            loss.backward()",
        "            optimizer.step()",
        "            scheduler.step()",
        "            optimizer.zero_grad()",
        "            global_step += 1",
        "    model.save_pretrained(args.output_dir)",
        *read.splitlines(),
        "    return global_step",
    ]
    return "\n".join(lines) + "\n"


def _possibly_unbound(source: str) -> list[tuple[int, str, str]]:
    flow = analyze_module(T.parse(source)[1])
    return sorted((u.node.lineno, u.kind.value, u.name) for u in flow.uses if u.kind != UseKind.UNDEFINED)


def test_the_function_is_long_and_exceeds_the_budget():
    source = training_function("    logger.info(\"best %s\", best_metric)")
    assert len(source.splitlines()) >= 600
    assert 2 ** FLAGS > MAX_PATHS


def test_unbound_read_near_the_end_of_a_long_function_is_reported():
    source = training_function("    logger.info(\"best %s\", best_metric)")
    read_line = len(source.splitlines()) - 1
    assert _possibly_unbound(source) == [(read_line, "maybe", "best_metric")]


def test_read_under_the_flag_that_guarded_the_binding_is_quiet():
    source = training_function("    if args.do_eval:\n        logger.info(\"best %s\", best_metric)")
    assert _possibly_unbound(source) == []


def test_read_under_a_forgotten_unrelated_flag_is_still_reported():
    # the test of `use_feature_3` comes after its facts were forgotten: it blurs only `feature_3`
    source = training_function("    if args.use_feature_3:\n        logger.info(\"best %s\", best_metric)")
    read_line = len(source.splitlines()) - 1
    assert _possibly_unbound(source) == [(read_line, "maybe_guarded", "best_metric")]


def test_feature_read_without_its_flag_is_reported_after_the_loop():
    # `feature_5` is bound only under its flag; read unguarded after the loop it is a real bug
    source = training_function("    feature_5.detach(model)")
    read_line = len(source.splitlines()) - 1
    assert _possibly_unbound(source) == [(read_line, "maybe", "feature_5")]


def test_block_bindings_are_keyed_by_every_statement():
    # a slice's block can start with the same statement as the original block and have its
    # length: the memo of the bindings of each block must tell them apart
    _, tree = T.parse("def f(a):\n    x = 1\n    y = 2\n    z = 3\n")
    module = ModuleContext(tree)
    first, second, third = tree.body[0].body
    assert module.bindings_of([first, second]).bound == {"x", "y"}
    assert module.bindings_of([first, third]).bound == {"x", "z"}
    assert module.bindings_of([first, second]).bound == {"x", "y"}
