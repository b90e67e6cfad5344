#!/usr/bin/env python3
"""Convert the four musicnn 0.1.0 TensorFlow checkpoints to PyTorch-named safetensors.

Why this exists
---------------
mtag ships the pre-trained musicnn models (Pons & Serra 2019, ISC licence) but must not
depend on TensorFlow.  This tool turns the checkpoints inside the PyPI wheel
``musicnn-0.1.0-py3-none-any.whl`` into ``models/<name>/weights.safetensors`` plus a
``models/<name>/model.json`` that records labels, preprocessing, provenance and licence.
It is deterministic (same wheel -> byte-identical output), so the committed models can be
re-derived and checked by anyone (see tests/tools/test_convert_musicnn.py).

Formats read (all from the wheel zip, never unpacked to disk)
--------------------------------------------------------------
* ``musicnn/<MODEL>/.index`` -- a TensorFlow *tensor bundle* index, which is a LevelDB
  SSTable: data blocks of prefix-compressed ``key -> value`` entries (each entry is
  ``varint shared, varint non_shared, varint value_len, key_delta, value``) followed by a
  ``uint32`` restart array and its ``uint32`` length; every block is followed by a 5-byte
  trailer (compression type byte, masked crc32c).  The file ends with a 48-byte footer:
  metaindex and index ``BlockHandle``s (varint offset, varint size), zero padding, and
  the magic ``0xdb4775248b80fb57``.  The index block maps separator keys to data-block
  handles.  Key ``""`` holds a ``BundleHeaderProto``; every other key is a tensor name
  whose value is a ``BundleEntryProto`` (dtype, shape, shard, offset, size, crc32c).
* ``musicnn/<MODEL>/.data-00000-of-00001`` -- raw little-endian tensor bytes at the
  offsets given by the index.
* ``musicnn/configuration.py`` -- the label lists (read with ``ast``, never executed).
* ``musicnn/<MODEL>/experiment.result`` -- the reported ROC-AUC / PR-AUC.
* ``musicnn/<MODEL>/config.json`` -- training configuration, used only to cross-check
  the preprocessing constants written to model.json.
* ``musicnn-0.1.0.dist-info/{METADATA,RECORD,LICENSE.md}`` -- identity, integrity (every
  file read is checked against its RECORD sha256) and the licence text.

Not read: ``.meta`` (the TF graph; SPEC.md documents it and the shapes are checked here)
and ``checkpoint`` (it only points at the author's home directory).

Formats written
---------------
* ``weights.safetensors`` -- float32, C-contiguous, PyTorch state_dict names and layouts
  (conv2d ``[kh,kw,in,out] -> [out,in,kh,kw]``, dense ``[in,out] -> [out,in]``, BatchNorm
  gamma/beta/moving_mean/moving_variance -> weight/bias/running_mean/running_var; no
  ``num_batches_tracked``).  Adam slots and ``beta{1,2}_power`` are dropped.
* ``model.json`` -- mtag's model card (:mod:`mtag.cards`), see :func:`build_card`.

Usage: ``python tools/convert_musicnn.py WHEEL [--out models]``.
"""

from __future__ import annotations

import argparse
import ast
import base64
import hashlib
import json
import re
import struct
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from mtag.cards import ModelCard

# ---------------------------------------------------------------------------------------
# Errors


class ConversionError(Exception):
    """Anything about the input that the converter does not understand or does not trust."""


def _require(condition: bool, message: str) -> None:
    """Fail loudly: a silently wrong model is far worse than no model."""
    if not condition:
        raise ConversionError(message)


# ---------------------------------------------------------------------------------------
# crc32c (Castagnoli).  TensorFlow checksums every SSTable block and every tensor with it.
# A plain table-driven loop does ~15 MB/s here, i.e. well under a second for all four
# models' weights, so no native crc32c package is needed.

_CRC32C_POLY = 0x82F63B78  # reflected Castagnoli polynomial


def _make_crc_table() -> list[int]:
    """The standard 256-entry table for the reflected CRC-32C register update."""
    table = []
    for value in range(256):
        for _ in range(8):
            value = (value >> 1) ^ _CRC32C_POLY if value & 1 else value >> 1
        table.append(value)
    return table


_CRC_TABLE = _make_crc_table()


def crc32c(data: bytes) -> int:
    """CRC-32C of ``data`` (init and final xor 0xFFFFFFFF, as in RFC 3720 / TensorFlow)."""
    table = _CRC_TABLE
    reg = 0xFFFFFFFF
    for byte in data:
        reg = table[(reg ^ byte) & 0xFF] ^ (reg >> 8)
    return reg ^ 0xFFFFFFFF


def mask_crc(crc: int) -> int:
    """LevelDB/TensorFlow store CRCs "masked" so that CRCs of CRCs stay well distributed."""
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


# ---------------------------------------------------------------------------------------
# Protocol-buffer wire format: just enough to decode BundleHeaderProto / BundleEntryProto.


