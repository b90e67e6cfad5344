"""A network's cost: multiply-accumulates counted on one window, and the figures `mtag models show` prints."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from mtag.catalog import find_model
from mtag.nets.profile import card_profile, window_macs
from tests.library.helpers import mtag


def test_macs_of_a_known_network() -> None:
    # Linear 10->3 on 5 frames: 5 x 10 x 3 = 150; a 1-D convolution 4->2, kernel 3, 8 outputs: 8 x 4 x 3 x 2 = 192.
    assert window_macs(nn.Linear(10, 3), torch.zeros(1, 5, 10)) == 150
    assert window_macs(nn.Conv1d(4, 2, 3), torch.zeros(1, 4, 10)) == 192


def test_a_transformer_encoder_is_counted_whole_in_evaluation_mode() -> None:
    # One encoder layer, 50 tokens of width 16 (feed-forward 32), batch-first as the zoo's transformer:
    # projections 50 x 16 x (3 x 16 + 16) = 51,200, attention 2 x 50 x 50 x 16 = 80,000, feed-forward 50 x 16 x 32 x 2
    # = 51,200 MACs -- in evaluation mode PyTorch fuses the layer into one kernel the FLOP counter cannot see.
    layer = nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, dropout=0.0, batch_first=True)
    encoder = nn.TransformerEncoder(layer, 1, enable_nested_tensor=False)
    assert window_macs(encoder, torch.zeros(1, 50, 16)) == 51_200 + 80_000 + 51_200
    assert torch.backends.mha.get_fastpath_enabled()  # the setting is put back


def test_a_shipped_model_is_profiled_from_its_card() -> None:
    card = find_model("musicnn-msd")
    profile = card_profile(card)
    assert 100_000 < profile["parameters"] < card.weights.parameters * 1.1
    assert profile["macs_per_window"] > 10 * profile["parameters"]  # convolutions reuse each weight many times


def test_models_show_counts_the_cost_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = mtag(capsys, "models", "show", "vgg-msd")
    assert code == 0 and "240k parameters (--profile counts MACs per window)" in out
    code, out, _ = mtag(capsys, "models", "show", "vgg-msd", "--profile")
    assert code == 0 and "MACs per window" in out and "--profile" not in out
