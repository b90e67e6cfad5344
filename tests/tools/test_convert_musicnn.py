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


def _bn(prefix: str, n: int) -> dict[str, tuple[int, ...]]:
    return {f"{prefix}.{k}": (n,) for k in ("weight", "bias", "running_mean", "running_var")}


def _layer(prefix: str, shape: tuple[int, ...]) -> dict[str, tuple[int, ...]]:
    return {f"{prefix}.weight": shape, f"{prefix}.bias": (shape[0],)}


MUSICNN_SHAPES = {
    **_bn("input_bn", 1),
    **_layer("timbral.0.conv", (204, 1, 7, 38)),
    **_bn("timbral.0.bn", 204),
    **_layer("timbral.1.conv", (204, 1, 7, 67)),
    **_bn("timbral.1.bn", 204),
    **_layer("temporal.0.conv", (51, 1, 128, 1)),
    **_bn("temporal.0.bn", 51),
    **_layer("temporal.1.conv", (51, 1, 64, 1)),
    **_bn("temporal.1.bn", 51),
    **_layer("temporal.2.conv", (51, 1, 32, 1)),
    **_bn("temporal.2.bn", 51),
    **_layer("midend.0.conv", (64, 561, 7)),
    **_bn("midend.0.bn", 64),
    **_layer("midend.1.conv", (64, 64, 7)),
    **_bn("midend.1.bn", 64),
    **_layer("midend.2.conv", (64, 64, 7)),
    **_bn("midend.2.bn", 64),
    **_bn("pool_bn", 1506),
    **_layer("dense", (200, 1506)),
    **_bn("dense_bn", 200),
    **_layer("classifier", (50, 200)),
}
VGG_SHAPES = {
    **_bn("input_bn", 1),
    **_layer("blocks.0.conv", (128, 1, 3, 3)),
    **{k: v for i in range(1, 5) for k, v in _layer(f"blocks.{i}.conv", (128, 128, 3, 3)).items()},
    **{k: v for i in range(5) for k, v in _bn(f"blocks.{i}.bn", 128).items()},
    **_layer("classifier", (50, 256)),
}
EXPECTED_SHAPES = {"musicnn": MUSICNN_SHAPES, "vgg": VGG_SHAPES}
EXPECTED_PARAMETERS = {"musicnn": 787_159 + 4_920, "vgg": 605_748 + 1_282}

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

    card = json.loads((converted / name / "model.json").read_text(encoding="utf-8"))
    arch = card["architecture"]["name"]
    state = load_file(converted / name / "weights.safetensors")
    assert {k: v.shape for k, v in state.items()} == EXPECTED_SHAPES[arch]
    assert all(v.dtype == np.float32 for v in state.values())
    assert not any("Adam" in k or "power" in k or "num_batches_tracked" in k for k in state)
    assert sum(v.size for v in state.values()) == EXPECTED_PARAMETERS[arch] == card["weights"]["parameters"]


@needs_wheel
@pytest.mark.parametrize("spec", cm.MODELS, ids=lambda s: s.name)
def test_checkpoint_has_optimizer_slots_that_are_dropped(spec) -> None:
    wheel = cm.Wheel(Path(WHEEL or ""))
    _, entries = cm.read_bundle_index(wheel.read(f"musicnn/{spec.wheel_dir}/.index"))
    slots = [n for n in entries if cm.is_optimizer_slot(n)]
    model_vars = [n for n in entries if not cm.is_optimizer_slot(n)]
    n_trainable = sum(not n.endswith(("moving_mean", "moving_variance")) for n in model_vars)
    assert len(slots) == 2 * n_trainable + 2  # Adam, Adam_1 per trainable + beta1/2_power
    assert len(model_vars) == len(EXPECTED_SHAPES[spec.arch])
    assert sorted(cm.variable_map(cm.ARCH_LAYERS[spec.arch])) == sorted(model_vars)


@needs_wheel
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_model_json(converted: Path, name: str) -> None:
    raw = (converted / name / "model.json").read_bytes()
    card = json.loads(raw)
    assert raw.decode("utf-8") == json.dumps(card, indent=2, ensure_ascii=False) + "\n"
    assert list(card) == [
        "format", "name", "description", "kind", "architecture", "labels", "activation", "preprocessing",
        "training", "metrics", "source", "license", "license_text", "attribution", "weights",
    ]  # fmt: skip
    assert card["name"] == name and card["format"] == 1 and card["license"] == "ISC"
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
