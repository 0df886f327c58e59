"""lora-lint as a flake8 plugin: `flake8 --select LL path/`.

flake8 fills the constructor's arguments by name (`tree`, `filename`, `lines`) and reads
`(line, 0-based column, "LLnnn message", type)` tuples from `run()`. Every rule runs here and
flake8 itself decides what is shown (`--select`, `--extend-ignore`, `per-file-ignores`, `noqa`);
rules that are off by default (LL204) run only when named by their full code
(`--extend-select LL204`): `flake8 --select LL` reports exactly what `lora-lint` reports by default.
flake8 reads its own configuration (`.flake8`, `setup.cfg`, `tox.ini`), not `[tool.lora-lint]`.

flake8 hands the plugin one file at a time, so cross-file rules (LL301) see that file alone: the
findings are those of `lora-lint FILE`. A file flake8 cannot parse is reported by flake8 (E999),
not as LL001 (flake8 parses with the interpreter's `ast` for its own checks).
"""

from __future__ import annotations

from typing import Iterator, Optional, Sequence

from analyzer import __version__
from analyzer import rules as registry
from analyzer.engine import lint_source
from analyzer.noqa import alias_silenced
from analyzer.selection import Selection

__all__ = ["LoraLintChecker", "default_off_codes"]

# every rule, including those off by default: flake8's decision engine filters them
_ALL = Selection(select=("LL",))


def default_off_codes(rules: Optional[Sequence[type]] = None) -> list[str]:
    """Codes of the rules that run only when selected explicitly."""
    return [r.code for r in (registry.ALL_RULES if rules is None else rules) if not getattr(r, "default_enabled", True)]


class LoraLintChecker:
    """The flake8 checker: lints one file with the engine and formats the findings for flake8."""

    name = "lora-lint"
    version = __version__
    disable_noqa = False  # set from flake8's options before any file is checked
    # opt-in rules the user named by their full code (`--extend-select LL204`); a prefix such as
    # `--select LL` picks the default rules only, so flake8 reports what `lora-lint` does
    opted_in: frozenset = frozenset()

    def __init__(self, tree: object, filename: str, lines: Sequence[str]) -> None:
        # `tree` is requested only so that flake8 runs this as a whole-file plugin. It is flake8's
        # `ast` tree and is not read: the engine parses `lines` with LibCST, as the CLI does, so
        # both report the same findings at the same positions whatever the interpreter reads
        self.filename = filename
        self.lines = lines

    @classmethod
    def add_options(cls, option_manager) -> None:
        off = default_off_codes()
        if off:
            option_manager.extend_default_ignore(off)

    @classmethod
    def parse_options(cls, options) -> None:
        cls.disable_noqa = bool(getattr(options, "disable_noqa", False))
        named = {str(c).strip().upper() for key in ("select", "extend_select")
                 for c in (getattr(options, key, None) or ())}
        cls.opted_in = frozenset(code for code in default_off_codes() if code in named)

    def _line(self, lineno: int) -> str:
        return self.lines[lineno - 1] if 1 <= lineno <= len(self.lines) else ""

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        text = "".join(self.lines)
        off = set(default_off_codes()) - self.opted_in
        # flake8 applies `# noqa` itself (and honours --disable-noqa), so the engine must not
        for d in lint_source(text, self.filename, _ALL, honor_noqa=False):
            if d.code in off:
                continue
            # ...but it knows nothing of our aliases: `# noqa: F821` silences LL201 here too
            if not self.disable_noqa and alias_silenced(self._line(d.line), d.code, self._line(d.line - 1)):
                continue
            yield d.line, d.column - 1, f"{d.code} {d.message}", type(self)
