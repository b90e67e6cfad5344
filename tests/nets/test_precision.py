"""``--precision``: what ``auto`` picks where, and what bf16 costs in accuracy against fp32 and the reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mtag.audio.windows import iter_windows
from mtag.engine.plans import default_plan
from mtag.errors import UsageError
from mtag.nets.precision import resolve_precision
from mtag.nets.tagger import load_tagger
from tests.reference import MODELS

CPU, CUDA = torch.device("cpu"), torch.device("cuda")


def test_auto_is_fp32_on_a_cpu():
    # bf16 changed a genre decision of the reference files and made musicnn slower: never chosen for the user
    assert resolve_precision("auto", CPU) == "fp32"
    assert load_tagger("vgg-msd", "cpu", "auto").precision == "fp32"


def test_auto_is_fp16_on_cuda():
    assert resolve_precision("auto", CUDA) == "fp16"


@pytest.mark.parametrize("device", [CPU, CUDA], ids=["cpu", "cuda"])
@pytest.mark.parametrize("asked", ["fp32", "bf16", "fp16"])
def test_an_explicit_precision_is_kept(asked, device):
    assert resolve_precision(asked, device) == asked


@pytest.mark.parametrize("asked", ["fp64", "FP32", "half", ""])
def test_an_unknown_precision_is_a_usage_error(asked):
    with pytest.raises(UsageError, match="unknown precision") as error:
        resolve_precision(asked, CPU)
    assert "fp32" in str(error.value)  # the hint lists the choices


def test_taggers_are_loaded_once_per_precision():
    fp32 = load_tagger("musicnn-msd", "cpu")
    bf16 = load_tagger("musicnn-msd", "cpu", "bf16")
    assert load_tagger("musicnn-msd", "cpu", "fp32") is fp32 and load_tagger("musicnn-msd", "cpu", "bf16") is bf16
    assert (fp32.precision, bf16.precision) == ("fp32", "bf16")


@pytest.mark.parametrize("model", ["musicnn-msd", "vgg-msd"])
def test_bf16_stays_close_to_fp32_which_stays_exact(reference, model):
    fp32, bf16 = load_tagger(model, "cpu", "fp32"), load_tagger(model, "cpu", "bf16")
    plan = default_plan(fp32.card)
    audio = np.load(reference / "rock.00000.audio16k.npy")
    chunks = np.stack([window.samples for window in iter_windows([audio], plan)])
    exact = fp32.predict(chunks, frames=plan.window_frames)
    taggram = np.load(reference / f"rock.00000.{MODELS[model]}.taggram.npy")
    np.testing.assert_allclose(exact, taggram, rtol=0, atol=1e-4)
    reduced = bf16.predict(chunks, frames=plan.window_frames)
    assert reduced.dtype == np.float32 and reduced.shape == exact.shape
    error = np.abs(reduced - exact).max()
    assert 0 < error <= 2e-2  # it did run at bf16, and the scores barely moved
    assert np.abs(reduced.mean(axis=0) - exact.mean(axis=0)).max() <= 1e-2
    top = np.argsort(exact.mean(axis=0))[::-1][:3]
    assert list(np.argsort(reduced.mean(axis=0))[::-1][:3]) == list(top)  # the same top tags, in order


@pytest.mark.gpu
@pytest.mark.parametrize(("precision", "atol"), [("fp32", 5e-3), ("fp16", 2e-2)])  # cuDNN may use TF32 for fp32
def test_cuda_scores_match_the_cpu(precision, atol):
    cpu, gpu = load_tagger("musicnn-msd", "cpu", "fp32"), load_tagger("musicnn-msd", "cuda", precision)
    plan = default_plan(cpu)
    chunks = 0.1 * np.random.default_rng(0).standard_normal((4, plan.chunk_samples)).astype(np.float32)
    expected = cpu.predict(chunks, frames=plan.window_frames)
    np.testing.assert_allclose(gpu.predict(chunks, frames=plan.window_frames), expected, rtol=0, atol=atol)