def read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    """Decode a base-128 varint at ``pos``; return (value, next position)."""
    value = shift = 0
    while True:
        _require(pos < len(buf), "truncated varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        _require(shift < 64, "varint longer than 10 bytes")


def iter_proto_fields(buf: bytes) -> Iterator[tuple[int, int | bytes]]:
    """Yield ``(field_number, value)``: ints for varint/fixed fields, bytes for length-delimited."""
    pos = 0
    while pos < len(buf):
        tag, pos = read_varint(buf, pos)
        field, wire_type = tag >> 3, tag & 7
        if wire_type == 0:
            value, pos = read_varint(buf, pos)
        elif wire_type == 1:
            _require(pos + 8 <= len(buf), "truncated fixed64")
            (value,) = struct.unpack_from("<Q", buf, pos)
            pos += 8
        elif wire_type == 5:
            _require(pos + 4 <= len(buf), "truncated fixed32")
            (value,) = struct.unpack_from("<I", buf, pos)
            pos += 4
        elif wire_type == 2:
            length, pos = read_varint(buf, pos)
            _require(pos + length <= len(buf), "truncated length-delimited field")
            value = bytes(buf[pos : pos + length])
            pos += length
        else:
            raise ConversionError(f"unsupported protobuf wire type {wire_type}")
        yield field, value


# ---------------------------------------------------------------------------------------
# LevelDB SSTable (TensorFlow's tensorflow/core/lib/io/table format).

TABLE_MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48
BLOCK_TRAILER_SIZE = 5


def _read_block_handle(buf: bytes, pos: int) -> tuple[tuple[int, int], int]:
    """A BlockHandle is two varints: (offset, size of the block without its trailer)."""
    offset, pos = read_varint(buf, pos)
    size, pos = read_varint(buf, pos)
    return (offset, size), pos


def read_block(table: bytes, handle: tuple[int, int]) -> bytes:
    """Return one block's contents after checking its trailer (uncompressed, crc32c)."""
    offset, size = handle
    end = offset + size
    _require(end + BLOCK_TRAILER_SIZE <= len(table), f"block {handle} runs past the end of the table")
    block = table[offset:end]
    block_type = table[end]
    _require(block_type == 0, f"block {handle} is compressed (type {block_type}); not supported")
    (stored,) = struct.unpack_from("<I", table, end + 1)
    actual = mask_crc(crc32c(table[offset : end + 1]))
    _require(stored == actual, f"block {handle}: crc32c mismatch ({stored:#x} != {actual:#x})")
    return block


def iter_block_entries(block: bytes) -> Iterator[tuple[bytes, bytes]]:
    """Yield ``(key, value)`` from a block, undoing the shared-prefix key compression."""
    _require(len(block) >= 4, "block shorter than its restart count")
    (num_restarts,) = struct.unpack_from("<I", block, len(block) - 4)
    limit = len(block) - 4 - 4 * num_restarts
    _require(limit >= 0, "restart array larger than the block")
    pos, key = 0, b""
    while pos < limit:
        shared, pos = read_varint(block, pos)
        non_shared, pos = read_varint(block, pos)
        value_len, pos = read_varint(block, pos)
        _require(shared <= len(key) and pos + non_shared + value_len <= limit, "corrupt block entry")
        key = key[:shared] + block[pos : pos + non_shared]
        pos += non_shared
        yield key, block[pos : pos + value_len]
        pos += value_len


def read_sstable(table: bytes) -> dict[bytes, bytes]:
    """Read every ``key -> value`` of an uncompressed SSTable, in key order."""
    _require(len(table) >= FOOTER_SIZE, "file too short to be an SSTable")
    footer = table[-FOOTER_SIZE:]
    (magic,) = struct.unpack_from("<Q", footer, FOOTER_SIZE - 8)
    _require(magic == TABLE_MAGIC, f"bad SSTable magic {magic:#x}")
    _metaindex, pos = _read_block_handle(footer, 0)
    index_handle, _ = _read_block_handle(footer, pos)
    entries: dict[bytes, bytes] = {}
    previous: bytes | None = None
    for _separator, handle_bytes in iter_block_entries(read_block(table, index_handle)):
        handle, _ = _read_block_handle(handle_bytes, 0)
        for key, value in iter_block_entries(read_block(table, handle)):
            _require(previous is None or key > previous, f"keys out of order at {key!r}")
            entries[key] = value
            previous = key
    return entries


# ---------------------------------------------------------------------------------------
# TensorFlow tensor bundle (tensorflow/core/protobuf/tensor_bundle.proto).

DT_FLOAT = 1


@dataclass(frozen=True)
class BundleEntry:
    """Where one tensor lives in the data file (BundleEntryProto)."""

    dtype: int
    shape: tuple[int, ...]
    shard_id: int
    offset: int
    size: int
    crc32c: int


def parse_tensor_shape(buf: bytes) -> tuple[int, ...]:
    """TensorShapeProto: repeated field 2 ``dim {size = 1}``; field 3 = unknown_rank."""
    dims: list[int] = []
    for field, value in iter_proto_fields(buf):
        if field == 2:
            size = next((v for f, v in iter_proto_fields(value) if f == 1), 0)
            _require(size < 1 << 63, "negative tensor dimension")
            dims.append(int(size))
        elif field == 3:
            _require(not value, "tensor of unknown rank")
    return tuple(dims)


def parse_bundle_entry(buf: bytes) -> BundleEntry:
    """Decode a BundleEntryProto; partitioned (sliced) tensors are rejected."""
    fields: dict[str, int | tuple[int, ...]] = {
        "dtype": 0, "shape": (), "shard_id": 0, "offset": 0, "size": 0, "crc32c": 0
    }  # proto3 defaults: fields equal to zero are not stored
    names = {1: "dtype", 3: "shard_id", 4: "offset", 5: "size", 6: "crc32c"}
    for field, value in iter_proto_fields(buf):
        if field == 2:
            fields["shape"] = parse_tensor_shape(value)
        elif field == 7:
            raise ConversionError("partitioned (sliced) tensors are not supported")
        elif field in names:
            fields[names[field]] = value
    return BundleEntry(**fields)  # type: ignore[arg-type]


def parse_bundle_header(buf: bytes) -> int:
    """Check the BundleHeaderProto (little-endian) and return its number of shards."""
    num_shards, endianness = 0, 0
    for field, value in iter_proto_fields(buf):
        if field == 1:
            num_shards = int(value)  # type: ignore[arg-type]
        elif field == 2:
            endianness = int(value)  # type: ignore[arg-type]
    _require(endianness == 0, "big-endian tensor bundles are not supported")
    _require(num_shards >= 1, "bundle header reports no shards")
    return num_shards


def _check_entry(name: str, entry: BundleEntry, num_shards: int) -> None:
    """All musicnn tensors are float32; anything else means we misread the index."""
    _require(entry.dtype == DT_FLOAT, f"{name}: dtype {entry.dtype} is not float32 (1)")
    count = int(np.prod(entry.shape, dtype=np.int64))
    _require(entry.size == 4 * count, f"{name}: {entry.size} bytes for float32 shape {entry.shape}")
    _require(0 <= entry.shard_id < num_shards, f"{name}: shard {entry.shard_id} out of range")


def read_bundle_index(index: bytes) -> tuple[int, dict[str, BundleEntry]]:
    """Parse a bundle's ``.index``: (number of shards, tensor name -> entry), all checked."""
    table = read_sstable(index)
    _require(b"" in table, "bundle index has no header entry (key '')")
    num_shards = parse_bundle_header(table.pop(b""))
    entries = {key.decode("utf-8"): parse_bundle_entry(value) for key, value in table.items()}
    for name, entry in entries.items():
        _check_entry(name, entry, num_shards)
    return num_shards, entries


def load_tensor(name: str, entry: BundleEntry, data: bytes) -> np.ndarray:
    """Read one float32 tensor from its data shard after checking its crc32c."""
    _require(entry.offset + entry.size <= len(data), f"{name}: bytes past the end of the data file")
    raw = data[entry.offset : entry.offset + entry.size]
    actual = mask_crc(crc32c(raw))
    _require(actual == entry.crc32c, f"{name}: crc32c mismatch ({entry.crc32c:#x} != {actual:#x})")
    return np.frombuffer(raw, dtype="<f4").reshape(entry.shape).astype(np.float32)


def load_tensors(
    entries: dict[str, BundleEntry], shards: list[bytes], keep: Callable[[str], bool] = lambda name: True
) -> dict[str, np.ndarray]:
    """Load every tensor whose name passes ``keep`` from the in-memory data shards."""
    return {name: load_tensor(name, entry, shards[entry.shard_id]) for name, entry in entries.items() if keep(name)}


def data_shard_name(prefix: str, shard: int, num_shards: int) -> str:
    """TensorFlow's shard file naming: ``<prefix>.data-00000-of-00001``."""
    return f"{prefix}.data-{shard:05d}-of-{num_shards:05d}"


# ---------------------------------------------------------------------------------------
# The wheel.

WHEEL_NAME, WHEEL_VERSION = "musicnn", "0.1.0"
DIST_INFO = f"{WHEEL_NAME}-{WHEEL_VERSION}.dist-info"


class Wheel:
    """Read-only access to the musicnn wheel; every member read is checked against RECORD."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
        self._zip = zipfile.ZipFile(path)
        self._record = self._read_record()
        self._check_metadata()

    def _read_record(self) -> dict[str, str]:
        """RECORD lines are ``path,sha256=<urlsafe b64, unpadded>,size``."""
        record = {}
        for line in self._zip.read(f"{DIST_INFO}/RECORD").decode("utf-8").splitlines():
            parts = line.rsplit(",", 2)
            if len(parts) == 3 and parts[1].startswith("sha256="):
                record[parts[0]] = parts[1][len("sha256=") :]
        return record

    def _check_metadata(self) -> None:
        """model.json claims ``musicnn==0.1.0``; make sure that is what we are reading."""
        meta = self.read_text(f"{DIST_INFO}/METADATA")
        _require(f"\nName: {WHEEL_NAME}\n" in f"\n{meta}", "wheel METADATA is not for musicnn")
        _require(f"\nVersion: {WHEEL_VERSION}\n" in f"\n{meta}", f"wheel is not musicnn {WHEEL_VERSION}")

    def read(self, member: str) -> bytes:
        """Return a member's bytes after verifying its RECORD hash."""
        try:
            data = self._zip.read(member)
        except KeyError:
            raise ConversionError(f"{member} is missing from the wheel") from None
        _require(member in self._record, f"{member} has no sha256 in RECORD")
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
        _require(digest == self._record[member], f"{member}: sha256 does not match RECORD")
        return data

    def read_text(self, member: str) -> str:
        """A verified member decoded as UTF-8."""
        return self.read(member).decode("utf-8")


def read_labels(configuration_py: str, variable: str) -> list[str]:
    """Evaluate ``variable = [...]`` in configuration.py with ast.literal_eval (no exec)."""
    for node in ast.parse(configuration_py).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == variable for t in node.targets):
            labels = ast.literal_eval(node.value)
            is_str_list = isinstance(labels, list) and all(isinstance(x, str) for x in labels)
            _require(is_str_list, f"{variable} is not a list of str")
            _require(len(set(labels)) == len(labels), f"{variable} has duplicate labels")
            return labels
    raise ConversionError(f"{variable} not found in configuration.py")


