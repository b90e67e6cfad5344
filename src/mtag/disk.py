"""Free disk space, asked before writing much (a download, the training cache)."""

from __future__ import annotations

import shutil
from pathlib import Path


def free_bytes(path: Path) -> int:
    """Free bytes on the disk that holds ``path``, or would hold it (its nearest existing folder)."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free
