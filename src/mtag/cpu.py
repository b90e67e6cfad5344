"""How many CPU cores this process may really use, and how torch should wait on them.

``os.cpu_count()`` is the machine's cores, not this process's: a CPU affinity
mask (``taskset``, a batch scheduler) or a container's cgroup quota (Docker's
``--cpus``, Kubernetes limits) can leave far fewer.  Sizing torch's thread
pool and the decode workers from the machine's count then oversubscribes the
cores we have, and every OpenMP step waits on a thread that is not running.

OpenMP's worker threads also spin (busy-wait) at the end of each parallel step
by default.  On an idle machine that costs only CPU; beside other busy
programs it steals the cores the other threads need: measured with two CPU
hogs on 2 cores, the network ran at 6.5 windows/s by default and at 21.1 with
``OMP_WAIT_POLICY=PASSIVE``, which cost nothing on an idle machine.  OpenMP
reads the variable once, when its runtime loads (with ``import torch``), so
:func:`prefer_passive_waiting` runs when :mod:`mtag` itself is imported,
before any of its modules imports torch.  This module must stay cheap to
import (the standard library only): ``mtag --help`` imports it.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

#: The OpenMP setting mtag prefers; a value the user set wins.
WAIT_POLICY = "PASSIVE"


def prefer_passive_waiting(environ: dict[str, str] | os._Environ[str] = os.environ) -> None:
    """Make OpenMP threads sleep rather than spin while they wait, unless the user chose otherwise.

    Effective only before torch is first imported in this process (and for
    every process started from it, such as the decode workers).
    """
    environ.setdefault("OMP_WAIT_POLICY", WAIT_POLICY)


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None


def _quota_cores(quota: str, period: str) -> float | None:
    """Cores allowed by a CFS quota and period (microseconds); ``None`` for no limit or nonsense."""
    try:
        q, p = int(quota), int(period)
    except ValueError:
        return None  # "max": no limit
    return q / p if q > 0 and p > 0 else None  # v1 writes -1 for no limit


def _v2_limit(root: Path, group: str) -> float | None:
    """The tightest ``cpu.max`` on the way from this cgroup (v2) up to the hierarchy's root."""
    base = root / "sys/fs/cgroup"
    folder = base / group.lstrip("/")
    limits = []
    while True:
        text = _read(folder / "cpu.max")
        if text:
            quota, _, period = text.partition(" ")
            cores = _quota_cores(quota, period or "100000")
            if cores is not None:
                limits.append(cores)
        if folder == base or base not in folder.parents:
            break
        folder = folder.parent
    return min(limits, default=None)


def _v1_limit(root: Path, group: str) -> float | None:
    """The CFS quota of this cgroup (v1 ``cpu`` controller), at its path or, in a container, at the mount's top."""
    for mount in ("cpu,cpuacct", "cpu", "cpuacct,cpu"):
        base = root / "sys/fs/cgroup" / mount
        for folder in (base / group.lstrip("/"), base):
            quota, period = _read(folder / "cpu.cfs_quota_us"), _read(folder / "cpu.cfs_period_us")
            if quota is not None and period is not None:
                return _quota_cores(quota, period)
    return None


def cgroup_cpu_limit(root: Path = Path("/")) -> float | None:
    """Cores this process's cgroup may use (a fraction where the quota is one), or ``None`` without a quota.

    ``root`` is the file system root to read ``proc/self/cgroup`` and
    ``sys/fs/cgroup`` under (tests pass a fake one).
    """
    text = _read(root / "proc/self/cgroup")
    if text is None:
        return None
    limits = []
    for line in text.splitlines():
        _, controllers, group = line.split(":", 2) if line.count(":") >= 2 else ("", "", "")
        if controllers == "":  # the v2 unified hierarchy: "0::/path"
            limit = _v2_limit(root, group) if group else None
        elif "cpu" in controllers.split(","):
            limit = _v1_limit(root, group)
        else:
            continue
        if limit is not None:
            limits.append(limit)
    return min(limits, default=None)


def available_cores(root: Path = Path("/")) -> int:
    """Whole cores this process may use: its affinity mask, capped by a cgroup quota (rounded up), at least 1."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cores = os.cpu_count() or 1
    limit = cgroup_cpu_limit(root)
    if limit is not None:
        cores = min(cores, math.ceil(limit))
    return max(1, cores)


def default_threads(decoders: bool = True) -> int:
    """Threads for the model's CPU work: all available cores, or half of them beside decode processes.

    With the pruned networks, decoding a track costs about as much CPU as
    scoring it (a 4-minute track on one core: 0.66 s to decode and resample,
    0.9 s in musicnn-msd), so where decode processes run the cores are split
    between the two.  Measured on 2 cores, 12 x 4-minute tracks: 1 thread and
    2 decode processes 12.1 s, 2 threads and 1 decoder 15.0 s, 2 threads and
    no decoder 19.3 s; beside two CPU hogs (6 tracks) 11.1-13.6 s against
    12.8-13.5 s.  Without decode processes (one file, ``inspect``,
    ``--workers 0``) the model gets every core between its batches.
    """
    cores = available_cores()
    return max(1, cores // 2) if decoders else cores


def default_decode_workers(model_on_cpu: bool = True) -> int:
    """Decode processes beside the model: none on a single core.

    With the model on the CPU, one more than the cores its threads leave:
    a decoder blocks whenever its queue is full, so one extra keeps the cores
    busy without taking them from the model.  With the model on a GPU,
    decoding is all the CPU does: one per core but one.
    """
    cores = available_cores()
    if cores == 1:
        return 0
    return cores - default_threads() + 1 if model_on_cpu else cores - 1


def use_threads(threads: int | None, decoders: bool = True) -> int:
    """Set torch's intra-op thread count (``None``: :func:`default_threads`); returns the count used.

    Imports torch: call it when the model is about to run, not at start-up.
    """
    import torch

    count = default_threads(decoders) if threads is None else threads
    if torch.get_num_threads() != count:
        torch.set_num_threads(count)
    return count
