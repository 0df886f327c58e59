"""What happens to a violation: raised, warned once per site, or logged (one JSONL file per
rank), always prefixed with the rank under torch.distributed."""

from __future__ import annotations

import json
import logging
import os
import sys
import warnings
from dataclasses import asdict, dataclass
from typing import Optional

from analyzer.runtime.state import STATE

__all__ = ["RuntimeViolation", "RuntimeViolationWarning", "Report", "RankInfo", "rank_info", "report", "reports"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
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
            record = Report(site, (info.prefix if info else "") + message, 1, info.rank if info else None,
                            info.world if info else None)
            _reports[site] = record
    mode = STATE.options.mode
    if mode == "raise":
        if info is None:
            info = rank_info()
        raise RuntimeViolation((info.prefix if info else "") + message)
    if not first:
        return  # warn and log: a site speaks once; its total comes at disable()
    if mode == "warn":
        _warn(f"lora-lint: {record.message} (repeats here are counted; the total comes when the tracer is turned off)")
    elif mode == "log":
        _LOG.warning("lora-lint: %s", record.message)
        _write_jsonl(record, summary=False)


def flush_totals() -> None:
    """At disable(): the totals of the sites that went wrong more than once."""
    mode = STATE.options.mode
    for record in reports():
        if record.count < 2:
            continue
        if mode == "warn":
            _warn(f"lora-lint: {record.message} ({record.count} occurrences at this site in all)")
        elif mode == "log":
            _LOG.warning("lora-lint: %s (%d occurrences in all)", record.message, record.count)
            _write_jsonl(record, summary=True)


def _warn(text: str) -> None:
    # point the warning at the first frame outside this package (the caller of the watched code)
    level, frame = 1, sys._getframe(0)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame, level = frame.f_back, level + 1
    warnings.warn(text, RuntimeViolationWarning, stacklevel=level)


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
