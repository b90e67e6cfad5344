"""Decoding and resampling (mtag.audio.decode) on real files of every supported format."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import av
import numpy as np
import pytest
import soxr

from mtag.audio import decode
from mtag.audio.decode import (
    SUPPORTED_EXTENSIONS,
    AudioInfo,
    load_audio,
    probe,
    stream_audio,
    stream_channels,
)
from mtag.errors import AudioError
from tests.engine.helpers import deadline
from tests.reference import reference_audio

from .synth import FORMATS, chirp, native_rate, tone, write_samples, write_tone

ALL_FORMATS = sorted(SUPPORTED_EXTENSIONS)
#: encoder delay/padding that the container does not record (AAC in our mp4s and
#: ADTS, Vorbis) or a last partial frame the encoder drops (WMA): up to ~2 frames
CODEC_SLACK = 0.06  # seconds
AAC = {".m4a", ".mp4", ".aac"}
WMA = {".wma", ".asf"}


@pytest.fixture(scope="module")
def tones(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """1 s of 440 Hz, the same in both channels, in every format."""
    paths = [tmp_path_factory.mktemp("tones") / f"tone{ext}" for ext in ALL_FORMATS]
    return {path.suffix: write_tone(path, 1.0, native_rate(path), 2) for path in paths}


@pytest.fixture(scope="module")
def chirps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """2 s of a rising sweep (right channel at half level) in every format."""
    paths = [tmp_path_factory.mktemp("chirps") / f"chirp{ext}" for ext in ALL_FORMATS]
    rates = [native_rate(path) for path in paths]
    return {path.suffix: write_samples(path, chirp(2.0, rate, (1.0, 0.5)), rate) for path, rate in zip(paths, rates)}


def _join(blocks) -> np.ndarray:
    blocks = list(blocks)
    return np.concatenate(blocks) if blocks else np.zeros(0, np.float32)


def _peak_hz(signal: np.ndarray, sample_rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal))))
    return float(np.argmax(spectrum) * sample_rate / len(signal))


def test_synth_covers_every_supported_extension() -> None:
    assert set(FORMATS) == SUPPORTED_EXTENSIONS
    assert all(ext == ext.lower() and ext.startswith(".") for ext in SUPPORTED_EXTENSIONS)


# -- every format -------------------------------------------------------------------


@pytest.mark.parametrize("ext", ALL_FORMATS)
def test_every_format_decodes_to_the_tone_at_16k(tones: dict[str, Path], ext: str) -> None:
    audio = load_audio(tones[ext])
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(len(audio) / 16000 - 1.0) <= CODEC_SLACK
    middle = audio[4000:12000]
    assert abs(_peak_hz(middle, 16000) - 440.0) < 2.5
    # L = R: the mono mix is the tone itself, not half of it (rms of 0.5 sin)
    assert np.sqrt(np.mean(middle**2)) == pytest.approx(0.5 / np.sqrt(2), abs=0.03)


# -- mono mix and resampling --------------------------------------------------------


@pytest.mark.parametrize("ext", [".flac", ".mp3", ".m4a"])
def test_opposite_channels_cancel(tmp_path: Path, ext: str) -> None:
    path = write_tone(tmp_path / f"anti{ext}", 1.0, 44100, 2, gains=(1.0, -1.0))
    audio = load_audio(path)
    limit = 1e-6 if ext == ".flac" else 0.01  # lossy stereo coding leaves a trace
    assert np.sqrt(np.mean(audio**2)) < limit


def test_mono_is_the_mean_of_the_channels(tmp_path: Path) -> None:
    left, right = tone(1.0, 16000, 440.0)[0], tone(1.0, 16000, 1000.0, amplitude=0.3)[0]
    path = write_samples(tmp_path / "two.wav", np.stack([left, right]), 16000)
    with av.open(str(path)) as container:  # the stored int16 samples, as FFmpeg sees them
        pcm = np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=1)
    channels = pcm.reshape(-1, 2).T.astype(np.float32) / 32768
    np.testing.assert_array_equal(load_audio(path), channels.mean(axis=0))


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000])
def test_resampled_length_is_the_ceiling(tmp_path: Path, rate: int) -> None:
    frames = rate + 37
    path = write_samples(tmp_path / f"r{rate}.wav", tone(frames / rate, rate), rate)
    assert len(load_audio(path)) == -(-frames * 16000 // rate)


def test_resampling_equals_one_shot_soxr_hq(tmp_path: Path) -> None:
    path = write_tone(tmp_path / "t.flac", 1.3, 44100, 2)
    native = load_audio(path, 44100)
    expected = soxr.resample(native, 44100, 16000, quality="HQ")
    audio = load_audio(path)
    np.testing.assert_array_equal(audio[: len(expected)], expected)
    assert not audio[len(expected) :].any()  # only librosa's zero padding beyond


def test_tone_keeps_its_pitch_through_48k(tmp_path: Path) -> None:
    path = write_tone(tmp_path / "t.wav", 1.0, 48000, 1, freq=440.0)
    assert abs(_peak_hz(load_audio(path), 16000) - 440.0) < 1.5


# -- streaming ----------------------------------------------------------------------


@pytest.mark.parametrize(("ext", "block_frames"), [(".mp3", 1000), (".mp3", 777), (".wav", 500)])
def test_small_blocks_equal_one_shot(tones: dict[str, Path], ext: str, block_frames: int) -> None:
    blocks = list(stream_audio(tones[ext], block_frames=block_frames))
    assert len(blocks) > 10
    assert all(b.dtype == np.float32 and b.ndim == 1 and b.size for b in blocks)
    np.testing.assert_array_equal(np.concatenate(blocks), load_audio(tones[ext]))


def test_stopping_early_closes_the_file(tones: dict[str, Path]) -> None:
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc to see open files")
    path = tones[".flac"].resolve()

    def open_on_file() -> int:
        fds = Path("/proc/self/fd").iterdir()
        return sum(1 for fd in fds if os.path.realpath(fd) == str(path))

    blocks = stream_audio(path, block_frames=1024)
    next(blocks)
    assert open_on_file() == 1
    blocks.close()
    assert open_on_file() == 0


def test_survives_a_rate_and_layout_change_midway(tmp_path: Path) -> None:
    first = write_tone(tmp_path / "a.mp3", 1.0, 44100, 2, freq=440.0)
    second = write_tone(tmp_path / "b.mp3", 1.0, 22050, 1, freq=880.0)
    joined = tmp_path / "ab.mp3"  # two files glued together, as some rippers do
    joined.write_bytes(first.read_bytes() + second.read_bytes())
    audio = load_audio(joined)
    assert 1.9 < len(audio) / 16000 < 2.2
    assert abs(_peak_hz(audio[2000:14000], 16000) - 440.0) < 2.5
    assert abs(_peak_hz(audio[-12000:-2000], 16000) - 880.0) < 2.5


class _WrappedContainer:
    """A real PyAV input container with methods a test overrides to fail like a bad disk or demuxer."""

    def __init__(self, container: av.container.InputContainer) -> None:
        self._container = container

    def __getattr__(self, name: str):
        return getattr(self._container, name)

    def __enter__(self) -> _WrappedContainer:
        return self

    def __exit__(self, *exc_info) -> None:
        self._container.close()


def _open_as(wrapper: type[_WrappedContainer], monkeypatch: pytest.MonkeyPatch) -> None:
    """Make decode's ``av.open`` hand out containers wrapped in ``wrapper``."""
    real_open = av.open
    monkeypatch.setattr(av, "open", lambda *a, **k: wrapper(real_open(*a, **k)))


