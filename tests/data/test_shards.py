"""ShardStore: named arrays that appear whole or not at all, for any number of writers."""

from __future__ import annotations

import logging
import os
import pickle
import socket
from pathlib import Path

import numpy as np
import pytest

from mtag.data.shards import SUFFIX, ShardStore


def embeddings(seed: int, rows: int = 7, dims: int = 200) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((rows, dims)).astype(np.float32)


def test_two_dimensional_arrays_round_trip(tmp_path: Path) -> None:
    store = ShardStore(tmp_path / "emb")
    with store.writer() as writer:
        for n in range(5):
            writer.add(f"track{n}", embeddings(n, rows=3 + n))
    for n in range(5):
        got = store.get(f"track{n}")
        assert got.shape == (3 + n, 200) and got.dtype == np.float16
        np.testing.assert_allclose(got, embeddings(n, rows=3 + n), rtol=2.0**-11, atol=2.0**-24)
        assert not got.flags.writeable  # a memory map of the cache, never a scratch buffer
    reopened = ShardStore(tmp_path / "emb")  # another process, later
    assert len(reopened) == 5 and "track4" in reopened and "track9" not in reopened
    np.testing.assert_array_equal(reopened.get("track2"), store.get("track2"))
    assert reopened.shape("track4") == (7, 200)


def test_float32_store_keeps_the_values_exactly(tmp_path: Path) -> None:
    store = ShardStore(tmp_path, dtype="float32")
    with store.writer() as writer:
        writer.add("a", embeddings(1))
        writer.add("empty", np.zeros((0, 200), np.float32))
    np.testing.assert_array_equal(store.get("a"), embeddings(1))
    assert store.get("empty").shape == (0, 200)


def test_an_integer_store_refuses_floats_rather_than_truncating_them(tmp_path: Path) -> None:
    store = ShardStore(tmp_path, dtype="int16")
    with store.writer() as writer, pytest.raises(ValueError, match="scale"):
        writer.add("a", np.array([0.5, -0.5]))


def test_nothing_is_visible_before_its_shard_closes(tmp_path: Path) -> None:
    store = ShardStore(tmp_path)
    with store.writer() as writer:
        writer.add("a", embeddings(1))
        assert list(tmp_path.glob(f"*{SUFFIX}")) == []  # only a hidden temporary so far
        other = ShardStore(tmp_path)
        assert "a" not in other and "a" not in store
    assert "a" in store
    other.refresh()
    assert "a" in other


def test_large_writes_close_shards_as_they_go(tmp_path: Path) -> None:
    store = ShardStore(tmp_path)
    with store.writer(shard_bytes=10_000) as writer:
        for n in range(6):
            writer.add(str(n), embeddings(n, rows=10))  # 4 KB each at float16
        assert len(list(tmp_path.glob(f"*{SUFFIX}"))) == 2  # closed on the way, not all held until the end
        assert "0" in store
    assert len(store) == 6


def test_two_writers_in_one_folder_do_not_clash(tmp_path: Path) -> None:
    first, second = ShardStore(tmp_path), ShardStore(tmp_path)
    with first.writer() as one, second.writer() as two:
        for n in range(4):
            one.add(f"one{n}", embeddings(n))
            two.add(f"two{n}", embeddings(10 + n))
            two.add("shared", embeddings(99))  # both decode the same file: either copy will do
            one.add("shared", embeddings(99))
    reader = ShardStore(tmp_path)
    assert len(reader) == 9
    for n in range(4):
        np.testing.assert_array_equal(reader.get(f"one{n}"), first.get(f"one{n}"))
        np.testing.assert_array_equal(reader.get(f"two{n}"), second.get(f"two{n}"))
    np.testing.assert_array_equal(reader.get("shared"), embeddings(99).astype(np.float16))


def test_a_killed_writers_temporary_is_removed_by_the_next_writer(tmp_path: Path) -> None:
    host = socket.gethostname().replace(".", "_")
    dead_pid = 2**22 + 12345  # above Linux's pid_max default: never a live process
    stale = tmp_path / f".0123-abc.{host}.{dead_pid}.tmp"
    stale.write_bytes(b"MTAGSHD1 half a shard")
    live = tmp_path / f".0124-abd.{host}.{os.getpid()}.tmp"  # a writer still at work
    live.write_bytes(b"MTAGSHD1")
    store = ShardStore(tmp_path)
    assert len(store) == 0
    with store.writer() as writer:
        writer.add("a", embeddings(1))
    assert not stale.exists() and live.exists()


def test_a_damaged_shard_is_ignored_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = ShardStore(tmp_path)
    with store.writer() as writer:
        writer.add("a", embeddings(1))
    with store.writer() as writer:
        writer.add("b", embeddings(2))
    damaged = sorted(tmp_path.glob(f"*{SUFFIX}"))[0]
    damaged.write_bytes(damaged.read_bytes()[:-5])  # its footer lost (a disk error, a partial copy)
    with caplog.at_level(logging.WARNING):
        reopened = ShardStore(tmp_path)
    assert "a" not in reopened and "b" in reopened
    assert "damaged cache shard" in caplog.text and damaged.name in caplog.text


def test_a_store_pickles_without_its_data(tmp_path: Path) -> None:
    store = ShardStore(tmp_path)
    with store.writer() as writer:
        writer.add("a", embeddings(1, rows=2000))  # 800 KB
    store.get("a")  # mapped
    copy = pickle.loads(pickle.dumps(store))  # what a spawned data-loader worker receives
    assert len(pickle.dumps(store)) < 10_000
    np.testing.assert_array_equal(copy.get("a"), store.get("a"))


def test_a_missing_folder_is_an_empty_store(tmp_path: Path) -> None:
    store = ShardStore(tmp_path / "not-yet")
    assert len(store) == 0 and store.nbytes() == 0
    with pytest.raises(KeyError):
        store.get("a")
