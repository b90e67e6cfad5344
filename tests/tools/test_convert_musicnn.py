"""Tests of tools/convert_musicnn.py.

The format tests build a tiny TensorFlow tensor bundle by hand, so they run anywhere.
The wheel tests need the musicnn 0.1.0 wheel (set MTAG_MUSICNN_WHEEL to its path); they
prove that the committed models/ files are exactly what the converter makes from it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import struct
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
CONVERTER = REPO / "tools" / "convert_musicnn.py"
MODEL_NAMES = ["musicnn-msd", "musicnn-mtt", "vgg-msd", "vgg-mtt"]


def _load_converter() -> ModuleType:
    """tools/ is not a package; load the script by path."""
    spec = importlib.util.spec_from_file_location("convert_musicnn", CONVERTER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


cm = _load_converter()


# ---------------------------------------------------------------------------------------
# A minimal tensor-bundle writer (LevelDB SSTable + raw data file), independent of TF.


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _proto_varint(field: int, value: int) -> bytes:
    return _varint(field << 3) + _varint(value)


def _proto_bytes(field: int, payload: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(payload)) + payload


def _bundle_entry(shape: tuple[int, ...], offset: int, raw: bytes, dtype: int = 1) -> bytes:
    dims = b"".join(_proto_bytes(2, _proto_varint(1, d)) for d in shape)
    entry = _proto_varint(1, dtype) + _proto_bytes(2, dims)
    if offset:  # proto3 leaves zero-valued fields out, as TF does
        entry += _proto_varint(4, offset)
    entry += _proto_varint(5, len(raw))
    entry += _varint(6 << 3 | 5) + struct.pack("<I", cm.mask_crc(cm.crc32c(raw)))
    return entry


def _block(items: list[tuple[bytes, bytes]], restart_interval: int = 2) -> bytes:
    """LevelDB block: prefix-compressed keys, restart points every `restart_interval` keys."""
    out, restarts, previous = bytearray(), [], b""
    for i, (key, value) in enumerate(items):
        shared = 0
        if i % restart_interval == 0:
            restarts.append(len(out))
        else:
            while shared < min(len(key), len(previous)) and key[shared] == previous[shared]:
                shared += 1
        out += _varint(shared) + _varint(len(key) - shared) + _varint(len(value))
        out += key[shared:] + value
        previous = key
    restarts = restarts or [0]
    out += b"".join(struct.pack("<I", r) for r in restarts) + struct.pack("<I", len(restarts))
    return bytes(out)


def _append_block(file: bytearray, block: bytes) -> bytes:
    """Append block + trailer; return its encoded BlockHandle."""
    handle = _varint(len(file)) + _varint(len(block))
    file += block + b"\x00" + struct.pack("<I", cm.mask_crc(cm.crc32c(block + b"\x00")))
    return handle


def _sstable(items: list[tuple[bytes, bytes]], per_block: int) -> bytes:
    """Write sorted items into data blocks of `per_block` entries, an index and a footer."""
    file = bytearray()
    index = []
    for start in range(0, len(items), per_block):
        chunk = items[start : start + per_block]
        index.append((chunk[-1][0], _append_block(file, _block(chunk))))
    metaindex_handle = _append_block(file, _block([]))
    index_handle = _append_block(file, _block(index, restart_interval=1))
    footer = (metaindex_handle + index_handle).ljust(40, b"\x00") + struct.pack("<Q", cm.TABLE_MAGIC)
    return bytes(file + footer)


TINY_TENSORS = {
    "a/bias": np.array([1.5, -2.0, 3.25], dtype=np.float32),
    "a/kernel": np.arange(6, dtype=np.float32).reshape(2, 3) / 7,
    "a/kernel/Adam": np.full((2, 3), -0.5, dtype=np.float32),
    "beta1_power": np.array(0.9, dtype=np.float32),
}
HEADER = _proto_varint(1, 1) + _proto_bytes(3, _proto_varint(1, 1))  # num_shards=1, version{producer=1}


def _tiny_bundle(dtype: int = 1, per_block: int = 2) -> tuple[bytes, bytes]:
    """(index bytes, data bytes) for TINY_TENSORS, with 8-byte gaps between tensors."""
    data = bytearray()
    items = [(b"", HEADER)]
    for name in sorted(TINY_TENSORS):
        raw = TINY_TENSORS[name].astype("<f4").tobytes()
        items.append((name.encode(), _bundle_entry(TINY_TENSORS[name].shape, len(data), raw, dtype)))
        data += raw + b"\xee" * 8
    return _sstable(items, per_block), bytes(data)


# ---------------------------------------------------------------------------------------
# Format tests (no wheel needed).


def test_crc32c_known_vectors() -> None:
    assert cm.crc32c(b"123456789") == 0xE3069283
    assert cm.crc32c(bytes(32)) == 0x8A9136AA  # RFC 3720 B.4
    assert cm.crc32c(b"\xff" * 32) == 0x62A8AB43


@pytest.mark.parametrize("per_block", [1, 2, 10])
def test_reader_returns_exact_arrays(per_block: int) -> None:
    index, data = _tiny_bundle(per_block=per_block)
    num_shards, entries = cm.read_bundle_index(index)
    assert num_shards == 1
    assert list(entries) == sorted(TINY_TENSORS)
    tensors = cm.load_tensors(entries, [data])
    for name, expected in TINY_TENSORS.items():
        assert tensors[name].dtype == np.float32
        assert tensors[name].shape == expected.shape
        assert np.array_equal(tensors[name], expected)


def test_reader_keep_filter_and_optimizer_slots() -> None:
    index, data = _tiny_bundle()
    _, entries = cm.read_bundle_index(index)
    kept = cm.load_tensors(entries, [data], keep=lambda n: not cm.is_optimizer_slot(n))
    assert sorted(kept) == ["a/bias", "a/kernel"]


def test_reader_rejects_non_float32() -> None:
    index, _ = _tiny_bundle(dtype=2)  # DT_DOUBLE
    with pytest.raises(cm.ConversionError, match="not float32"):
        cm.read_bundle_index(index)


def test_reader_rejects_corrupt_tensor_bytes() -> None:
    index, data = _tiny_bundle()
    _, entries = cm.read_bundle_index(index)
    corrupt = bytearray(data)
    corrupt[entries["a/kernel"].offset + 5] ^= 0x01
    with pytest.raises(cm.ConversionError, match="crc32c mismatch"):
        cm.load_tensors(entries, [bytes(corrupt)])


def test_reader_rejects_corrupt_block_and_bad_magic() -> None:
    index, _ = _tiny_bundle()
    corrupt = bytearray(index)
    corrupt[3] ^= 0x40
    with pytest.raises(cm.ConversionError, match="crc32c mismatch"):
        cm.read_bundle_index(bytes(corrupt))
    with pytest.raises(cm.ConversionError, match="magic"):
        cm.read_bundle_index(index[:-1] + b"\x00")


def test_experiment_result_formats() -> None:
    assert cm.parse_experiment_result("Experiment: ['x']\nAUC: 0.88\nAUC: 0.29") == {"roc_auc": 0.88, "pr_auc": 0.29}
    labelled = "Results on the MagnaTagATune test set:\nROC-AUC: 0.9066769123674747\nPR-AUC: 0.38310571748763617\n"
    assert cm.parse_experiment_result(labelled) == {"roc_auc": 0.9066769123674747, "pr_auc": 0.38310571748763617}
    for bad in ("AUC: 0.9", "nothing here", "AUC: 0.2\nAUC: 0.9"):
        with pytest.raises(cm.ConversionError):
            cm.parse_experiment_result(bad)


def test_read_labels_uses_literal_eval() -> None:
    source = "SR = 16000\nMTT_LABELS = ['a', 'b c']\nMSD_LABELS = ['x']\n"
    assert cm.read_labels(source, "MTT_LABELS") == ["a", "b c"]
    with pytest.raises(cm.ConversionError):
        cm.read_labels(source, "OTHER_LABELS")


# ---------------------------------------------------------------------------------------
# Wheel tests.

WHEEL = os.environ.get("MTAG_MUSICNN_WHEEL")
needs_wheel = pytest.mark.skipif(
    not WHEEL or not Path(WHEEL).is_file(),
    reason="set MTAG_MUSICNN_WHEEL to the path of musicnn-0.1.0-py3-none-any.whl to run the conversion tests",
)


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("models")
    cm.convert_wheel(Path(WHEEL or ""), out, log=lambda line: None)
    return out


#: Channels per layer after the dead ones are removed (measured on the checkpoints; see the
#: pruning object in each model.json) and the parameters left.
PRUNED_PARAMS = {
    "musicnn-msd": {"timbral_filters": [26, 16], "temporal_filters": [4, 10, 17], "midend_filters": [20, 64, 64]},
    "musicnn-mtt": {"timbral_filters": [151, 95], "temporal_filters": [43, 46, 50], "midend_filters": [21, 63, 64]},
    "vgg-msd": {"filters": [49, 53, 88, 81, 127]},
    "vgg-mtt": {"filters": [91, 88, 112, 114, 128]},
}
PRUNED_PARAMETERS = {"musicnn-msd": 167_331, "musicnn-mtt": 421_068, "vgg-msd": 240_410, "vgg-mtt": 427_332}

# SPEC.md sections 0 and 4 (rounded to 4 decimals there).
INPUT_BN = {
    "musicnn-msd": {"weight": 0.5536, "bias": -0.1637, "running_mean": 2.1978, "running_var": 1.5852},
    "musicnn-mtt": {"weight": 0.3238, "bias": 0.0356, "running_mean": 1.5940, "running_var": 1.7469},
}
METRICS = {  # (ROC-AUC, PR-AUC)
    "musicnn-mtt": (0.9067, 0.3831),
    "musicnn-msd": (0.8802, 0.2891),
    "vgg-mtt": (0.9030, 0.3823),
    "vgg-msd": (0.8768, 0.2819),
}


@needs_wheel
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_committed_models_are_byte_identical(converted: Path, name: str) -> None:
    committed = REPO / "models" / name
    made = sorted(p.name for p in (converted / name).iterdir())
    assert made == ["model.json", "weights.safetensors"]
    assert sorted(p.name for p in committed.iterdir()) == made
    for file in made:
        assert (converted / name / file).read_bytes() == (committed / file).read_bytes(), f"{name}/{file} differs"


@needs_wheel
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_state_dict_keys_and_shapes(converted: Path, name: str) -> None:
    from safetensors.numpy import load_file

    from mtag.nets.registry import build_network

    card = json.loads((converted / name / "model.json").read_text(encoding="utf-8"))
    assert {k: v for k, v in card["architecture"]["params"].items() if k in PRUNED_PARAMS[name]} == PRUNED_PARAMS[name]
    network = build_network(card["architecture"]["name"], card["architecture"]["params"])
    expected = {k: tuple(v.shape) for k, v in network.state_dict().items() if not k.endswith("num_batches_tracked")}
    state = load_file(converted / name / "weights.safetensors")
    assert {k: v.shape for k, v in state.items()} == expected
    assert all(v.dtype == np.float32 for v in state.values())
    assert not any("Adam" in k or "power" in k or "num_batches_tracked" in k for k in state)
    assert sum(v.size for v in state.values()) == PRUNED_PARAMETERS[name] == card["weights"]["parameters"]


@needs_wheel
@pytest.mark.parametrize("spec", cm.MODELS, ids=lambda s: s.name)
def test_checkpoint_has_optimizer_slots_that_are_dropped(spec) -> None:
    wheel = cm.Wheel(Path(WHEEL or ""))
    _, entries = cm.read_bundle_index(wheel.read(f"musicnn/{spec.wheel_dir}/.index"))
    slots = [n for n in entries if cm.is_optimizer_slot(n)]
    model_vars = [n for n in entries if not cm.is_optimizer_slot(n)]
    n_trainable = sum(not n.endswith(("moving_mean", "moving_variance")) for n in model_vars)
    assert len(slots) == 2 * n_trainable + 2  # Adam, Adam_1 per trainable + beta1/2_power
    assert len(model_vars) == {"musicnn": 64, "vgg": 36}[spec.arch]  # SPEC sections 2-3
    assert sorted(cm.variable_map(cm.ARCH_LAYERS[spec.arch])) == sorted(model_vars)


@needs_wheel
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_model_json(converted: Path, name: str) -> None:
    raw = (converted / name / "model.json").read_bytes()
    card = json.loads(raw)
    assert raw.decode("utf-8") == json.dumps(card, indent=2, ensure_ascii=False) + "\n"
    assert list(card) == [
        "format", "name", "description", "kind", "architecture", "frontend", "input", "activation", "labels",
        "training", "metrics", "pruning", "source", "license", "license_text", "attribution", "weights",
    ]  # fmt: skip
    assert card["name"] == name and card["format"] == 2 and card["license"] == "ISC"
    assert card["frontend"]["kind"] == "musicnn-logmel" and card["input"]["window_samples"] == 187 * 256
    assert card["input"]["fixed_length"] == name.startswith("vgg")
    weights = (converted / name / card["weights"]["file"]).read_bytes()
    assert card["weights"]["sha256"] == hashlib.sha256(weights).hexdigest()
    assert card["source"]["wheel_sha256"] == hashlib.sha256(Path(WHEEL or "").read_bytes()).hexdigest()
    assert len(card["labels"]) == card["architecture"]["params"]["n_labels"] == 50
    assert card["labels"][0] == ("rock" if name.endswith("msd") else "guitar")
    roc, pr = METRICS[name]
    assert card["metrics"]["roc_auc"] == pytest.approx(roc, abs=5e-5)
    assert card["metrics"]["pr_auc"] == pytest.approx(pr, abs=5e-5)
    assert "Permission to use, copy, modify" in card["license_text"]


@needs_wheel
@pytest.mark.parametrize("name", sorted(INPUT_BN))
def test_input_bn_matches_spec(converted: Path, name: str) -> None:
    from safetensors.numpy import load_file

    state = load_file(converted / name / "weights.safetensors")
    for key, value in INPUT_BN[name].items():
        assert state[f"input_bn.{key}"][0] == pytest.approx(value, abs=5e-5), key


@needs_wheel
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_pruning_record(converted: Path, name: str) -> None:
    """model.json says per layer how many channels were dead and removed, and why."""
    card = json.loads((converted / name / "model.json").read_text(encoding="utf-8"))
    pruning = card["pruning"]
    assert "fan-in weights sum to |W| < 1e-08" in pruning["criterion"]
    layers = pruning["layers"]
    assert all(0 <= layer["removed"] <= layer["dead"] <= layer["channels"] for layer in layers.values())
    if name == "musicnn-msd":  # the audit: 1,019 of pool_bn's 1,506 had variance ~1e-36
        assert layers["timbral.0"] == {"channels": 204, "dead": 178, "removed": 178}
        assert layers["midend.1"] == {"channels": 64, "dead": 3, "removed": 0}  # their residual input is live
        assert layers["pool_bn"]["removed"] == 1064
    widths = [w for v in PRUNED_PARAMS[name].values() for w in v]
    convs = [v for k, v in layers.items() if k != "pool_bn"]
    assert widths == [layer["channels"] - layer["removed"] for layer in convs]


# ---------------------------------------------------------------------------------------
# Pruning on small random networks (no wheel needed).


def _random_state(network, seed: int) -> dict[str, np.ndarray]:
    """A checkpoint-like state: random weights, BN statistics with positive variances, no const_taps."""
    rng = np.random.default_rng(seed)
    state = {}
    for key, value in network.state_dict().items():
        if key.endswith(("num_batches_tracked", "const_taps")):
            continue
        shape = tuple(value.shape)
        if key.endswith("running_var"):
            state[key] = rng.uniform(0.5, 2.0, shape)
        elif key.endswith("bn.weight"):
            state[key] = rng.uniform(0.5, 1.5, shape)  # BN gamma
        else:
            state[key] = rng.normal(0.0, 0.3, shape)
    return {k: v.astype(np.float32) for k, v in state.items()}


def _kill(state: dict[str, np.ndarray], block: str, channels: list[int], bias: float = 0.2) -> None:
    """Make channels dead as training did: weights ~1e-12, a bias clear of the ReLU's kink."""
    state[f"{block}.conv.weight"][channels] = 1e-12
    state[f"{block}.conv.bias"][channels] = bias


