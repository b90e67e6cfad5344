"""The architecture zoo: every trainable network on its recipe's real front end, tiny where speed needs it."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
import torch
import torch.nn.functional as F

from mtag.cards.frontend import FrontEndSpec, read_frontend
from mtag.nets.frontends import build_frontend
from mtag.nets.recipes import Recipe, recipe
from mtag.nets.registry import build_network
from tests.library.helpers import mtag, write_music
from tests.nets.tiny import write_model

ZOO = ("fcn", "shortres", "crnn", "samplecnn", "transformer")

#: Sizes small enough for a shared 2-core CPU; each keeps the architecture's structure.
TINY: dict[str, dict[str, Any]] = {
    "fcn": {"widths": [8, 8, 8], "pools": [[2, 4], [2, 4], [2, 4]]},
    "shortres": {"widths": [8, 8, 16]},
    "crnn": {"widths": [8, 8], "pools": [[2, 2], [3, 3]], "gru_units": 8},
    "samplecnn": {"stem": 8, "widths": [8, 8, 16, 16], "top": 16, "n_frames": 3**5},
    "transformer": {"dim": 16, "depth": 1, "heads": 2, "pos_frames": 64},
}


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny networks run faster on one thread than on two, and far faster when other work shares the CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def spec_of(name: str) -> FrontEndSpec:
    return read_frontend(recipe(name).frontend)


def window_frames(plan: Recipe, spec: FrontEndSpec) -> int:
    """Frames in the recipe's window, rounded as a model card rounds it."""
    return round(plan.window_seconds * spec.sample_rate / spec.framing.hop)


def conventional(name: str, extra: dict[str, Any], n_labels: int, frames: int) -> dict[str, Any]:
    """Constructor parameters as mtag train fills them in (see mtag.nets.recipes)."""
    plan, spec = recipe(name), spec_of(name)
    params = {**plan.params, **extra, "n_labels": n_labels}
    if spec.features is not None:
        params["n_mels"] = spec.features
    if plan.fixed_length:
        params.setdefault("n_frames", frames)
    return params


def through_frontend(spec: FrontEndSpec, audio: torch.Tensor) -> torch.Tensor:
    """The network input for pre-padded sample chunks ``(B, samples)``."""
    with torch.no_grad():
        return build_frontend(spec)(audio)


@pytest.mark.parametrize("name", ZOO)
def test_the_default_network_scores_a_window_of_its_recipes_front_end(name):
    torch.manual_seed(0)
    plan, spec = recipe(name), spec_of(name)
    frames = window_frames(plan, spec)
    net = build_network(name, conventional(name, {}, 10, frames)).eval()
    assert frames >= net.min_frames
    features = through_frontend(spec, torch.randn(1, spec.framing.chunk_samples(frames)) * 0.1)
    expected_shape = (1, frames) if spec.features is None else (1, frames, spec.features)
    assert features.shape == expected_shape
    with torch.no_grad():
        logits = net(features)
    assert logits.shape == (1, 10) and torch.isfinite(logits).all()


def test_the_recipes_window_sizes_are_the_papers():
    assert window_frames(recipe("fcn"), spec_of("fcn")) == 1366  # 29.1 s at 12 kHz
    assert window_frames(recipe("crnn"), spec_of("crnn")) == 1366
    assert window_frames(recipe("shortres"), spec_of("shortres")) == 231  # 59,049 samples at 16 kHz
    assert window_frames(recipe("samplecnn"), spec_of("samplecnn")) == 59049  # 3^10 samples
    assert window_frames(recipe("transformer"), spec_of("transformer")) == 1024  # 10.24 s of 10 ms frames
    assert recipe("samplecnn").fixed_length and not any(recipe(n).fixed_length for n in ZOO if n != "samplecnn")