_METRIC_RE = re.compile(r"\b(ROC-AUC|PR-AUC|AUC)\s*:\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)")


def parse_experiment_result(text: str) -> dict[str, float]:
    """Return {"roc_auc", "pr_auc"} from experiment.result.

    Two formats exist in the wheel: labelled ``ROC-AUC:`` / ``PR-AUC:`` lines (MTT_musicnn),
    and two bare ``AUC:`` lines, ROC first then PR (the other three, per the musicnn
    training code).  The bare form is checked for plausibility (PR-AUC < ROC-AUC for these
    50-tag tasks) because the order is a convention, not something the file states.
    """
    found = [(name, float(value)) for name, value in _METRIC_RE.findall(text)]
    labelled = {name: value for name, value in found if name != "AUC"}
    bare = [value for name, value in found if name == "AUC"]
    if labelled:
        well_formed = set(labelled) == {"ROC-AUC", "PR-AUC"} and not bare and len(found) == 2
        _require(well_formed, f"unexpected metrics in experiment.result: {found}")
        roc, pr = labelled["ROC-AUC"], labelled["PR-AUC"]
    else:
        _require(len(bare) == 2, f"expected two 'AUC:' lines in experiment.result, found {found}")
        roc, pr = bare
    _require(0.0 < pr < roc <= 1.0, f"implausible metrics ROC-AUC={roc} PR-AUC={pr}")
    return {"roc_auc": roc, "pr_auc": pr}


# ---------------------------------------------------------------------------------------
# Variable mapping TF -> PyTorch.

BN_SUFFIXES = {"gamma": "weight", "beta": "bias", "moving_mean": "running_mean", "moving_variance": "running_var"}
MOVING_STATS = ("moving_mean", "moving_variance")


def _permute_conv2d(kernel: np.ndarray) -> np.ndarray:
    """TF conv2d kernel [kh, kw, in, out] -> torch Conv2d weight [out, in, kh, kw]."""
    _require(kernel.ndim == 4, f"conv2d kernel of rank {kernel.ndim}")
    return kernel.transpose(3, 2, 0, 1)