def _check_pruned(arch: str, params: dict, state: dict[str, np.ndarray]):
    pruned = cm.prune(arch, params, state)
    cm.check_fits_network(arch, {**params, **pruned.widths}, pruned.state)
    assert cm.pruning_difference(arch, params, state, pruned) < cm.PRUNING_TOLERANCE  # float32 storage: ~1e-8
    return pruned


def test_pruned_musicnn_computes_the_same_function_at_every_length() -> None:
    """The mid end zero-pads in time: folded constants must differ at the 3 edge frames.

    Folding them as one scalar bias instead moves these probabilities by 0.2
    (the 3- and 9-frame inputs are nearly all edge).
    """
    from mtag.nets.musicnn import Musicnn

    params = {"n_labels": 5, "n_mels": 20, "timbral_filters": 6, "temporal_filters": 4, "midend_filters": 5,
              "backend_units": 7}  # fmt: skip
    state = _random_state(Musicnn(**params), seed=3)
    _kill(state, "timbral.0", [0, 2, 5])
    _kill(state, "timbral.1", [1], bias=-0.3)  # ReLU(negative) = 0: still a constant
    _kill(state, "temporal.2", [3])
    _kill(state, "midend.0", [0, 1, 3])
    _kill(state, "midend.1", [1, 2])  # 1: dead in x1 and x2 -> removed; 2: residual input live -> kept
    _kill(state, "midend.2", [4])
    pruned = _check_pruned("musicnn", params, state)
    assert pruned.widths == {"timbral_filters": [3, 5], "temporal_filters": [4, 4, 3], "midend_filters": [2, 4, 5]}
    assert pruned.removed["midend.1"] == {"channels": 5, "dead": 2, "removed": 1}
    assert pruned.removed["pool_bn"]["removed"] == 2 * (5 + 3 + 1)  # front, x1, x2: (max, mean) each