def tones(
    spec: FrontEndSpec, samples: int, per_class: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Low (an eighth of Nyquist) and high (half of Nyquist) tones, random phase and level, a little noise."""
    nyquist = spec.sample_rate / 2
    t = torch.arange(samples) / spec.sample_rate
    waves, labels = [], []
    for label, freq in enumerate((nyquist / 8, nyquist / 2)):
        for _ in range(per_class):
            phase, level = torch.rand(2, generator=generator)
            waves.append((0.2 + 0.6 * level) * torch.sin(2 * math.pi * freq * t + 2 * math.pi * phase))
            labels.append(label)
    audio = torch.stack(waves) + 0.01 * torch.randn(len(waves), samples, generator=generator)
    return audio, torch.tensor(labels)


@pytest.mark.parametrize("name,extra", [(name, {}) for name in ZOO] + [("samplecnn", {"se": True})])
def test_a_few_steps_teach_a_tiny_network_low_from_high_tones(name, extra):
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(1)
    spec = spec_of(name)
    frames = TINY[name].get("n_frames", 48)
    audio, labels = tones(spec, spec.framing.chunk_samples(frames), 8, generator)
    features = through_frontend(spec, audio)
    net = build_network(name, conventional(name, {**TINY[name], **extra}, 2, frames)).train()
    optimiser = torch.optim.Adam(net.parameters(), lr=5e-3)
    losses = []
    for _ in range(30):
        loss = F.cross_entropy(net(features), labels)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert sum(losses[-3:]) / 3 < 0.5 * losses[0], losses


@pytest.mark.parametrize("name", [n for n in ZOO if not recipe(n).fixed_length])
@pytest.mark.parametrize("frames", [1, 7, 150])
def test_spectrogram_networks_take_any_number_of_frames_and_other_band_counts(name, frames):
    torch.manual_seed(0)
    for bands in (40, 96):
        params = {**TINY[name], "n_labels": 3, "n_mels": bands}
        net = build_network(name, params).eval()
        assert net.min_frames <= frames
        with torch.no_grad():
            logits = net(torch.randn(2, frames, bands))
        assert logits.shape == (2, 3) and torch.isfinite(logits).all()


def test_fcn_pools_the_papers_input_to_one_cell_as_the_paper_did():
    net = build_network("fcn", {"n_labels": 2, "n_mels": 96, "widths": [2] * 5})
    with torch.no_grad():
        features = net.blocks(net.input_bn(torch.zeros(1, 1, 96, 1366)))
    assert features.shape == (1, 2, 1, 1)


def test_transformer_positions_are_interpolated_for_other_lengths_only():
    net = build_network("transformer", {**TINY["transformer"], "n_labels": 2, "n_mels": 32, "overlap": 6})
    assert net.positions.shape[2:] == (2, 5)  # (32 - 16) // 10 + 1 bands, (64 - 16) // 10 + 1 frames
    assert net.tokens(torch.randn(2, 64, 32)).shape == (2, 1 + 2 * 5, 16)
    assert net.tokens(torch.randn(2, 200, 32)).shape == (2, 1 + 2 * 19, 16)


def test_samplecnn_is_fixed_length_and_says_so():
    net = build_network("samplecnn", {**TINY["samplecnn"], "n_labels": 2}).eval()
    assert net.min_frames == 243
    with pytest.raises(ValueError, match="exactly 243 samples"):
        net(torch.randn(1, 242))


def test_squeeze_excitation_adds_its_blocks():
    plain = build_network("samplecnn", {**TINY["samplecnn"], "n_labels": 2})
    se = build_network("samplecnn", {**TINY["samplecnn"], "n_labels": 2, "se": True})
    extra = sum(p.numel() for p in se.parameters()) - sum(p.numel() for p in plain.parameters())
    # Each block's bottleneck: C -> C/8 -> C, with biases.
    assert extra == sum(2 * c * max(1, round(c / 8)) + max(1, round(c / 8)) + c for c in (8, 8, 16, 16))


@pytest.mark.parametrize(
    "name,params,culprit",
    [
        ("fcn", {"widths": []}, "widths"),
        ("fcn", {"widths": [8, 8], "pools": [[2, 4]]}, "pools"),
        ("fcn", {"dropout": 1.5}, "dropout"),
        ("shortres", {"widths": [8, 0]}, "widths"),
        ("crnn", {"gru_layers": 0}, "gru_layers"),
        ("crnn", {"gru_units": -1}, "gru_units"),
        ("samplecnn", {"n_frames": 59048}, "n_frames"),
        ("samplecnn", {"se": "yes"}, "se"),
        ("transformer", {"dim": 16, "heads": 5}, "heads"),
        ("transformer", {"overlap": 16}, "overlap"),
        ("transformer", {"pool": "max"}, "pool"),
        ("transformer", {"depth": 0}, "depth"),
        ("transformer", {"mlp_ratio": 0}, "mlp_ratio"),
        ("samplecnn", {"stem": 2.5}, "stem"),
        ("fcn", {"width": [8]}, "width"),  # misspelt: the registry names it
    ],
)
def test_bad_params_are_a_value_error_naming_the_param(name, params, culprit):
    with pytest.raises(ValueError, match=f"'{culprit}'"):
        build_network(name, {"n_labels": 2, **params})


@pytest.mark.parametrize("name", ZOO)
def test_every_zoo_network_can_be_a_transfer_starting_point(name):
    """``mtag train --from`` puts a new head at a transfer point: embed then head must be the network."""
    torch.manual_seed(0)
    spec = spec_of(name)
    frames = TINY[name].get("n_frames", 20)
    net = build_network(name, conventional(name, TINY[name], 3, frames)).eval()
    x = torch.randn(2, frames) if spec.features is None else torch.randn(2, frames, spec.features)
    with torch.no_grad():
        expected = net(x)
        for point in net.TRANSFER_POINTS:
            assert torch.allclose(net.head(net.embed(x, point), point), expected, atol=1e-6)
            assert "classifier" in net.head_modules(point)
            for module in net.head_modules(point):
                net.get_submodule(module)  # the names start_from re-initialises exist


@pytest.mark.parametrize("name", ZOO)
def test_a_zoo_model_folder_loads_through_its_card_and_scores_a_file(capsys, tmp_path, name):
    """Weights and card written as mtag train writes them; ``mtag inspect`` builds the network from the card alone."""
    torch.manual_seed(0)
    plan, spec = recipe(name), spec_of(name)
    frames = TINY[name].get("n_frames", round(1.0 * spec.sample_rate / spec.framing.hop))  # samplecnn: 243 samples
    params = conventional(name, TINY[name], 3, frames)
    labels = ("rockish", "jazzy", "hiss")
    net = build_network(name, params).eval()
    model = write_model(
        tmp_path / "model",
        net,
        name,
        params,
        spec,
        name=f"tiny-{name}",
        labels=labels,
        genres={"rockish": "Rock", "jazzy": "jazz"},
        window_seconds=frames * spec.framing.hop / spec.sample_rate,
        fixed_length=plan.fixed_length,
    )
    song = write_music(tmp_path / "song.flac", seconds=1.5)
    code, out, err = mtag(capsys, "inspect", song, "--model", model.directory, "--json", "--threshold", "0")
    assert code == 0, err
    report = json.loads(out.splitlines()[0])
    assert report["labels"] == list(labels)
    scores = [segment["scores"] for segment in report["segments"]]
    assert scores and all(len(row) == 3 and all(0 <= v <= 1 for v in row) for row in scores)
