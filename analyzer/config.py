"""`[tool.lora-lint]` in pyproject.toml: finding it, reading it strictly, and merging the flags.

The configuration is the nearest `pyproject.toml` holding a `[tool.lora-lint]` table, walking up
from the folder that holds every linted path. Relative paths and patterns in it are relative to
that file's folder. Any key or code this module does not know is a `ConfigError` (the CLI exits 2
with its text): a typo must never lint with fewer rules.

    [tool.lora-lint]
    select = ["LL"]                 # codes or prefixes to run (default: the default-on rules)
    ignore = ["LL202"]              # codes or prefixes to skip
    extend-select = ["LL9"]         # added to select (or to the defaults)
    extend-ignore = []              # added to ignore
    exclude = ["build", "tests/data/*.py"]
    per-file-ignores = { "tests/*" = ["LL202"] }
    jobs = 4                        # worker processes (default: all cores)
    cache-dir = ".lora-lint-cache"  # default: .lora-lint-cache next to this file
    force-exclude = false           # true: `exclude` applies to files named on the command line too
    target-version = "py310"        # the Python the code runs on: its syntax and builtins
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass
from typing import Any, Iterable, Optional, Sequence

from analyzer.selection import SUPPORTED_VERSIONS, Selection, parse_target_version
from analyzer import rules as registry
from analyzer.rules import ENGINE_CODES

__all__ = ["Config", "ConfigError", "find_config", "load_config", "parse_codes", "resolve_selection", "RuleLayer",
           "known_codes", "path_matches", "project_root", "DEFAULT_CACHE_DIR"]

DEFAULT_CACHE_DIR = ".lora-lint-cache"
_KEYS = ("select", "ignore", "extend-select", "extend-ignore", "exclude", "per-file-ignores", "jobs", "cache-dir",
         "force-exclude", "target-version")
# a `[tool.lora-lint]` table or a dotted `tool.lora-lint.key`, spotted without a TOML parser. Loose
# on purpose: a malformed header (`[tool.lora-lint`) must count as ours, so that its TOML error is
# reported instead of the file being passed over as someone else's.
_SECTION = re.compile(r"""^[ \t]*\[*[ \t]*tool[ \t]*\.[ \t]*["']?lora-lint\b""", re.MULTILINE)
# where tomllib/tomli put the position of a syntax error in their message (before Python 3.14,
# which also sets `lineno`/`colno`)
_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


class ConfigError(Exception):
    """Bad configuration: the message says which file, key and value, and why."""


@dataclass(frozen=True)
class Config:
    """One `[tool.lora-lint]` table, validated. `path` is None when no file configures the run."""

    path: Optional[str] = None
    root: str = "."
    select: Optional[tuple[str, ...]] = None
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    extend_ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    jobs: Optional[int] = None
    cache_dir: Optional[str] = None  # absolute
    force_exclude: bool = False
    target_version: Optional[str] = None  # "3.10"

    def layer(self) -> RuleLayer:
        return RuleLayer(self.select, self.ignore, self.extend_select, self.extend_ignore)

    def excluded(self, path: str) -> bool:
        return any(path_matches(path, self.root, pat) for pat in self.exclude)

    def ignored_here(self, path: str) -> tuple[str, ...]:
        """Codes and prefixes that per-file-ignores silences in `path`."""
        out: list[str] = []
        for pattern, codes in self.per_file_ignores:
            if path_matches(path, self.root, pattern):
                out.extend(codes)
        return tuple(out)


def known_codes() -> set[str]:
    return {r.code for r in registry.ALL_RULES} | set(ENGINE_CODES)


def parse_codes(items: Iterable[str], where: str) -> tuple[str, ...]:
    """Upper-cased codes or prefixes; each must start at least one known code."""
    known = known_codes()
    out = []
    for item in items:
        if not isinstance(item, str):
            raise ConfigError(f"{where}: expected a rule code as a string, got {item!r}")
        for part in item.replace(" ", ",").split(","):
            part = part.strip().upper()
            if not part:
                continue
            if not any(code.startswith(part) for code in known):
                raise ConfigError(f"{where}: unknown rule code or prefix {part!r} "
                                  f"(known: {', '.join(sorted(known))})")
            out.append(part)
    return tuple(out)


@dataclass(frozen=True)
class RuleLayer:
    """One source of rule choices (the config file, or the command line)."""

    select: Optional[tuple[str, ...]] = None  # None: keep what the layers below chose
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    extend_ignore: tuple[str, ...] = ()


def resolve_selection(*layers: RuleLayer) -> Selection:
    """The engine's Selection naming every enabled rule code exactly.

    Layers apply in order over the defaults (the default-on rules). A layer with `select` starts
    afresh from it; within a layer the longest matching entry decides (ignore wins a tie), and a
    rule no entry matches keeps its state from below (off, when the layer has `select`)."""
    enabled = {r.code: bool(r.default_enabled) for r in registry.ALL_RULES}
    for layer in layers:
        chosen = tuple(layer.select or ()) + layer.extend_select
        dropped = layer.ignore + layer.extend_ignore
        for code in enabled:
            best_sel = max((len(p) for p in chosen if code.startswith(p)), default=-1)
            best_ign = max((len(p) for p in dropped if code.startswith(p)), default=-1)
            if best_sel >= 0 or best_ign >= 0:
                enabled[code] = best_sel > best_ign
            elif layer.select is not None:
                enabled[code] = False
    codes = tuple(code for code, on in enabled.items() if on)
    if not codes:
        return Selection(ignore=("LL",))  # an empty `select` would mean "the defaults"
    return Selection(select=codes)


def path_matches(path: str, root: str, pattern: str) -> bool:
    """flake8-like matching: a pattern with a slash matches the path relative to `root` or one of
    its folders; a bare pattern matches any single component (file or folder name)."""
    rel = os.path.relpath(os.path.abspath(path), os.path.abspath(root)).replace(os.sep, "/")
    pat = pattern.replace(os.sep, "/").rstrip("/")
    if pat.startswith("./"):
        pat = pat[2:]
    if not pat:
        return False
    parts = rel.split("/")
    if "/" in pat:
        if rel.startswith("../"):
            return fnmatch.fnmatchcase(os.path.abspath(path).replace(os.sep, "/"), pat)
        return any(fnmatch.fnmatchcase("/".join(parts[:i]), pat) for i in range(1, len(parts) + 1))
    return any(fnmatch.fnmatchcase(part, pat) for part in parts if part not in ("..", "."))


def _load_toml(path: str) -> Optional[dict]:
    """The parsed file; None when it does not mention `tool.lora-lint` at all."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    text = raw.decode("utf-8", errors="replace")
    mentions = _SECTION.search(text) is not None
    try:
        import tomllib as toml  # Python 3.11+
    except ModuleNotFoundError:
        try:
            import tomli as toml  # type: ignore[no-redef]
        except ModuleNotFoundError:
            if mentions:
                raise ConfigError(f"{path}: has a [tool.lora-lint] table, but reading TOML needs Python 3.11 or "
                                  "the `tomli` package (pip install tomli)") from None
            return None
    try:
        return toml.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        if mentions:
            raise ConfigError(f"{path}: not valid TOML: not UTF-8 at byte {exc.start}") from None
        return None
    except toml.TOMLDecodeError as exc:
        if mentions:
            raise ConfigError(_toml_error(path, exc)) from None
        return None  # someone else's broken file; not ours to judge


def _toml_error(path: str, exc: Exception) -> str:
    """`path:line:col: not valid TOML: reason`, the position compilers and linters print."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    line, col = getattr(exc, "lineno", None), getattr(exc, "colno", None)
    m = _TOML_POSITION.search(text)
    if m:
        text = text[: m.start()]
        line, col = line or int(m.group(1)), col or int(m.group(2))
    where = f"{path}:{line}:{col}" if line else path
    return f"{where}: not valid TOML: {text}"


def _section(data: Optional[dict]) -> Optional[dict]:
    if not data:
        return None
    tool = data.get("tool")
    if not isinstance(tool, dict) or "lora-lint" not in tool:
        return None
    return tool["lora-lint"]


def _start_folder(paths: Sequence[str]) -> str:
    folders = []
    for p in paths or ["."]:
        ap = os.path.abspath(p)
        folders.append(ap if os.path.isdir(ap) else os.path.dirname(ap))
    try:
        return os.path.commonpath(folders)
    except ValueError:  # different drives
        return os.path.abspath(".")


def find_config(paths: Sequence[str]) -> Optional[str]:
    """The nearest pyproject.toml with a `[tool.lora-lint]` table above the linted paths."""
    folder = _start_folder(paths)
    while True:
        candidate = os.path.join(folder, "pyproject.toml")
        if os.path.isfile(candidate) and _section(_load_toml(candidate)) is not None:
            return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def project_root(paths: Sequence[str]) -> str:
    """Where the default cache lives without a config: the nearest folder above the paths with a
    pyproject.toml or .git, else the current folder."""
    folder = _start_folder(paths)
    while True:
        if os.path.exists(os.path.join(folder, "pyproject.toml")) or os.path.exists(os.path.join(folder, ".git")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return os.path.abspath(".")
        folder = parent


def _string_list(value: Any, where: str) -> list[str]:
    if isinstance(value, str) or not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of strings, got {value!r}")
    return value


def load_config(path: Optional[str], paths: Sequence[str] = (".",)) -> Config:
    """Read and validate `path` (a pyproject.toml); with None, search from `paths`."""
    if path is None:
        path = find_config(paths)
        if path is None:
            return Config(root=project_root(paths))
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        raise ConfigError(f"{path}: no such file")
    section = _section(_load_toml(path))
    root = os.path.dirname(path)
    if section is None:
        raise ConfigError(f"{path}: has no [tool.lora-lint] table")
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [tool.lora-lint] must be a table")
    unknown = sorted(set(section) - set(_KEYS))
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) in [tool.lora-lint]: {', '.join(unknown)} "
                          f"(known: {', '.join(_KEYS)})")

    def where(key: str) -> str:
        return f"{path}: [tool.lora-lint] {key}"

    def codes(key: str) -> tuple[str, ...]:
        return parse_codes(_string_list(section[key], where(key)), where(key)) if key in section else ()

    select = codes("select") if "select" in section else None
    pfi: list[tuple[str, tuple[str, ...]]] = []
    raw_pfi = section.get("per-file-ignores", {})
    if not isinstance(raw_pfi, dict):
        raise ConfigError(f"{where('per-file-ignores')}: expected a table of pattern = [codes], got {raw_pfi!r}")
    for pattern, value in raw_pfi.items():
        w = f"{where('per-file-ignores')} {pattern!r}"
        pfi.append((pattern, parse_codes(_string_list(value, w), w)))
    jobs = section.get("jobs")
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise ConfigError(f"{where('jobs')}: expected a whole number of processes >= 1, got {jobs!r}")
    cache_dir = section.get("cache-dir")
    if cache_dir is not None:
        if not isinstance(cache_dir, str) or not cache_dir:
            raise ConfigError(f"{where('cache-dir')}: expected a folder path, got {cache_dir!r}")
        cache_dir = os.path.join(root, os.path.expanduser(cache_dir))
    exclude = tuple(_string_list(section["exclude"], where("exclude"))) if "exclude" in section else ()
    force_exclude = section.get("force-exclude", False)
    if not isinstance(force_exclude, bool):
        raise ConfigError(f"{where('force-exclude')}: expected true or false, got {force_exclude!r}")
    target = section.get("target-version")
    if target is not None:
        parsed = parse_target_version(target) if isinstance(target, str) else None
        if parsed is None:
            raise ConfigError(f"{where('target-version')}: expected one of "
                              f"{', '.join('py' + v.replace('.', '') for v in SUPPORTED_VERSIONS)}, got {target!r}")
        target = parsed
    return Config(path=path, root=root, select=select, ignore=codes("ignore"), extend_select=codes("extend-select"),
                  extend_ignore=codes("extend-ignore"), exclude=exclude, per_file_ignores=tuple(pfi), jobs=jobs,
                  cache_dir=cache_dir, force_exclude=force_exclude, target_version=target)