def test_pruned_vgg_computes_the_same_function() -> None:
    from mtag.nets.vgg import Vgg

    params = {"n_labels": 4, "n_mels": 96, "n_frames": 187, "filters": 4}
    state = _random_state(Vgg(**params), seed=4)
    for i, channels in enumerate([[0], [1, 2], [], [3], [0]]):
        _kill(state, f"blocks.{i}", channels)
    pruned = _check_pruned("vgg", params, state)
    assert pruned.widths == {"filters": [3, 2, 4, 3, 3]}


def test_channels_with_real_weights_or_no_relu_margin_are_kept() -> None:
    """Constant on the training data is not enough: only provably constant channels go."""
    from mtag.nets.vgg import Vgg

    params = {"n_labels": 4, "n_mels": 96, "n_frames": 187, "filters": 3}
    state = _random_state(Vgg(**params), seed=5)
    state["blocks.1.conv.weight"][0] = 1e-4  # small but real: its output follows the input
    state["blocks.1.conv.weight"][1] = 1e-12
    state["blocks.1.conv.bias"][1] = 1e-10  # at the ReLU's kink: an input could switch it
    state["blocks.1.bn.running_var"][:2] = 1e-36  # what BN statistics alone would call dead
    assert not cm.dead_channels(state, "blocks.1").any()
    assert cm.prune("vgg", params, state).widths == {"filters": [3, 3, 3, 3, 3]}


@needs_wheel
def test_keep_dead_channels_writes_the_original_networks_scoring_as_the_shipped_ones(converted, tmp_path):
    """The benchmarks' baseline: every channel kept, paper widths, the same scores as the pruned model."""
    import torch

    from mtag.catalog import find_model
    from mtag.nets.tagger import Tagger

    out = tmp_path / "full"
    cm.main([str(WHEEL), "--out", str(out), "--keep-dead-channels"])
    full = find_model(str(out / "musicnn-msd"))
    assert full.params["timbral_filters"] == 204 and full.pruning is None and full.weights.parameters == 792079
    pruned = find_model(str(converted / "musicnn-msd"))
    logmel = torch.from_numpy(np.random.default_rng(0).uniform(0.0, 4.0, (3, 187, 96)).astype(np.float32))
    scores = [Tagger(card, torch.device("cpu")).predict_features(logmel).numpy() for card in (full, pruned)]
    np.testing.assert_allclose(scores[0], scores[1], rtol=0, atol=1e-6)
