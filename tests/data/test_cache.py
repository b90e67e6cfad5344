"""The training audio cache: what it stores is what the engine's decoder gives, and it survives kills and full disks."""

from __future__ import annotations

import errno
import multiprocessing
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import mtag.data.cache as cache_module
import mtag.data.shards as shards_module
from mtag.audio.decode import load_audio, stream_audio
from mtag.audio.windows import iter_windows
from mtag.data.cache import AUDIO_FOLDER, AudioCache, build_audio_cache, cache_root
from mtag.data.shards import SUFFIX, CacheFullError, read_index
from mtag.engine.decoding import file_windows
from tests.audio.synth import chirp, tone, write_samples
from tests.plans import musicnn_plan

RATE = 16000
FILE_RATE = 22050  # GTZAN's: every file goes through the resampler

#: float16 keeps 11 significant bits: a relative error of at most 2^-11, plus its subnormal step.
RTOL, ATOL = 2.0**-11, 2.0**-24


def assert_stored(cached: np.ndarray, decoded: np.ndarray) -> None:
    """``cached`` is ``decoded`` to float16 precision: same length, every sample within its rounding."""
    assert cached.dtype == np.float32
    assert cached.shape == decoded.shape
    np.testing.assert_allclose(cached, decoded, rtol=RTOL, atol=ATOL)


