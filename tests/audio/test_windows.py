"""Windows are the exact slices of the centre-padded track, whatever the block size."""

from __future__ import annotations

import numpy as np
import pytest

from mtag.audio.windows import REPEAT_PADDING, WindowPlan, iter_windows
from mtag.cards import Framing
from tests.plans import musicnn_plan

PLAN = musicnn_plan()


def blocks_of(signal: np.ndarray, size: int):
    return [signal[i : i + size] for i in range(0, signal.size, size)]


def noise(seconds: float, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(int(seconds * 16000)).astype(np.float32)


@pytest.mark.parametrize("block_size", [1, 255, 4096, 10**7])
def test_windows_are_slices_of_the_reflect_padded_track(block_size):
    signal = noise(10.3) if block_size > 1 else noise(3.5)
    padded = np.pad(signal, 256, mode="reflect")
    frames = 1 + signal.size // 256
    windows = list(iter_windows(blocks_of(signal, block_size), PLAN))
    assert len(windows) == frames // 187  # musicnn: tail dropped, no padding
    for i, window in enumerate(windows):
        start = 187 * 256 * i
        np.testing.assert_array_equal(window.samples, padded[start : start + PLAN.chunk_samples])
        assert window.start == pytest.approx(2.992 * i)
        assert window.end == pytest.approx(2.992 * (i + 1))
        assert window.padding is None


def test_overlapping_windows_follow_the_hop():
    plan = musicnn_plan(187, 61)
    signal = noise(10)
    frames = 1 + signal.size // 256
    windows = list(iter_windows(blocks_of(signal, 3000), plan))
    assert [round(w.start / plan.seconds(1)) for w in windows] == list(range(0, frames - 187 + 1, 61))


def test_window_reaching_the_last_frame_uses_reflect_padding_at_the_end():
    signal = noise(186 * 256 / 16000)  # T = 187 frames; half of the last one lies beyond the end
    (window,) = iter_windows(blocks_of(signal, 1000), PLAN)
    np.testing.assert_array_equal(window.samples, np.pad(signal, 256, mode="reflect"))
    assert window.samples.size == PLAN.chunk_samples


@pytest.mark.parametrize("samples", [1, 100, 300, 32000, 187 * 256 - 257])
def test_track_shorter_than_a_window_gets_one_repeat_padded_window(samples):
    signal = noise(samples / 16000)
    (window,) = iter_windows(blocks_of(signal, 999), PLAN)
    assert window.padding == REPEAT_PADDING
    assert window.frames == 1 + samples // 256 < 187
    assert window.samples.size == (window.frames - 1) * 256 + 512
    assert (window.start, window.end) == (0.0, pytest.approx(samples / 16000))


def test_empty_track_has_no_window():
    assert list(iter_windows([], PLAN)) == []
    assert list(iter_windows([np.zeros(0, np.float32)], PLAN)) == []


def test_a_waveform_plan_cuts_plain_sample_windows_without_padding():
    """A raw-waveform network (a frame is a sample, nothing centred) goes through the same windowing."""
    plan = WindowPlan(16000, window=59049, hop=59049, framing=Framing())
    signal = noise(8.0)  # 128,000 samples: two whole windows, tail dropped
    windows = list(iter_windows(blocks_of(signal, 7000), plan))
    assert len(windows) == 2
    for i, window in enumerate(windows):
        np.testing.assert_array_equal(window.samples, signal[59049 * i : 59049 * (i + 1)])
        assert window.start == pytest.approx(59049 * i / 16000)
    (short,) = iter_windows(blocks_of(signal[:20000], 7000), plan)
    assert short.padding == REPEAT_PADDING and short.frames == 20000
    np.testing.assert_array_equal(short.samples, signal[:20000])


def test_a_plan_refuses_windows_that_are_not_whole_frames():
    with pytest.raises(ValueError, match="whole frames"):
        WindowPlan(16000, window=1000, hop=1000, framing=Framing(hop=256, length=512, centred=True))
