"""Runtime assertion mode: check what LoRA code really returns while a job runs.

    LORA_LINT_RUNTIME=raise python train.py            # no code change (start-up hook)
    python -m analyzer.runtime --mode raise train.py   # the launcher

    import analyzer.runtime as rt
    rt.enable("raise")            # every PEFT LoRA layer and your return-tuple helpers, by default
    rt.watch(helper)              # more: arity from its return lines, and each slot's kind of value
    rt.watch_model(peft_model)    # a model's LoRA layers, explicitly
    with rt.checking("warn"): ... # on for a block only, watching what the block asks for

Modes follow torch's debug switches: off | log | warn | raise. Nothing is changed while off.
Importing this package imports neither torch nor libcst and reads no environment variable.
"""

from analyzer.runtime.autograd import watch_function_class
from analyzer.runtime.consistency import check_consistency, lora_fingerprint
from analyzer.runtime.contracts import Expect
from analyzer.runtime.functions import watch, watch_module
from analyzer.runtime.lora import watch_model
from analyzer.runtime.report import Report, RuntimeViolation, RuntimeViolationWarning, reports
from analyzer.runtime.state import ENV_VAR, LOG_DIR_ENV_VAR, MODES, current_mode
from analyzer.runtime.switches import checking, disable, enable

__all__ = ["ENV_VAR", "LOG_DIR_ENV_VAR", "MODES", "Expect", "Report", "RuntimeViolation", "RuntimeViolationWarning",
           "check_consistency", "checking", "current_mode", "disable", "enable", "lora_fingerprint", "reports",
           "watch", "watch_function_class", "watch_model", "watch_module"]