# -- windows (start / duration) -----------------------------------------------------


@pytest.mark.parametrize("start", [0.3, 1.2345])
@pytest.mark.parametrize("ext", ALL_FORMATS)
def test_window_has_the_samples_of_the_whole_decode(chirps: dict[str, Path], ext: str, start: float) -> None:
    """At the native rate (no resampler), a window is a slice of the whole decode.

    1.2345 s is past the seek preroll, so the demuxer really seeks.  AAC decodes
    a hair differently after a seek; WMA timestamps are whole milliseconds.
    """
    path = chirps[ext]
    rate = native_rate(path)
    whole = load_audio(path, rate)
    window = _join(stream_audio(path, rate, start=start, duration=0.5))
    assert len(window) == round(0.5 * rate)
    begin = round(start * rate)
    max_lag = round(0.001 * rate) if ext in WMA else 0
    errors = {
        lag: np.abs(window - whole[begin + lag : begin + lag + len(window)]).max()
        for lag in range(-max_lag, max_lag + 1)
    }
    assert min(errors.values()) <= (1e-4 if ext in AAC else 0.0)


@pytest.mark.parametrize("ext", [".flac", ".mp3", ".ogg"])
def test_resampled_window_matches_away_from_its_edges(chirps: dict[str, Path], ext: str) -> None:
    whole = load_audio(chirps[ext])
    window = _join(stream_audio(chirps[ext], start=1.25, duration=0.5))
    assert len(window) == 8000
    np.testing.assert_allclose(window[64:-64], whole[20064:27936], atol=1e-4)