def _permute_conv1d(kernel: np.ndarray) -> np.ndarray:
    """Mid-end TF conv2d [k, features, 1, out] (features on the W axis) -> Conv1d [out, features, k]."""
    _require(kernel.ndim == 4 and kernel.shape[2] == 1, f"mid-end kernel shape {kernel.shape}")
    return kernel[:, :, 0, :].transpose(2, 1, 0)


def _transpose_dense(kernel: np.ndarray) -> np.ndarray:
    """TF dense kernel [in, out] -> torch Linear weight [out, in]."""
    _require(kernel.ndim == 2, f"dense kernel of rank {kernel.ndim}")
    return kernel.T


Transform = Callable[[np.ndarray], np.ndarray]
VariableMap = dict[str, tuple[str, Transform | None]]  # TF name -> (torch key, layout change)

LAYER_KINDS: dict[str, Transform] = {
    "conv2d": _permute_conv2d,
    "conv1d": _permute_conv1d,
    "dense": _transpose_dense,
}

# (TF variable scope, torch module path, kind) -- kind is "bn" or a LAYER_KINDS key.
MUSICNN_LAYERS: list[tuple[str, str, str]] = [
    ("batch_normalization", "input_bn", "bn"),
    ("conv2d", "timbral.0.conv", "conv2d"),
    ("batch_normalization_1", "timbral.0.bn", "bn"),
    ("conv2d_1", "timbral.1.conv", "conv2d"),
    ("batch_normalization_2", "timbral.1.bn", "bn"),
    ("conv2d_2", "temporal.0.conv", "conv2d"),
    ("batch_normalization_3", "temporal.0.bn", "bn"),
    ("conv2d_3", "temporal.1.conv", "conv2d"),
    ("batch_normalization_4", "temporal.1.bn", "bn"),
    ("conv2d_4", "temporal.2.conv", "conv2d"),
    ("batch_normalization_5", "temporal.2.bn", "bn"),
    ("conv2d_5", "midend.0.conv", "conv1d"),
    ("batch_normalization_6", "midend.0.bn", "bn"),
    ("conv2d_6", "midend.1.conv", "conv1d"),
    ("batch_normalization_7", "midend.1.bn", "bn"),
    ("conv2d_7", "midend.2.conv", "conv1d"),
    ("batch_normalization_8", "midend.2.bn", "bn"),
    ("batch_normalization_9", "pool_bn", "bn"),
    ("dense", "dense", "dense"),
    ("batch_normalization_10", "dense_bn", "bn"),
    ("dense_1", "classifier", "dense"),
]

VGG_LAYERS: list[tuple[str, str, str]] = [
    ("batch_normalization", "input_bn", "bn"),
    *(layer for i in range(5) for layer in (
        (f"{i + 1}CNN", f"blocks.{i}.conv", "conv2d"),
        (f"batch_normalization_{i + 1}", f"blocks.{i}.bn", "bn"),
    )),
    ("dense", "classifier", "dense"),
]

ARCH_LAYERS = {"musicnn": MUSICNN_LAYERS, "vgg": VGG_LAYERS}

# SPEC sections 2-3: (trainable floats, BatchNorm moving-statistic floats).
EXPECTED_COUNTS = {"musicnn": (787_159, 4_920), "vgg": (605_748, 1_282)}


def variable_map(layers: list[tuple[str, str, str]]) -> VariableMap:
    """TF variable name -> (torch key, layout transform or None for "copy as is")."""
    mapping: VariableMap = {}
    for scope, module, kind in layers:
        if kind == "bn":
            for tf_name, torch_name in BN_SUFFIXES.items():
                mapping[f"{scope}/{tf_name}"] = (f"{module}.{torch_name}", None)
        else:
            mapping[f"{scope}/kernel"] = (f"{module}.weight", LAYER_KINDS[kind])
            mapping[f"{scope}/bias"] = (f"{module}.bias", None)
    return mapping


def is_optimizer_slot(name: str) -> bool:
    """Adam's per-variable slots and its bias-correction accumulators: training state only."""
    return name.endswith(("/Adam", "/Adam_1")) or name in ("beta1_power", "beta2_power")


def check_variables(entries: dict[str, BundleEntry], mapping: VariableMap) -> None:
    """Every model variable must be mapped and every mapped variable present."""
    model_vars = {name for name in entries if not is_optimizer_slot(name)}
    unmapped = sorted(model_vars - set(mapping))
    missing = sorted(set(mapping) - model_vars)
    _require(not unmapped, f"checkpoint variables with no PyTorch mapping: {unmapped}")
    _require(not missing, f"mapped variables missing from the checkpoint: {missing}")
    for name, entry in entries.items():
        if name.endswith(("/Adam", "/Adam_1")):
            var = name.rsplit("/", 1)[0]
            _require(var in model_vars and entries[var].shape == entry.shape, f"orphan optimizer slot {name}")


def count_parameters(entries: dict[str, BundleEntry]) -> tuple[int, int]:
    """(trainable floats, moving-statistic floats); trainable = has an Adam slot."""
    trainable = moving = 0
    for name, entry in entries.items():
        if is_optimizer_slot(name):
            continue
        size = int(np.prod(entry.shape, dtype=np.int64))
        if f"{name}/Adam" in entries:
            trainable += size
        else:
            _require(name.endswith(MOVING_STATS), f"{name} is neither trainable nor a BN moving statistic")
            moving += size
    return trainable, moving


def to_state_dict(tensors: dict[str, np.ndarray], mapping: VariableMap) -> dict[str, np.ndarray]:
    """Rename and re-layout TF tensors; the result is sorted, float32 and C-contiguous."""
    state: dict[str, np.ndarray] = {}
    for tf_name, (key, transform) in mapping.items():
        array = tensors[tf_name]
        _require(bool(np.all(np.isfinite(array))), f"{tf_name} contains NaN or Inf")
        if tf_name.endswith("moving_variance"):
            _require(bool(np.all(array >= 0)), f"{tf_name} has negative variances")
        state[key] = np.ascontiguousarray(transform(array) if transform else array, dtype=np.float32)
    return dict(sorted(state.items()))


