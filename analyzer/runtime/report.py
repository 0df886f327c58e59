"""What happens to a violation: raised, warned once per site, or logged (one JSONL file per
rank), always prefixed with the rank under torch.distributed.

Each site remembers the user's frame that led to it (the first frame outside lora-lint, torch
and PEFT): warnings and the end-of-run summary point there, and a raised violation's traceback,
when it reaches `sys.excepthook`, ends there.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import warnings
from dataclasses import asdict, dataclass
from typing import Optional

from analyzer.runtime.state import STATE

__all__ = ["RuntimeViolation", "RuntimeViolationWarning", "Report", "RankInfo", "rank_info", "report", "reports",
           "install_excepthook", "user_frame"]

__tracebackhide__ = True

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_TRAMPOLINE_PREFIX = "<lora-lint watch of "  # see inplace.py
_LOG = logging.getLogger("analyzer.runtime")


class RuntimeViolation(RuntimeError):
    """Raised in `raise` mode when a watched call returns something its contract forbids."""


class RuntimeViolationWarning(RuntimeWarning):
    """Issued in `warn` mode, once per site; filter it like any warning category."""


@dataclass
class Report:
    """One site's violations: the first message and how many times the site went wrong."""

    site: str
    message: str
    count: int
    rank: Optional[int] = None
    world: Optional[int] = None
    filename: Optional[str] = None  # the user's frame that led to the first occurrence
    lineno: Optional[int] = None


@dataclass(frozen=True)
class RankInfo:
    rank: int
    world: int

    @property
    def prefix(self) -> str:
        return f"[rank {self.rank}/{self.world}] "


def rank_info() -> Optional[RankInfo]:
    """This process's rank: from torch.distributed once initialised, else RANK/WORLD_SIZE (set
    by torchrun before the process group exists)."""
    dist = sys.modules.get("torch.distributed")
    if dist is not None and dist.is_available() and dist.is_initialized():
        return RankInfo(dist.get_rank(), dist.get_world_size())
    rank, world = os.environ.get("RANK"), os.environ.get("WORLD_SIZE")
    if rank is not None and world is not None and rank.isdigit() and world.isdigit():
        return RankInfo(int(rank), int(world))
    return None


_reports: dict[str, Report] = {}


def new_session() -> None:
    with STATE.lock:
        _reports.clear()


def reports() -> list[Report]:
    """This session's reports, one per site, oldest first."""
    with STATE.lock:
        return [Report(**asdict(r)) for r in _reports.values()]


def report(site: str, message: str) -> None:
    """Record a violation at `site` (a stable key, e.g. ``func:arity``) and act on the mode."""
    info = None
    with STATE.lock:
        record = _reports.get(site)
        first = record is None  # decided under the lock: exactly one thread speaks for a site
        if record is not None:
            record.count += 1
        else:
            info = rank_info()
            frame = user_frame()
            record = Report(site, (info.prefix if info else "") + message, 1, info.rank if info else None,
                            info.world if info else None, frame.f_code.co_filename if frame else None,
                            frame.f_lineno if frame else None)
            _reports[site] = record
    mode = STATE.options.mode
    if mode == "raise":
        if info is None:
            info = rank_info()
        raise RuntimeViolation((info.prefix if info else "") + message)
    if not first:
        return  # warn and log: a site speaks once; its total comes at disable()
    if mode == "warn":
        _warn(record, f"lora-lint: {record.message} (repeats here are counted; a summary comes at exit)")
    elif mode == "log":
        _LOG.warning("lora-lint: %s", record.message)
        _write_jsonl(record, summary=False)


def flush_totals() -> None:
    """At disable() (and so at exit): warn mode gives one summary of every site, attributed to the
    first site's user frame; log mode one summary line per repeated site."""
    mode = STATE.options.mode
    records = reports()
    if mode == "warn" and records:
        lines = [f"lora-lint runtime summary: {len(records)} site{'s' * (len(records) != 1)} went wrong"]
        for r in records:
            where = f"{_short(r.filename)}:{r.lineno}: " if r.filename else ""
            lines.append(f"  {where}{r.message} ({r.count} time{'s' * (r.count != 1)})")
        _warn(records[0], "\n".join(lines))
    elif mode == "log":
        for record in records:
            if record.count >= 2:
                _LOG.warning("lora-lint: %s (%d occurrences in all)", record.message, record.count)
                _write_jsonl(record, summary=True)


def _short(path: str) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return path
    return path if rel.startswith(".." + os.sep) else rel


def _infrastructure_dirs() -> tuple[str, ...]:
    dirs = [_PACKAGE_DIR]
    for name in ("torch", "peft"):
        module = sys.modules.get(name)
        if module is not None and getattr(module, "__file__", None):
            dirs.append(os.path.dirname(os.path.abspath(module.__file__)))
    return tuple(d + os.sep for d in dirs)


def _is_user_code(filename: str, infrastructure: tuple[str, ...]) -> bool:
    if filename.startswith(_TRAMPOLINE_PREFIX) or filename.startswith("<frozen "):
        return False
    return not filename.startswith(infrastructure) and not filename.startswith(_PACKAGE_DIR)


def user_frame():
    """The innermost frame outside lora-lint, torch and PEFT: the user's code that led here."""
    infrastructure = _infrastructure_dirs()
    frame = sys._getframe(1)
    while frame is not None and not _is_user_code(frame.f_code.co_filename, infrastructure):
        frame = frame.f_back
    return frame


def _warn(record: Report, text: str) -> None:
    if record.filename is None:
        warnings.warn(text, RuntimeViolationWarning, stacklevel=2)
        return
    # no module_globals: a loader that cannot give the source (`python -c`) would raise here;
    # the warning's source line is read from the file
    warnings.warn_explicit(text, RuntimeViolationWarning, record.filename, record.lineno or 0)


def trim_traceback(tb):
    """Cut a violation's traceback after its last user frame (the checker's frames, torch's
    module-call frames between the user's call and a layer hook). Returns the new head."""
    infrastructure = _infrastructure_dirs()
    entries = []
    while tb is not None:
        entries.append(tb)
        tb = tb.tb_next
    users = [i for i, e in enumerate(entries) if _is_user_code(e.tb_frame.f_code.co_filename, infrastructure)]
    if not users:
        return entries[0] if entries else None
    entries[users[-1]].tb_next = None
    # the launcher's own frames above the script's (runpy, analyzer.runtime.__main__) go too
    return entries[users[0]]


_hook_installed = False


def install_excepthook() -> None:
    """Once per process, at the first enable(): an uncaught RuntimeViolation is printed with its
    traceback ending at the user's call. Stays after disable(): the launcher turns the tracer off
    before the exception reaches the hook. Other exceptions pass through untouched."""
    global _hook_installed
    with STATE.lock:
        if _hook_installed:
            return
        _hook_installed = True
    previous = sys.excepthook

    def excepthook(exc_type, exc, tb):
        if isinstance(exc, RuntimeViolation):
            tb = trim_traceback(tb)
            exc.__traceback__ = tb
        previous(exc_type, exc, tb)

    sys.excepthook = excepthook


def _write_jsonl(record: Report, summary: bool) -> None:
    log_dir = STATE.options.log_dir
    if not log_dir:
        return
    os.makedirs(log_dir, exist_ok=True)
    info = rank_info()
    path = os.path.join(log_dir, f"lora-lint-rank{info.rank if info else 0}.jsonl")
    # append one whole line per write, so that a crash leaves every earlier line readable
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(dict(asdict(record), summary=summary)) + "\n")