@pytest.fixture
def clips(tmp_path: Path) -> list[Path]:
    """Five short clips in different formats, lengths and channel counts, each distinct."""
    folder = tmp_path / "music"
    folder.mkdir()
    made = []
    for n, ext in enumerate([".flac", ".mp3", ".wav", ".ogg", ".flac"]):
        seconds = 2.0 + 0.7 * n
        signal = chirp(seconds, FILE_RATE, gains=(1.0, 0.5)) if n % 2 else tone(seconds, FILE_RATE, 300.0 + 100 * n)
        made.append(write_samples(folder / f"clip{n}{ext}", signal, FILE_RATE))
    return made


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files the cache decodes in-process (``workers=0``), in order."""
    seen: list[Path] = []

    def counting(path: Path, sample_rate: int, **kwargs: object) -> Iterator[np.ndarray]:
        seen.append(Path(path))
        return stream_audio(path, sample_rate, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cache_module, "stream_audio", counting)
    return seen


def build(clips: list[Path], root: Path, rate: int = RATE, **kwargs: object) -> AudioCache:
    return build_audio_cache(clips, rate, root=root, workers=0, **kwargs)  # type: ignore[arg-type]


def test_round_trip_matches_the_engine_decoder(clips: list[Path], root: Path) -> None:
    cache = build(clips, root)
    assert len(cache) == len(clips) and cache.failures == {} and cache.sample_rate == RATE
    for index, path in enumerate(clips):
        decoded = load_audio(path, RATE)
        assert_stored(cache.audio(index), decoded)
        assert cache.length(index) == decoded.size
        assert cache.duration(index) == pytest.approx(decoded.size / RATE)
    # float16 on disk: 2 bytes a sample, plus a small index per shard
    samples = sum(cache.length(i) for i in range(len(cache)))
    assert 2 * samples <= cache.store.nbytes() < 2 * samples + 64 * 1024


def test_worker_processes_store_the_same_samples(clips: list[Path], root: Path, tmp_path: Path) -> None:
    in_process = build(clips, tmp_path / "one")
    pooled = build_audio_cache(clips, RATE, root=root, workers=2)
    for index in range(len(clips)):
        np.testing.assert_array_equal(pooled.audio(index), in_process.audio(index))


def test_cached_files_are_not_decoded_again(clips: list[Path], root: Path, decodes: list[Path]) -> None:
    build(clips, root)
    assert len(decodes) == len(clips)
    calls: list[tuple[int, int]] = []
    again = build(clips, root, progress=lambda done, total: calls.append((done, total)))
    assert len(decodes) == len(clips)  # nothing more
    assert calls == [(len(clips), len(clips))]
    assert_stored(again.audio(1), load_audio(clips[1], RATE))


def test_a_changed_file_is_decoded_again_and_only_it(clips: list[Path], root: Path, decodes: list[Path]) -> None:
    build(clips, root)
    decodes.clear()
    write_samples(clips[2], tone(1.5, FILE_RATE, 1000.0), FILE_RATE)  # new contents, size and mtime
    stat = clips[3].stat()
    os.utime(clips[3], ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # touched, same bytes
    cache = build(clips, root)
    assert sorted(decodes) == sorted([clips[2], clips[3]])
    assert_stored(cache.audio(2), load_audio(clips[2], RATE))
    assert cache.length(2) == load_audio(clips[2], RATE).size  # the new file's length, not the old one's


def test_another_sample_rate_is_a_cache_of_its_own(clips: list[Path], root: Path, decodes: list[Path]) -> None:
    at_16k = build(clips, root)
    decodes.clear()
    at_22k = build(clips, root, rate=FILE_RATE)
    assert len(decodes) == len(clips)
    assert at_22k.sample_rate == FILE_RATE
    assert_stored(at_22k.audio(0), load_audio(clips[0], FILE_RATE))
    assert at_22k.length(0) > at_16k.length(0)
    decodes.clear()
    build(clips, root)  # both rates stay cached side by side
    assert decodes == []


class Killed(Exception):
    pass


def test_a_killed_build_resumes_where_it_stopped(clips: list[Path], root: Path, decodes: list[Path]) -> None:
    def kill_after_two(done: int, total: int) -> None:
        if done == 2:
            raise Killed

    with pytest.raises(Killed):
        build(clips, root, progress=kill_after_two)
    assert decodes == clips[:2]
    decodes.clear()
    calls: list[tuple[int, int]] = []
    cache = build(clips, root, progress=lambda done, total: calls.append((done, total)))
    assert decodes == clips[2:]  # only the rest
    assert calls == [(2, 5), (3, 5), (4, 5), (5, 5)]
    for index, path in enumerate(clips):
        assert_stored(cache.audio(index), load_audio(path, RATE))


def test_a_build_killed_with_workers_stops_them_and_resumes(clips: list[Path], root: Path, decodes: list[Path]) -> None:
    def kill_after_two(done: int, total: int) -> None:
        if done == 2:
            raise Killed

    try:
        build_audio_cache(clips, RATE, root=root, workers=2, progress=kill_after_two)
    except Killed:  # while the caller still holds the traceback (and so the build's frames)
        assert multiprocessing.active_children() == []  # no decoder left running behind its back
    else:
        pytest.fail("the build was not interrupted")
    cache = build(clips, root)
    assert len(decodes) == 3  # the two stored before the kill are kept
    for index, path in enumerate(clips):
        assert_stored(cache.audio(index), load_audio(path, RATE))


def test_bad_files_are_recorded_and_the_rest_is_cached(clips: list[Path], root: Path, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.mp3"
    garbage.write_bytes(os.urandom(4000))
    empty = tmp_path / "empty.flac"
    empty.touch()
    missing = tmp_path / "missing.wav"
    paths = [clips[0], garbage, empty, missing, clips[1]]
    cache = build(paths, root)
    assert set(cache.failures) == {1, 2, 3}
    assert "empty" in cache.failures[2]
    assert "not found" in cache.failures[3]
    assert cache.failures[1]  # FFmpeg's reason, whatever it is
    for index in (1, 2, 3):
        assert cache.length(index) == 0 and cache.keys[index] is None
        assert cache.audio(index).size == 0
        assert list(cache.blocks(index)) == []
        np.testing.assert_array_equal(cache.segment(index, 0, 10), np.zeros(10, np.float32))
    assert_stored(cache.audio(0), load_audio(clips[0], RATE))
    assert_stored(cache.audio(4), load_audio(clips[1], RATE))


def test_the_same_file_listed_twice_is_decoded_once(clips: list[Path], root: Path, decodes: list[Path]) -> None:
    cache = build([clips[0], clips[1], clips[0]], root)
    assert decodes == [clips[0], clips[1]]
    np.testing.assert_array_equal(cache.audio(2), cache.audio(0))


def test_segments_are_zero_padded_past_the_end(clips: list[Path], root: Path) -> None:
    cache = build(clips[:1], root)
    whole = cache.audio(0)
    n = whole.size
    np.testing.assert_array_equal(cache.segment(0, 1000, 500), whole[1000:1500])
    tail = cache.segment(0, n - 100, 1000)
    assert tail.dtype == np.float32 and tail.shape == (1000,)
    np.testing.assert_array_equal(tail[:100], whole[-100:])
    np.testing.assert_array_equal(tail[100:], 0)
    np.testing.assert_array_equal(cache.segment(0, n + 50, 20), np.zeros(20, np.float32))
    head = cache.segment(0, -30, 100)
    np.testing.assert_array_equal(head[:30], 0)
    np.testing.assert_array_equal(head[30:], whole[:70])


def test_blocks_cut_the_same_windows_as_decoding_the_file(clips: list[Path], root: Path) -> None:
    cache = build(clips, root)
    plan = musicnn_plan(window_frames=62, hop_frames=31)  # ~1 s windows, overlapping: several per clip
    for index, path in enumerate(clips):
        blocks = list(cache.blocks(index, size=5000))
        assert all(block.dtype == np.float32 for block in blocks)
        assert sum(block.size for block in blocks) == cache.length(index)
        cached = list(iter_windows(blocks, plan))
        decoded = list(file_windows(path, plan))
        assert len(cached) == len(decoded) > 1
        for ours, theirs in zip(cached, decoded):
            assert (ours.index, ours.start, ours.end, ours.frames) == (
                theirs.index,
                theirs.start,
                theirs.end,
                theirs.frames,
            )
            np.testing.assert_allclose(ours.samples, theirs.samples, rtol=RTOL, atol=ATOL)


def full_disk_after(writes: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every shard write after the first ``writes`` fails as a full disk does."""
    real = shards_module._write_all
    count = 0

    def writing(file: object, data: object) -> None:
        nonlocal count
        count += 1
        if count > writes:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(file, data)  # type: ignore[arg-type]

    monkeypatch.setattr(shards_module, "_write_all", writing)