# ---------------------------------------------------------------------------------------
# Architecture parameters: the spec's, checked by building mtag's own network.

#: Constructor arguments of mtag's networks for the shipped checkpoints (SPEC sections 2, 3).
ARCH_PARAMS = {
    "musicnn": {
        "n_labels": 50,
        "n_mels": 96,
        "timbral_filters": 204,
        "temporal_filters": 51,
        "midend_filters": 64,
        "backend_units": 200,
    },
    "vgg": {"n_labels": 50, "n_mels": 96, "n_frames": 187, "filters": 128},
}


def check_fits_network(arch: str, params: dict[str, int], state: dict[str, np.ndarray]) -> None:
    """Every converted tensor must have exactly the shape mtag's network expects.

    Building the network the model.json describes is the strongest check that
    the layout changes and the parameters are right: the loader does the same.
    """
    from mtag.nets.registry import build_network

    network = build_network(arch, params)
    expected = {k: tuple(v.shape) for k, v in network.state_dict().items() if not k.endswith("num_batches_tracked")}
    actual = {k: tuple(v.shape) for k, v in state.items()}
    wrong = sorted(k for k in expected.keys() | actual.keys() if expected.get(k) != actual.get(k))
    _require(not wrong, f"{arch}: tensors that do not fit the network: " + ", ".join(
        f"{k} {actual.get(k)} vs {expected.get(k)}" for k in wrong[:5]))


# ---------------------------------------------------------------------------------------
# Dead channels.  Many of the checkpoints' conv channels were trained into disuse: their
# fan-in weights are ~1e-9 or ~1e-27 in total (BatchNorm's moving variance ~1e-36 says the
# same on the training data).  Such a channel outputs BN(ReLU(bias)), a constant, for every
# input, so it is removed and its constant folded into what reads it: the next conv's
# ``const_taps`` (a per-position bias, because zero padding makes edge positions see fewer
# taps), a residual sum's BN shift, or the dense/classifier bias.  The pruned network
# computes the same function with a fraction of the multiply-adds.

#: A channel is dead when the absolute values of its fan-in weights sum to less than this.
#: Live channels' sums start at 1.3e-8 (musicnn-msd timbral) and are mostly far above 1e-4;
#: the mid end's and vgg's later blocks' dead channels sum to ~1e-27.
DEAD_FAN_IN = 1e-8
#: ... and its bias is at least this many times that sum away from zero, so that no input
#: of magnitude below this factor (the network's inputs are BN outputs of order 1) can move
#: its pre-activation across the ReLU's kink: the channel is constant for every input.
RELU_MARGIN = 1e3

PRUNING_CRITERION = (
    f"conv channel whose fan-in weights sum to |W| < {DEAD_FAN_IN:g} with |bias| >= {RELU_MARGIN:g} x that sum: "
    "it outputs BN(ReLU(bias)) for every input; removed, its constant folded into the layers that read it "
    "(next conv's per-position const_taps, residual BN shift, dense/classifier bias)"
)

State = dict[str, np.ndarray]


def _f64(array: np.ndarray) -> np.ndarray:
    return array.astype(np.float64)


def dead_channels(state: State, block: str) -> np.ndarray:
    """Boolean mask of ``block``'s output channels that are constant for every input."""
    weight, bias = _f64(state[f"{block}.conv.weight"]), _f64(state[f"{block}.conv.bias"])
    fan_in = np.abs(weight).reshape(len(weight), -1).sum(axis=1)
    return (fan_in < DEAD_FAN_IN) & (np.abs(bias) >= RELU_MARGIN * fan_in)


def batch_norm(state: State, prefix: str, x: np.ndarray) -> np.ndarray:
    """Inference-time BatchNorm of ``x`` (one value per channel), in float64."""
    from mtag.nets.common import TF_BN_EPS

    gamma, beta = _f64(state[f"{prefix}.weight"]), _f64(state[f"{prefix}.bias"])
    mean, var = _f64(state[f"{prefix}.running_mean"]), _f64(state[f"{prefix}.running_var"])
    return gamma * (x - mean) / np.sqrt(var + TF_BN_EPS) + beta


def constant_outputs(state: State, block: str) -> np.ndarray:
    """Every channel's output if its weights were zero: BN(ReLU(bias)); exact for the dead ones."""
    return batch_norm(state, f"{block}.bn", np.maximum(_f64(state[f"{block}.conv.bias"]), 0.0))


def copy_block(
    src: State,
    dst: State,
    block: str,
    rows: np.ndarray,
    cols: np.ndarray | None = None,
    removed: np.ndarray | None = None,
    values: np.ndarray | None = None,
) -> None:
    """Copy a ConvReluBn keeping output channels ``rows`` and input channels ``cols``.

    The input channels ``removed`` (constant ``values``) are folded into ``const_taps``.
    """
    weight = _f64(src[f"{block}.conv.weight"])[rows]
    dst[f"{block}.conv.weight"] = weight if cols is None else weight[:, cols]
    dst[f"{block}.conv.bias"] = _f64(src[f"{block}.conv.bias"])[rows]
    for name in BN_SUFFIXES.values():
        dst[f"{block}.bn.{name}"] = _f64(src[f"{block}.bn.{name}"])[rows]
    if removed is not None and values is not None:
        dst[f"{block}.const_taps"] = np.einsum("oi...,i->o...", weight[:, removed], values[removed])


@dataclass(frozen=True)
class Pruned:
    """A pruned state dict, the per-layer widths for the architecture and what was removed."""

    state: State
    widths: dict[str, list[int]]
    removed: dict[str, dict[str, int]]


def _as_float32(state: State) -> State:
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sorted(state.items())}


def _removal(block: str, dead: np.ndarray) -> dict[str, dict[str, int]]:
    """model.json's record of one layer: its channels, how many are dead, how many were removed."""
    return {block: {"channels": int(dead.size), "dead": int(dead.sum()), "removed": int(dead.sum())}}


FRONT_BLOCKS = ("timbral.0", "timbral.1", "temporal.0", "temporal.1", "temporal.2")
MIDEND_BLOCKS = ("midend.0", "midend.1", "midend.2")


