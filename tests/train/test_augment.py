"""Each augmentation does what it promises, on a synthetic signal; bad specs are one-line usage errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from mtag.errors import UsageError
from mtag.train.augment import Augmenter, Dice, parse_augment
from mtag.train.augment import features as feature_ops
from mtag.train.augment import waveform as wave_ops

RATE = 16000


def tone(frequency: float, seconds: float = 3.0, batch: int = 1) -> torch.Tensor:
    t = torch.arange(round(seconds * RATE), dtype=torch.float64) / RATE
    return (0.5 * torch.sin(2 * math.pi * frequency * t)).float().expand(batch, -1).clone()


def dominant(x: torch.Tensor) -> float:
    """The strongest frequency of a row, from a zero-padded FFT (resolution well under 1 Hz)."""
    row = x[0] * torch.hann_window(x.shape[-1])
    spectrum = torch.fft.rfft(row, n=8 * x.shape[-1]).abs()
    return int(spectrum.argmax()) * RATE / (8 * x.shape[-1])


def rms_db(x: torch.Tensor) -> torch.Tensor:
    return 10 * torch.log10(x.pow(2).mean(dim=-1))


def dice(seed: int = 0) -> Dice:
    return Dice.roll(np.random.default_rng(seed), torch.device("cpu"))


def test_noise_is_added_at_the_snr_asked_for_each_segment() -> None:
    x = torch.cat([tone(440.0), 0.01 * tone(1000.0), torch.randn(1, 3 * RATE)])
    snr = torch.tensor([10.0, 3.0, 25.0])
    noisy = wave_ops.add_noise(x, snr, dice().gen)
    measured = rms_db(x) - rms_db(noisy - x)
    assert torch.allclose(measured, snr, atol=0.5)


def test_gain_changes_the_level_by_the_db_asked() -> None:
    x = tone(440.0, batch=2)
    out = wave_ops.apply_gain(x, torch.tensor([6.0, -4.5]))
    assert torch.allclose(rms_db(out) - rms_db(x), torch.tensor([6.0, -4.5]), atol=1e-3)


def test_a_circular_shift_is_a_roll_and_a_padded_one_brings_in_silence() -> None:
    x = torch.randn(2, 1000)
    rolled = wave_ops.shift(x, torch.tensor([100, -250]), circular=True)
    assert torch.equal(rolled[0], torch.roll(x[0], 100)) and torch.equal(rolled[1], torch.roll(x[1], -250))
    padded = wave_ops.shift(x, torch.tensor([100, -250]), circular=False)
    assert torch.equal(padded[0, 100:], x[0, :-100]) and not padded[0, :100].any()
    assert torch.equal(padded[1, :-250], x[1, 250:]) and not padded[1, -250:].any()


@pytest.mark.parametrize("factor", [0.8, 1.25, 0.6])
def test_stretch_changes_the_duration_by_the_factor_and_keeps_the_pitch(factor: float) -> None:
    x = tone(440.0)
    out = wave_ops.time_stretch(x, factor, RATE)
    assert out.shape[-1] == round(x.shape[-1] * factor)
    assert dominant(out) == pytest.approx(440.0, rel=0.01)
    middle = out[:, RATE // 2 : -RATE // 2]  # the level is kept too (phase locking), away from the edges
    assert float(rms_db(middle) - rms_db(x)) == pytest.approx(0.0, abs=0.5)


@pytest.mark.parametrize("semitones", [2.0, -3.0, 7.0])
def test_pitch_moves_a_tone_by_the_semitone_ratio_and_keeps_the_duration(semitones: float) -> None:
    x = tone(440.0)
    out = wave_ops.pitch_shift(x, semitones, RATE)
    assert out.shape == x.shape
    assert dominant(out) == pytest.approx(440.0 * 2 ** (semitones / 12), rel=0.01)


def test_stretched_batch_rows_are_cropped_or_repeated_to_the_segment_length() -> None:
    x = tone(440.0, seconds=1.0, batch=2)
    out = wave_ops.vocode_rows(x, torch.tensor([1.25, 0.5]), torch.zeros(2), RATE)
    assert out.shape == x.shape
    half = RATE // 2
    assert torch.equal(out[1, half:], out[1, :half])  # half the length, repeated to fill


def test_span_masks_cover_exactly_their_width() -> None:
    mask = feature_ops.span_mask(100, torch.tensor([[10, 50], [0, 0]]), torch.tensor([[20, 5], [30, 10]]))
    assert mask[0].sum() == 25 and mask[1].sum() == 30


def test_specaugment_masks_cover_the_stated_share_on_average() -> None:
    x = torch.randn(4000, 50, 40) + 5.0
    augmenter = Augmenter(parse_augment("specaugment:freq=1:fwidth=0.4:time=1:twidth=0.2"), RATE)
    out = augmenter.features(x, dice())
    masked = out == x.mean(dim=(1, 2), keepdim=True)  # a masked cell holds the example's mean
    bands = masked.all(dim=1).float().mean()  # bands masked over every frame
    frames = masked.all(dim=2).float().mean()
    # Width uniform in 0..floor(share * size): the mean width is half the largest.
    assert float(bands) == pytest.approx(16 / 2 / 40, abs=0.01)
    assert float(frames) == pytest.approx(10 / 2 / 50, abs=0.01)


def test_mixup_targets_are_the_convex_combination_and_single_label_rows_sum_to_one() -> None:
    x = torch.randn(6, 10, 4)
    y = torch.eye(3)[torch.tensor([0, 1, 2, 0, 1, 2])]
    partner = torch.tensor([1, 2, 0, 4, 5, 3])
    mixed_x, mixed_y = feature_ops.mixup(x, y, 0.7, partner)
    assert torch.allclose(mixed_y, 0.7 * y + 0.3 * y[partner])
    assert torch.allclose(mixed_x, 0.7 * x + 0.3 * x[partner])
    assert torch.allclose(mixed_y.sum(dim=1), torch.ones(6))


def test_the_loss_takes_mixed_targets_as_the_mix_of_the_two_losses() -> None:
    from mtag.train.loop import LossFunction

    logits = torch.randn(4, 3)
    y = torch.eye(3)[torch.tensor([0, 1, 2, 0])]
    partner = torch.tensor([1, 2, 3, 0])
    _, mixed = feature_ops.mixup(logits, y, 0.6, partner)
    loss = LossFunction(multi_label=False)
    expected = 0.6 * loss(logits, y) + 0.4 * loss(logits, y[partner])
    assert torch.allclose(loss(logits, mixed), expected, atol=1e-6)


def test_the_same_seed_gives_the_same_batch_and_another_seed_another() -> None:
    augmenter = Augmenter(parse_augment("noise:p=1,shift,stretch,pitch,gain,specaugment,mixup"), RATE)
    chunks = np.random.default_rng(0).standard_normal((4, RATE)).astype(np.float32)
    targets = torch.eye(2)[torch.tensor([0, 1, 0, 1])]

    def run(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        return augmenter.batch(chunks, targets, lambda x: x.unfold(-1, 400, 160), np.random.default_rng(seed))

    first, again, other = run(1), run(1), run(2)
    assert torch.equal(first[0], again[0]) and torch.equal(first[1], again[1])
    assert not torch.equal(first[0], other[0])


def test_parsing_spells_out_every_parameter() -> None:
    spec = parse_augment("noise:snr=10,shift,stretch:0.8-1.25,pitch:2,gain:6,mixup:0.2,specaugment")
    assert [a.name for a in spec.augmentations] == [
        "stretch", "pitch", "shift", "gain", "noise", "specaugment", "mixup"
    ]  # fmt: skip
    assert spec.get("pitch").range("semitones") == (-2.0, 2.0)
    assert spec.get("stretch").range("factor") == (0.8, 1.25)
    assert spec.get("noise").range("snr") == (10.0, 10.0) and spec.get("noise").p == 0.5
    assert parse_augment("noise:snr=5-20:p=0.3").get("noise").values == {"snr": (5.0, 20.0), "p": (0.3, 0.3)}
    assert parse_augment("stretch:1.25").get("stretch").range("factor") == (0.8, 1.25)
    assert parse_augment("shift").canonical() == parse_augment("shift:max=0.5:mode=circular:p=0.5").canonical()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("nope", ["unknown augmentation 'nope'", "noise"]),
        ("noise:loud=3", ["unknown parameter 'loud'", "snr="]),
        ("noise:snr=99", ["snr=99", "out of range", "-10 to 60"]),
        ("pitch:13", ["semitones=13", "out of range"]),
        ("stretch:3", ["factor=3", "out of range"]),
        ("gain:p=2", ["p=2", "out of range"]),
        ("mixup:0", ["alpha=0", "above 0"]),
        ("specaugment:freq=1-3", ["one value, not a range"]),
        ("shift:mode=wrap", ["circular, pad"]),
        ("noise:snr=ten", ["not a number"]),
        ("noise,,gain", ["empty item"]),
        ("noise,noise", ["given twice"]),
        ("noise:3:4", ["'4' needs a name"]),
        ("noise:snr=20-5", ["out of range"]),
    ],
)
def test_a_bad_spec_is_a_one_line_usage_error_naming_it(text: str, words: list[str]) -> None:
    with pytest.raises(UsageError) as caught:
        parse_augment(text)
    line = str(caught.value)
    assert "\n" not in line and caught.value.exit_code == 2
    for word in words:
        assert word in line


def test_specaugment_on_a_waveform_model_is_refused() -> None:
    with pytest.raises(UsageError, match="spectrogram"):
        Augmenter(parse_augment("specaugment"), RATE, spectral=False)


def test_the_readme_lists_every_augmentation_with_its_parameters() -> None:
    from pathlib import Path

    from mtag.train.augment.spec import KINDS

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip(" `"): line for line in readme.splitlines() if line.startswith("| `")}
    for kind in KINDS.values():
        assert kind.name in rows, kind.name
        for param in kind.params:
            assert f"`{param.name}`" in rows[kind.name], (kind.name, param.name)


def test_mask_counts_are_whole_numbers() -> None:
    with pytest.raises(UsageError, match="whole number"):
        parse_augment("specaugment:freq=1.5")
