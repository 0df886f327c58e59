"""Runtime assertion mode: check what LoRA code really returns while a job runs.

    import analyzer.runtime as rt
    rt.enable("raise")            # or LORA_LINT_RUNTIME=warn and rt.enable()
    rt.watch_model(peft_model)    # every LoRA layer, on each forward
    helper = rt.watch(helper)     # a function's return arity, from its source's return lines
    with rt.checking("warn"): ... # on for a block only

Modes follow torch's debug switches: off | log | warn | raise. Nothing is wrapped while off.
Importing this package imports neither torch nor libcst.
"""

from analyzer.runtime.core import (
    MODES,
    Expect,
    RuntimeViolation,
    check_consistency,
    checking,
    current_mode,
    disable,
    enable,
    lora_fingerprint,
    reports,
    watch,
    watch_function_class,
    watch_model,
    watch_module,
)

__all__ = ["MODES", "Expect", "RuntimeViolation", "check_consistency", "checking", "lora_fingerprint", "current_mode", "disable", "enable", "reports",
           "watch", "watch_function_class", "watch_model", "watch_module"]