def prune_musicnn(state: State) -> Pruned:
    """Remove musicnn's dead channels, keeping the function.

    The mid end is residual: x1 = L0(front), x2 = L1(x1) + x1, x3 = L2(x2) + x2.  A channel
    of x2 is constant only if it is constant in x1 *and* dead in L1, so the live sets grow:
    S1 <= S2 <= S3.  The channels are reordered S1, S2 - S1, S3 - S2, so that each layer's
    live input is the first channels of its output and the network adds it there.
    """
    out: State = {k: _f64(v) for k, v in state.items() if k.startswith("input_bn.")}
    removed: dict[str, dict[str, int]] = {}
    front_live, front_const = [], []
    for block in FRONT_BLOCKS:
        dead = dead_channels(state, block)
        copy_block(state, out, block, np.flatnonzero(~dead))
        front_live.append(~dead)
        front_const.append(constant_outputs(state, block))
        removed.update(_removal(block, dead))
    live_in, const_in = np.concatenate(front_live), np.concatenate(front_const)

    lives, consts = [], []  # per mid-end output x_i: live mask, value of its constant channels
    for i, block in enumerate(MIDEND_BLOCKS):
        dead = dead_channels(state, block)
        removed.update(_removal(block, dead))
        value = constant_outputs(state, block)
        lives.append(~dead if i == 0 else lives[-1] | ~dead)
        consts.append(value if i == 0 else value + consts[-1])
    order = np.concatenate([np.flatnonzero(lives[0])] + [np.flatnonzero(b & ~a) for a, b in zip(lives, lives[1:])])
    widths = [int(live.sum()) for live in lives]
    for i, block in enumerate(MIDEND_BLOCKS):
        rows = order[: widths[i]]
        if i == 0:
            copy_block(state, out, block, rows, np.flatnonzero(live_in), ~live_in, const_in)
        else:
            copy_block(state, out, block, rows, order[: widths[i - 1]], ~lives[i - 1], consts[i - 1])
            # Output channels whose residual input was constant (and removed) get it as a BN shift.
            shifted = rows[widths[i - 1] :]
            out[f"{block}.bn.bias"][widths[i - 1] :] += consts[i - 1][shifted]
        # A dead channel whose residual input is live stays (its output is a constant, but
        # the sum is not); a live channel whose residual input is constant goes nowhere.
        removed[block]["removed"] = int(state[f"{block}.conv.bias"].size - widths[i])

    # Back end: pooled features are (max, mean) per feature channel, interleaved.
    n_front, n_mid = live_in.size, lives[0].size
    kept = np.concatenate([np.flatnonzero(live_in)] + [n_front + i * n_mid + order[:w] for i, w in enumerate(widths)])
    constant = np.concatenate([const_in, *consts])
    gone = np.setdiff1d(np.arange(constant.size), kept)
    kept_pooled = np.stack([2 * kept, 2 * kept + 1], axis=1).ravel()
    gone_pooled = np.stack([2 * gone, 2 * gone + 1], axis=1).ravel()
    pooled_const = batch_norm(state, "pool_bn", np.repeat(constant, 2))
    for name in BN_SUFFIXES.values():
        out[f"pool_bn.{name}"] = _f64(state[f"pool_bn.{name}"])[kept_pooled]
    dense = _f64(state["dense.weight"])
    out["dense.weight"] = dense[:, kept_pooled]
    out["dense.bias"] = _f64(state["dense.bias"]) + dense[:, gone_pooled] @ pooled_const[gone_pooled]
    removed.update(_removal("pool_bn", ~np.isin(np.arange(pooled_const.size), kept_pooled)))
    for key, value in state.items():
        if key.startswith(("dense_bn.", "classifier.")):
            out[key] = value
    counts = [removed[b]["channels"] - removed[b]["removed"] for b in FRONT_BLOCKS]
    return Pruned(
        _as_float32(out),
        {"timbral_filters": counts[:2], "temporal_filters": counts[2:], "midend_filters": widths},
        removed,
    )


def prune_vgg(state: State, n_blocks: int, pooled_positions: int) -> Pruned:
    """Remove vgg's dead channels; ``pooled_positions`` = time x frequency cells the classifier reads.

    Max-pooling a constant map gives the same constant, so a dead channel reaches the next
    block as a constant input (folded into its ``const_taps``) and the classifier as
    constant features (folded into its bias).
    """
    out: State = {k: _f64(v) for k, v in state.items() if k.startswith("input_bn.")}
    removed: dict[str, dict[str, int]] = {}
    previous: tuple[np.ndarray, np.ndarray] | None = None  # (dead mask, constants) of the block before
    for i in range(n_blocks):
        block = f"blocks.{i}"
        dead = dead_channels(state, block)
        if previous is None:
            copy_block(state, out, block, np.flatnonzero(~dead))
        else:
            copy_block(state, out, block, np.flatnonzero(~dead), np.flatnonzero(~previous[0]), *previous)
        previous = dead, constant_outputs(state, block)
        removed.update(_removal(block, dead))
    assert previous is not None
    dead, value = previous
    # TF flattened (time, frequency, channel): the channel varies fastest.
    classifier = _f64(state["classifier.weight"]).reshape(-1, pooled_positions, dead.size)
    out["classifier.weight"] = classifier[:, :, ~dead].reshape(len(classifier), -1)
    out["classifier.bias"] = _f64(state["classifier.bias"]) + np.einsum("opc,c->o", classifier[:, :, dead], value[dead])
    widths = [removed[f"blocks.{i}"]["channels"] - removed[f"blocks.{i}"]["removed"] for i in range(n_blocks)]
    return Pruned(_as_float32(out), {"filters": widths}, removed)


#: The pruned network's probabilities, computed in float64, may differ from the full one's by
#: at most this much (measured: <= 1.1e-8; float32 rounding alone moves them by ~1e-7).
PRUNING_TOLERANCE = 1e-7


def _network(arch: str, params: dict, state: State):
    """mtag's network for ``params`` with ``state`` loaded (absent ``const_taps`` stay zero)."""
    import torch

    from mtag.nets.registry import build_network

    network = build_network(arch, params).eval()
    network.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=False)
    return network


