"""Rule-agnostic flow analysis: definite assignment and return shapes (see `definite`)."""

from analyzer.flow.definite import analyze_function_returns, analyze_module
from analyzer.flow.results import FunctionFlow, ModuleFlow, NameUse, ReturnRecord, UnpackSite, UseKind

__all__ = [
    "analyze_module",
    "analyze_function_returns",
    "NameUse",
    "UseKind",
    "UnpackSite",
    "ReturnRecord",
    "FunctionFlow",
    "ModuleFlow",
]