def test_a_full_disk_is_one_clear_error_and_leaves_no_corrupt_shard(
    clips: list[Path], root: Path, monkeypatch: pytest.MonkeyPatch, decodes: list[Path]
) -> None:
    monkeypatch.setattr(shards_module, "SHARD_BYTES", 1)  # a shard per file: two close, the third hits the full disk
    full_disk_after(2 * 5 + 2, monkeypatch)  # 5 writes a shard (magic, padding, data, index, footer); then its data
    with pytest.raises(CacheFullError) as raised:
        build(clips, root)
    message = str(raised.value)
    assert "\n" not in message
    assert str(root / AUDIO_FOLDER) in message
    assert "no space left" in message and "--cache-dir" in message and "MTAG_CACHE_DIR" in message
    assert "3 file(s) not yet cached" in message
    assert raised.value.needed >= 2 * min(load_audio(p, RATE).size for p in clips[2:])  # about the rest's size
    folder = root / AUDIO_FOLDER
    assert [p.name for p in folder.iterdir() if not p.name.endswith(SUFFIX)] == []  # no temporary left behind
    shards = sorted(folder.glob(f"*{SUFFIX}"))
    assert len(shards) == 2
    for shard in shards:
        read_index(shard)  # complete, or it would raise
    monkeypatch.undo()  # space freed: the next build decodes only what is missing
    seen: list[Path] = []
    monkeypatch.setattr(
        cache_module, "stream_audio", lambda path, rate, **kw: seen.append(path) or stream_audio(path, rate, **kw)
    )
    cache = build(clips, root)
    assert seen == clips[2:]
    for index, path in enumerate(clips):
        assert_stored(cache.audio(index), load_audio(path, RATE))


def test_the_cache_folder_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MTAG_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_root() == tmp_path / "home" / ".cache" / "mtag"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "xdg" / "mtag"
    monkeypatch.setenv("MTAG_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert cache_root() == tmp_path / "elsewhere"


def test_the_default_root_is_the_cache_root(clips: list[Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MTAG_CACHE_DIR", str(tmp_path / "env-cache"))
    build_audio_cache(clips[:1], RATE, workers=0)
    assert list((tmp_path / "env-cache" / AUDIO_FOLDER).glob(f"*{SUFFIX}"))


def test_bad_arguments_are_refused(clips: list[Path], root: Path) -> None:
    with pytest.raises(ValueError):
        build_audio_cache(clips, 0, root=root)
    with pytest.raises(ValueError):
        build_audio_cache(clips, RATE, root=root, workers=-1)


def test_an_unwritable_cache_folder_is_one_clear_error(clips: list[Path], tmp_path: Path) -> None:
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    with pytest.raises(shards_module.MtagError) as raised:
        build(clips[:1], blocker)
    assert "cannot write the cache" in str(raised.value) and "MTAG_CACHE_DIR" in str(raised.value)


def test_progress_counts_every_file(clips: list[Path], root: Path) -> None:
    calls: list[tuple[int, int]] = []
    build(clips, root, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(n, 5) for n in range(6)]
