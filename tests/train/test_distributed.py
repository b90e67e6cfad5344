"""Two training processes (torchrun, gloo on the CPU) step exactly as one process with the same global batch
(accumulating gradients over two batches a step, as --accumulate 2 does)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from mtag.train.run import TrainRequest, train
from tests.train.helpers import ddp_settings, reload_tone_dataset, tiny_base, tone_dataset

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_two_gloo_processes_match_one_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tiny_base(tmp_path / "base", monkeypatch)
    monkeypatch.setenv("MTAG_CACHE_DIR", str(tmp_path / "cache"))
    tone_dataset(tmp_path / "data")
    dataset = reload_tone_dataset(tmp_path / "data")
    single = train(TrainRequest(dataset, ddp_settings(), name="single", models_dir=tmp_path / "models", workers=0))

    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
        "OMP_NUM_THREADS": "1",
    }
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    worker = [str(ROOT / "tests/train/ddp_worker.py"), str(tmp_path / "base"), str(tmp_path / "data")]
    done = subprocess.run(
        [*command, *worker, str(tmp_path / "models"), "double"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]

    one = load_file(single.card.weights_path)
    two = load_file(tmp_path / "models" / "double" / "weights.safetensors")
    assert one.keys() == two.keys()
    for key in one:  # the same steps; only the order of floating-point sums differs
        np.testing.assert_allclose(two[key], one[key], rtol=1e-4, atol=1e-5)
    assert not (tmp_path / "models" / ".double.training").exists()  # rank 0 finished and tidied up
    # Each process trained on its half of every global batch: 4 of 8, and 2 of the epoch's last 4.
    shares = [(tmp_path / "models" / f"rank{rank}of2.txt").read_text().split() for rank in (0, 1)]
    assert shares[0] == shares[1] and set(shares[0]) == {"4", "2"}
