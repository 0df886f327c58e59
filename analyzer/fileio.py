"""Writing a file so that readers see the old bytes or the new ones, never a mix."""

from __future__ import annotations

import os
import tempfile
from typing import Optional

__all__ = ["replace_file"]


def replace_file(target: str, data: bytes, mode: Optional[int] = None, durable: bool = False) -> None:
    """Write `data` to a temporary file beside `target` and rename it over `target`.

    `mode` sets the new file's permission bits; `durable` fsyncs before the rename (for user files,
    not for caches). On any error the temporary file is removed and `target` is untouched."""
    fd, tmp = tempfile.mkstemp(prefix=".lora-lint-", suffix=".tmp", dir=os.path.dirname(os.path.abspath(target)))
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