def zero_folds(arch: str, params: dict) -> State:
    """The ``const_taps`` buffers of an unpruned network: zeros, nothing was folded into them."""
    from mtag.nets.registry import build_network

    return {
        name: np.zeros(tuple(tensor.shape), np.float32)
        for name, tensor in build_network(arch, params).state_dict().items()
        if name.endswith("const_taps")
    }


def pruning_difference(arch: str, params: dict, state: State, pruned: Pruned) -> float:
    """Largest probability difference between the full and the pruned network on random log-mels.

    Computed in float64, so that it measures the functions rather than float32 rounding.
    Log-mel values span about 0-5; musicnn is also checked on short inputs (edge frames
    dominate) because the folded constants differ at the zero-padded edges.
    """
    import torch

    full = _network(arch, params, state).double()
    small = _network(arch, {**params, **pruned.widths}, pruned.state).double()
    rng = np.random.default_rng(0)
    lengths = [PREPROCESSING["window_frames"]] + ([] if arch == "vgg" else [9, 3])
    worst = 0.0
    with torch.inference_mode():
        for frames in lengths:
            x = torch.from_numpy(rng.uniform(0.0, 5.0, (4, frames, params["n_mels"])))
            difference = (torch.sigmoid(full(x)) - torch.sigmoid(small(x))).abs().max()
            worst = max(worst, float(difference))
    return worst


def prune(arch: str, params: dict, state: State) -> Pruned:
    """The dead-channel pruning for ``arch``."""
    if arch == "musicnn":
        return prune_musicnn(state)
    from mtag.nets.vgg import POOLS, pooled_cells

    return prune_vgg(state, len(POOLS), pooled_cells(params["n_frames"], params["n_mels"]))


# ---------------------------------------------------------------------------------------
# model.json


@dataclass(frozen=True)
class ModelSpec:
    """One shipped model: where it is in the wheel and how mtag names it."""

    wheel_dir: str
    name: str
    arch: str
    dataset: str  # "MSD" or "MTT"


MODELS = [
    ModelSpec("MSD_musicnn", "musicnn-msd", "musicnn", "MSD"),
    ModelSpec("MTT_musicnn", "musicnn-mtt", "musicnn", "MTT"),
    ModelSpec("MSD_vgg", "vgg-msd", "vgg", "MSD"),
    ModelSpec("MTT_vgg", "vgg-mtt", "vgg", "MTT"),
]

DATASETS = {
    "MSD": {
        "labels": "MSD_LABELS",
        "phrase": "the Million Song Dataset's Last.fm tags",
        "training": "Million Song Dataset (Last.fm tags, top 50)",
    },
    "MTT": {
        "labels": "MTT_LABELS",
        "phrase": "MagnaTagATune",
        "training": "MagnaTagATune (top 50 tags)",
    },
}

ARCH_DESCRIPTIONS = {
    "musicnn": "musicnn (Pons & Serra 2019): musically motivated CNN trained on {phrase}; {n} tags.",
    "vgg": "VGG-like baseline (Pons & Serra 2019) trained on {phrase}; {n} tags.",
}

# SPEC section 1; extractor.batch_data and librosa 0.7-era defaults.
PREPROCESSING = {
    "sample_rate": 16000,
    "n_fft": 512,
    "hop_length": 256,
    "window": "hann",
    "center": True,
    "pad_mode": "reflect",
    "n_mels": 96,
    "fmin": 0.0,
    "fmax": 8000.0,
    "mel_scale": "slaney",
    "mel_norm": "slaney",
    "power": 2.0,
    "float16_rounding": True,
    "compression": "logC",
    "window_frames": 187,
    "hop_frames": 187,
    "short_input": "repeat",
}

ATTRIBUTION = (
    'Jordi Pons and Xavier Serra, "musicnn: pre-trained convolutional neural networks for music audio tagging", '
    "ISMIR Late-Breaking/Demo 2019. Copyright (c) Music Technology Group, Universitat Pompeu Fabra 2019."
)


def check_training_config(config: dict, spec: ModelSpec) -> None:
    """The training config must agree with the preprocessing constants we publish."""
    rep = config.get("audio_rep", {})
    checks = {
        "n_frames": (config.get("n_frames"), PREPROCESSING["window_frames"]),
        "xInput": (config.get("xInput"), PREPROCESSING["window_frames"]),
        "yInput": (config.get("yInput"), PREPROCESSING["n_mels"]),
        "pre_processing": (config.get("pre_processing"), PREPROCESSING["compression"]),
        "resample_sr": (rep.get("resample_sr"), PREPROCESSING["sample_rate"]),
        "hop": (rep.get("hop"), PREPROCESSING["hop_length"]),
        "n_fft": (rep.get("n_fft"), PREPROCESSING["n_fft"]),
        "n_mels": (rep.get("n_mels"), PREPROCESSING["n_mels"]),
        "spectrogram_type": (rep.get("spectrogram_type"), "mel"),
    }
    for key, (found, wanted) in checks.items():
        _require(found == wanted, f"{spec.wheel_dir}/config.json {key}={found!r}, expected {wanted!r}")


def build_card(
    spec: ModelSpec,
    params: dict[str, int],
    labels: list[str],
    metrics: dict[str, float],
    wheel_sha256: str,
    license_text: str,
    weights_sha256: str,
    n_parameters: int,
    pruning: dict | None,
) -> ModelCard:
    """The model card mtag's loader reads, built as mtag's typed card so only one module knows the format."""
    from mtag.cards import InputWindow, ModelCard, WeightsRef, read_frontend

    dataset = DATASETS[spec.dataset]
    pre = PREPROCESSING
    frontend = read_frontend(
        {
            "kind": "musicnn-logmel",
            **{key: pre[key] for key in ("sample_rate", "n_fft", "hop_length", "n_mels", "fmin", "fmax")},
            "float16_rounding": pre["float16_rounding"],
        }
    )
    hop = int(pre["hop_length"])
    return ModelCard(
        name=spec.name,
        description=ARCH_DESCRIPTIONS[spec.arch].format(phrase=dataset["phrase"], n=len(labels)),
        architecture=spec.arch,
        params=params,
        frontend=frontend,
        # vgg's dense layer reads the flattened map of exactly one window: it takes no other length.
        input=InputWindow(
            int(pre["window_frames"]) * hop,
            int(pre["hop_frames"]) * hop,
            fixed_length=spec.arch == "vgg",
            short_input=str(pre["short_input"]),
        ),
        activation="sigmoid",
        labels=tuple(labels),
        training={"dataset": dataset["training"]},
        metrics={**metrics, "source": f"experiment.result in the musicnn {WHEEL_VERSION} wheel"},
        source={
            "package": f"{WHEEL_NAME}=={WHEEL_VERSION}",
            "checkpoint": f"musicnn/{spec.wheel_dir}/",
            "wheel_sha256": wheel_sha256,
            "homepage": "https://github.com/jordipons/musicnn",
            "converter": "tools/convert_musicnn.py",
        },
        license="ISC",
        license_text=license_text,
        attribution=ATTRIBUTION,
        weights=WeightsRef("weights.safetensors", weights_sha256, n_parameters),
        pruning=pruning,
    )