def test_a_seek_that_lands_late_restarts_from_the_beginning(
    chirps: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Some demuxers (Ogg, by a page) land after the target; the window must not lose samples."""
    real_seek, targets = decode._seek, []

    def late_seek(container, stream, path, target):
        targets.append(target)
        if len(targets) == 1:  # land 0.8 s late: past start despite the preroll
            target += int(0.8 / stream.time_base)
        return real_seek(container, stream, path, target)

    monkeypatch.setattr(decode, "_seek", late_seek)
    path = chirps[".flac"]
    window = _join(stream_audio(path, 44100, start=1.0, duration=0.5))
    assert len(targets) == 2  # the late landing, then the beginning
    monkeypatch.undo()
    np.testing.assert_array_equal(window, load_audio(path, 44100)[44100:66150])


def test_a_refused_seek_restarts_from_the_beginning(chirps: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """A demuxer that cannot seek (FFmpeg raises) still gives the window, decoded from the start."""
    targets = []

    class SeekRefusingContainer(_WrappedContainer):
        def seek(self, target, **kwargs):
            targets.append(target)
            if len(targets) == 1:
                raise av.error.PermissionError(1, "Operation not permitted")
            return self._container.seek(target, **kwargs)

    _open_as(SeekRefusingContainer, monkeypatch)
    path = chirps[".flac"]
    window = _join(stream_audio(path, 44100, start=1.0, duration=0.5))
    assert len(targets) == 2  # the refused seek, then the beginning
    monkeypatch.undo()
    np.testing.assert_array_equal(window, load_audio(path, 44100)[44100:66150])


def test_window_is_cut_at_the_end_of_the_file(chirps: dict[str, Path]) -> None:
    path = chirps[".wav"]  # exactly 2 s
    assert len(_join(stream_audio(path, start=1.8, duration=1.0))) == 3200
    assert len(_join(stream_audio(path, duration=0.5))) == 8000
    assert _join(stream_audio(path, start=5.0, duration=1.0)).size == 0


@pytest.mark.parametrize("kwargs", [{"sample_rate": 0}, {"block_frames": 0}, {"start": -1.0}, {"duration": 0.0}])
def test_bad_arguments_are_refused_at_once(tones: dict[str, Path], kwargs: dict) -> None:
    with pytest.raises(ValueError):
        stream_audio(tones[".wav"], **kwargs)


# -- probe --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ext", "container", "codec"),
    [
        (".mp3", "mp3", "mp3"),
        (".flac", "flac", "flac"),
        (".ogg", "ogg", "vorbis"),
        (".opus", "ogg", "opus"),
        (".m4a", "mov,mp4,m4a,3gp,3g2,mj2", "aac"),
        (".wav", "wav", "pcm_s16le"),
        (".aiff", "aiff", "pcm_s16be"),
        (".wma", "asf", "wmav2"),
    ],
)
def test_probe(tones: dict[str, Path], ext: str, container: str, codec: str) -> None:
    info = probe(tones[ext])
    assert isinstance(info, AudioInfo)
    assert (info.path, info.container, info.codec) == (tones[ext], container, codec)
    assert (info.sample_rate, info.channels) == (native_rate(tones[ext]), 2)
    assert info.duration == pytest.approx(1.0, abs=CODEC_SLACK)
    assert info.bit_rate is not None and info.bit_rate > 0


# -- errors -------------------------------------------------------------------------


def _assert_one_line(error: AudioError, path: Path, words: str) -> None:
    text = str(error)
    assert error.path == str(path) and text.startswith(f"{path}: ")
    assert words in error.message and error.hint and "\n" not in text


@pytest.mark.parametrize("name", ["Live: at Wembley.wav", "http:x.wav", "concat:a.wav|b.wav"])
def test_names_that_look_like_urls_are_files(
    tones: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.chdir(tmp_path)
    Path(name).write_bytes(tones[".wav"].read_bytes())
    np.testing.assert_array_equal(load_audio(name), load_audio(tones[".wav"]))
    assert probe(name).path == Path(name)


def test_tags_and_cover_art_do_not_disturb_decoding(tones: dict[str, Path], tmp_path: Path) -> None:
    mutagen_id3 = pytest.importorskip("mutagen.id3")
    path = tmp_path / "tagged.mp3"
    path.write_bytes(tones[".mp3"].read_bytes())
    tags = mutagen_id3.ID3()
    tags.add(mutagen_id3.TIT2(encoding=3, text="Ünïcødé"))
    tags.add(mutagen_id3.APIC(encoding=3, mime="image/png", type=3, data=b"\x89PNG" + bytes(5000)))
    tags.save(path)
    np.testing.assert_array_equal(load_audio(path), load_audio(tones[".mp3"]))


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.mp3"
    for call in (stream_audio, probe, load_audio):
        with pytest.raises(AudioError) as caught:
            call(path)  # at once, before any iteration
        _assert_one_line(caught.value, path, "not found")


def test_folder(tmp_path: Path) -> None:
    with pytest.raises(AudioError) as caught:
        stream_audio(tmp_path)
    _assert_one_line(caught.value, tmp_path, "folder")


def test_a_fifo_is_refused_without_being_opened(tmp_path: Path) -> None:
    path = tmp_path / "x.mp3"
    os.mkfifo(path)  # FFmpeg's open of it would wait for a writer forever
    with deadline(10):
        for call in (stream_audio, probe, stream_channels):
            with pytest.raises(AudioError) as caught:
                call(path)
            _assert_one_line(caught.value, path, "is a FIFO, not a regular file")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.flac"
    path.touch()
    with pytest.raises(AudioError) as caught:
        load_audio(path)
    _assert_one_line(caught.value, path, "empty")


def test_unreadable_file(tones: dict[str, Path], tmp_path: Path) -> None:
    path = tmp_path / "locked.wav"
    path.write_bytes(tones[".wav"].read_bytes())
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as root: permissions do not apply")
        with pytest.raises(AudioError) as caught:
            load_audio(path)
        _assert_one_line(caught.value, path, "permission denied")
    finally:
        path.chmod(0o644)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("noise.mp3", np.random.default_rng(0).bytes(5000)),
        ("big_noise.mp3", np.random.default_rng(1).bytes(100_000)),
        ("notes.flac", b"shopping list\n- milk\n- eggs\n" * 20),
        ("page.m4a", b"<html><body>404 Not Found</body></html>\n"),
    ],
)
def test_not_audio(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(AudioError) as caught:
        load_audio(path)
    assert caught.value.path == str(path)
    try:  # headers alone may pass: random bytes can look like MP3 frame headers
        probe(path)
    except AudioError:
        pass


def test_video_without_audio(tmp_path: Path) -> None:
    path = tmp_path / "silent_film.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        frame = av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), format="rgb24")
        container.mux(stream.encode(frame.reformat(format="yuv420p")))
        container.mux(stream.encode(None))
    with pytest.raises(AudioError) as caught:
        load_audio(path)
    _assert_one_line(caught.value, path, "no audio stream")


def test_truncated_header(chirps: dict[str, Path], tmp_path: Path) -> None:
    path = tmp_path / "head.flac"
    path.write_bytes(chirps[".flac"].read_bytes()[:100])
    with pytest.raises(AudioError):
        load_audio(path)


@pytest.mark.parametrize("ext", [".flac", ".mp3", ".aac", ".wma"])
def test_truncated_tail_gives_the_audio_before_it(
    chirps: dict[str, Path], tmp_path: Path, ext: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A cut-off download decodes up to the cut; a packet the decoder rejects is
    skipped with a warning (FLAC, AAC and WMA reject the last partial packet)."""
    data = chirps[ext].read_bytes()
    path = tmp_path / f"cut{ext}"
    path.write_bytes(data[: len(data) * 6 // 10])
    with caplog.at_level(logging.WARNING, logger="mtag.audio.decode"):
        audio = load_audio(path)
    assert 1.0 < len(audio) / 16000 < 1.4
    if ext != ".mp3":  # FFmpeg's MP3 decoder conceals the cut frame itself
        assert f"{path}: skipped 1 undecodable packet" in caplog.text


def test_read_failure_midway_is_an_audio_error(chirps: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """An I/O error while reading (failing disk, vanished network share)."""

    class FailingContainer(_WrappedContainer):
        def demux(self, *streams):
            for number, packet in enumerate(self._container.demux(*streams)):
                if number == 20:
                    raise av.error.OSError(5, "Input/output error")
                yield packet

    _open_as(FailingContainer, monkeypatch)
    blocks = stream_audio(chirps[".flac"], block_frames=1024)
    with pytest.raises(AudioError) as caught:
        list(blocks)
    assert "reading failed at" in caught.value.message
    assert "Input/output error" in caught.value.message


# -- the reference waveforms --------------------------------------------------------

STEMS = ["synth_10s", "silence_5s", "clip_2s", "rock.00000", "techno"]


@pytest.mark.parametrize("stem", STEMS)
def test_matches_reference_16k_waveform(reference: Path, stem: str) -> None:
    """librosa 0.10 (libsndfile/mpg123, channel mean, soxr_hq) made these waveforms.

    The WAVs match bit for bit; the MP3 goes through a different decoder
    (mpg123 there, FFmpeg here) -- same length, same gapless trim, ~3e-6 apart.
    ``reference`` (tests/conftest.py) skips where ../shared is missing.
    """
    source = reference_audio(reference, stem)
    expected = np.load(reference / f"{stem}.audio16k.npy")
    audio = load_audio(source)
    if source.suffix == ".wav":
        np.testing.assert_array_equal(audio, expected)
    else:
        assert len(audio) == len(expected)
        np.testing.assert_allclose(audio, expected, rtol=0, atol=2e-5)
