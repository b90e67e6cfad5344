"""Thread and worker counts come from the cores this process may use; OpenMP waits passively."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mtag import cpu


def fake_root(tmp_path: Path, cgroup: str, files: dict[str, str]) -> Path:
    """A file system root with ``proc/self/cgroup`` and the given files under ``sys/fs/cgroup``."""
    (tmp_path / "proc/self").mkdir(parents=True)
    (tmp_path / "proc/self/cgroup").write_text(cgroup)
    for name, text in files.items():
        path = tmp_path / "sys/fs/cgroup" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    ("cgroup", "files", "expected"),
    [
        # v2 in a container (cgroup namespace: the group is "/"): docker --cpus 1.5
        ("0::/\n", {"cpu.max": "150000 100000\n"}, 1.5),
        ("0::/\n", {"cpu.max": "max 100000\n"}, None),
        # v2 on a host: the tightest limit on the way up wins
        (
            "0::/user.slice/job.scope\n",
            {"user.slice/cpu.max": "100000 100000", "user.slice/job.scope/cpu.max": "300000 100000"},
            1.0,
        ),
        ("0::/user.slice/job.scope\n", {}, None),  # no cpu controller enabled
        # v1: quota and period of the cpu controller, at the group's path or at the mount's top
        (
            "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n",
            {"cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "50000", "cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000"},
            0.5,
        ),
        (
            "4:cpu,cpuacct:/docker/abc\n",
            {"cpu,cpuacct/cpu.cfs_quota_us": "200000\n", "cpu,cpuacct/cpu.cfs_period_us": "100000\n"},
            2.0,
        ),
        (
            "4:cpu,cpuacct:/\n",
            {"cpu,cpuacct/cpu.cfs_quota_us": "-1", "cpu,cpuacct/cpu.cfs_period_us": "100000"},
            None,
        ),
        ("0::/\n", {"cpu.max": "garbage"}, None),
    ],
)
def test_cgroup_limit_is_read_from_v2_and_v1_files(tmp_path, cgroup, files, expected):
    assert cpu.cgroup_cpu_limit(fake_root(tmp_path, cgroup, files)) == expected


def test_no_cgroup_file_means_no_limit(tmp_path):
    assert cpu.cgroup_cpu_limit(tmp_path) is None


@pytest.mark.parametrize(
    ("affinity", "quota", "cores", "threads", "workers"),
    [
        (16, "150000 100000", 2, 1, 2),  # a 16-core host, a container allowed 1.5 cores
        (16, "max 100000", 16, 8, 9),
        (2, "max 100000", 2, 1, 2),  # a 2-core machine: one model thread, two decoders
        (4, "800000 100000", 4, 2, 3),  # the affinity mask is tighter than the quota
        (1, "max 100000", 1, 1, 0),  # one core: the main process decodes between batches
    ],
)
def test_counts_follow_affinity_and_quota(tmp_path, monkeypatch, affinity, quota, cores, threads, workers):
    root = fake_root(tmp_path, "0::/\n", {"cpu.max": quota})
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(affinity)), raising=False)
    assert cpu.available_cores(root) == cores
    monkeypatch.setattr(cpu, "available_cores", lambda: cores)
    assert cpu.default_threads() == threads
    assert cpu.default_threads(decoders=False) == cores  # nothing decodes beside the model: every core
    assert cpu.default_decode_workers() == workers


def test_engine_default_workers_uses_the_available_cores_and_the_device(monkeypatch):
    import torch

    from mtag.engine.inference import default_workers

    monkeypatch.setattr(cpu, "available_cores", lambda: 8)
    assert default_workers(torch.device("cpu")) == 5  # 4 cores for the model's threads, one decoder more
    assert default_workers(torch.device("cuda")) == 7  # the GPU scores; the CPU only decodes
    monkeypatch.setattr(cpu, "available_cores", lambda: 1)
    assert default_workers(torch.device("cpu")) == 0


def python(code: str, **env: str) -> str:
    """Run ``code`` in a fresh interpreter (OpenMP's setting is read once per process); its stdout."""
    environ = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    environ["PYTHONPATH"] = os.pathsep.join([str(Path(cpu.__file__).parents[1]), environ.get("PYTHONPATH", "")])
    result = subprocess.run([sys.executable, "-c", code], env={**environ, **env}, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_importing_mtag_makes_openmp_wait_passively_before_torch_loads():
    # The library used from Python, the CLI and python -m mtag all import the mtag package first.
    code = "import sys, os, mtag.cli.main; print(os.environ['OMP_WAIT_POLICY'], 'torch' in sys.modules)"
    assert python(code) == "PASSIVE False"


def test_a_wait_policy_the_user_set_wins():
    assert python("import os, mtag; print(os.environ['OMP_WAIT_POLICY'])", OMP_WAIT_POLICY="active") == "active"


def test_one_small_file_is_decoded_in_process_and_one_big_file_gets_a_decoder(monkeypatch):
    """A 30 s clip pays more for starting a decode process than it saves; a long mix does not."""
    import torch

    from mtag.library.session import SINGLE_FILE_WORKER_BYTES, workers_for

    cpu_device = torch.device("cpu")
    monkeypatch.setattr(cpu, "available_cores", lambda: 2)
    assert workers_for(1, None, cpu_device, largest_bytes=1_300_000) == 0
    assert workers_for(1, None, cpu_device, largest_bytes=SINGLE_FILE_WORKER_BYTES) == 1
    assert workers_for(12, None, cpu_device) == 2
    assert workers_for(1, 3, cpu_device, largest_bytes=10**9) == 3  # asked for: as asked