# ---------------------------------------------------------------------------------------
# Driver.


@dataclass(frozen=True)
class Converted:
    """What one conversion produced (the bytes are written by :func:`write_model`)."""

    spec: ModelSpec
    weights: bytes
    model_json: bytes
    n_parameters: int
    weights_sha256: str


def read_checkpoint(wheel: Wheel, spec: ModelSpec) -> tuple[dict[str, BundleEntry], dict[str, np.ndarray]]:
    """Read one checkpoint's entries and its model tensors (optimizer slots are not loaded)."""
    prefix = f"musicnn/{spec.wheel_dir}/"
    num_shards, entries = read_bundle_index(wheel.read(prefix + ".index"))
    shards = [wheel.read(data_shard_name(prefix, i, num_shards)) for i in range(num_shards)]
    return entries, load_tensors(entries, shards, keep=lambda name: not is_optimizer_slot(name))


def convert_model(wheel: Wheel, spec: ModelSpec, prune_dead: bool = True) -> Converted:
    """Convert one checkpoint to safetensors bytes plus model.json bytes.

    ``prune_dead=False`` keeps every channel, as the original network had them:
    the baseline the benchmarks compare the original musicnn loop with.
    """
    from safetensors.numpy import save

    entries, tensors = read_checkpoint(wheel, spec)
    mapping = variable_map(ARCH_LAYERS[spec.arch])
    check_variables(entries, mapping)
    counts = count_parameters(entries)
    expected_counts = EXPECTED_COUNTS[spec.arch]
    _require(counts == expected_counts, f"{spec.wheel_dir}: (trainable, moving) = {counts}, spec: {expected_counts}")
    state = to_state_dict(tensors, mapping)
    n_parameters = sum(int(a.size) for a in state.values())
    _require(n_parameters == sum(counts), "parameter count changed during conversion")
    paper_params = ARCH_PARAMS[spec.arch]
    params, pruning = dict(paper_params), None
    if prune_dead:
        pruned = prune(spec.arch, paper_params, state)
        params.update(pruned.widths)
        difference = pruning_difference(spec.arch, paper_params, state, pruned)
        _require(difference <= PRUNING_TOLERANCE, f"{spec.name}: pruning changed probabilities by {difference:.2e}")
        state, pruning = pruned.state, {"criterion": PRUNING_CRITERION, "layers": pruned.removed}
        n_parameters = sum(int(a.size) for a in state.values())
    else:  # the folding buffers of a network nothing was removed from hold zeros
        state = {**state, **zero_folds(spec.arch, params)}
    check_fits_network(spec.arch, params, state)

    prefix = f"musicnn/{spec.wheel_dir}/"
    labels = read_labels(wheel.read_text("musicnn/configuration.py"), DATASETS[spec.dataset]["labels"])
    _require(len(labels) == params["n_labels"], f"{len(labels)} labels for {params['n_labels']} outputs")
    check_training_config(json.loads(wheel.read_text(prefix + "config.json")), spec)
    metrics = parse_experiment_result(wheel.read_text(prefix + "experiment.result"))

    weights = save(state, metadata={"format": "pt"})
    weights_sha256 = hashlib.sha256(weights).hexdigest()
    card = build_card(
        spec,
        params,
        labels,
        metrics,
        wheel_sha256=wheel.sha256,
        license_text=wheel.read_text(f"{DIST_INFO}/LICENSE.md"),
        weights_sha256=weights_sha256,
        n_parameters=n_parameters,
        pruning=pruning,
    )
    return Converted(spec, weights, card.to_bytes(), n_parameters, weights_sha256)


def write_model(converted: Converted, out: Path) -> Path:
    """Write ``<out>/<name>/{weights.safetensors,model.json}``; returns the model directory."""
    directory = out / converted.spec.name
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "weights.safetensors").write_bytes(converted.weights)
    (directory / "model.json").write_bytes(converted.model_json)
    return directory


def convert_wheel(
    wheel_path: Path, out: Path, log: Callable[[str], None] = print, prune_dead: bool = True
) -> list[Converted]:
    """Convert all four models of the wheel into ``out``."""
    wheel = Wheel(wheel_path)
    results = []
    for spec in MODELS:
        converted = convert_model(wheel, spec, prune_dead)
        directory = write_model(converted, out)
        log(f"{spec.name}: {converted.n_parameters} parameters, sha256 {converted.weights_sha256[:12]} -> {directory}")
        results.append(converted)
    return results


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        description="Convert the musicnn 0.1.0 TensorFlow checkpoints to safetensors (no TensorFlow needed)."
    )
    parser.add_argument("wheel", type=Path, help="path to musicnn-0.1.0-py3-none-any.whl")
    parser.add_argument("--out", type=Path, default=Path("models"), help="output directory (default: models)")
    parser.add_argument(
        "--keep-dead-channels",
        action="store_true",
        help="keep every channel, as the original networks had them (the benchmarks' baseline; not for shipping)",
    )
    args = parser.parse_args(argv)
    try:
        convert_wheel(args.wheel, args.out, prune_dead=not args.keep_dead_channels)
    except (ConversionError, OSError, zipfile.BadZipFile) as exc:
        print(f"convert_musicnn: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
