"""``mtag datasets fetch``: download, resume, verify and extract, against a local HTTP server (never the internet)."""

from __future__ import annotations

import hashlib
import io
import random
import socket
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from mtag import disk
from mtag.cli.download_progress import PlainProgress
from mtag.data import fetch, sources
from mtag.data.fetch_archives import JoinedFile
from mtag.data.sources import SOURCES, Item, Remote, Source
from tests.data.fileserver import Served, serving
from tests.library.helpers import isolate_user_folders, mtag

CLIPS = {f"fma_test/00{n}/00{n}00{n}.mp3": random.Random(n).randbytes(20_000 + n) for n in range(3)}
README = b"track_id,genre\n1,Rock\n"


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _tar_gz(members: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            archive.addfile(info)
    return buffer.getvalue()


def _sha1(data: bytes) -> tuple[str, str]:
    return ("sha1", hashlib.sha1(data).hexdigest())


@pytest.fixture
def served() -> Iterator[Served]:
    with serving(Served()) as server:
        yield server


@pytest.fixture(autouse=True)
def _user_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_user_folders(tmp_path, monkeypatch)


def _source(
    monkeypatch: pytest.MonkeyPatch, served: Served, name: str, items: list[tuple[str, str, dict[str, bytes], bool]]
) -> Source:
    """Register a fetch source ``name`` served by ``served``; items: (name, kind, {file: bytes}, checksummed)."""
    built = []
    for item_name, kind, files, checksummed in items:
        parts = []
        for filename, data in files.items():
            served.files["/" + filename] = data
            parts.append(Remote(served.url(filename), filename, _sha1(data) if checksummed else None))
        built.append(Item(item_name, kind, tuple(parts)))
    source = Source(name, "fma", "fma", tuple(built))
    monkeypatch.setitem(SOURCES, name, source)
    return source


def _fma_like(monkeypatch: pytest.MonkeyPatch, served: Served, *, checksummed: bool = True) -> bytes:
    archive = _zip(CLIPS, zipfile.ZIP_BZIP2)  # FMA's zips are bzip2-compressed
    _source(
        monkeypatch,
        served,
        "test-fma",
        [
            ("fma_test.zip", "zip", {"fma_test.zip": archive}, checksummed),
            ("README.txt", "file", {"README.txt": README}, True),
        ],
    )
    return archive


def _assert_extracted(data_dir: Path) -> None:
    for name, data in CLIPS.items():
        assert (data_dir / name).read_bytes() == data


def test_fetch_downloads_verifies_extracts_and_names_the_data_dir(
    tmp_path: Path, served: Served, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fma_like(monkeypatch, served)
    code, out, err = mtag(capsys, "datasets", "fetch", "test-fma", "--to", tmp_path / "sets")
    data_dir = tmp_path / "sets" / "fma"
    assert code == 0, err
    _assert_extracted(data_dir)
    assert (data_dir / "README.txt").read_bytes() == README
    assert not (data_dir / "fma_test.zip").exists()  # extracted and recorded: the archive is gone
    assert not list(data_dir.glob("*.part"))
    assert f"--dataset fma --data-dir {data_dir}" in out
    assert "SHA-1 checksums published" in err
    assert "downloading fma_test.zip (" in err  # plain progress lines where stderr is not a terminal


def test_a_second_fetch_downloads_nothing(
    tmp_path: Path, served: Served, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fma_like(monkeypatch, served)
    assert mtag(capsys, "datasets", "fetch", "test-fma", "--to", tmp_path)[0] == 0
    served.requests.clear()
    code, out, _ = mtag(capsys, "datasets", "fetch", "test-fma", "--to", tmp_path)
    assert code == 0
    assert "already downloaded, verified and extracted" in out
    assert served.requests == []


def test_a_cut_download_resumes_with_a_range_request(
    tmp_path: Path, served: Served, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = _fma_like(monkeypatch, served)
    served.cut_once["/fma_test.zip"] = 10_000
    code, _, err = mtag(capsys, "datasets", "fetch", "test-fma", "--to", tmp_path)
    part = tmp_path / "fma" / "fma_test.zip.part"
    assert code == 1
    assert "the connection ended after 10000 of" in err and "run the same command again to resume" in err
    assert part.read_bytes() == archive[:10_000]

    code, out, err = mtag(capsys, "datasets", "fetch", "test-fma", "--to", tmp_path)
    assert code == 0, err
    assert served.gets("fma_test.zip") == [None, "bytes=10000-"]
    _assert_extracted(tmp_path / "fma")


def test_ctrl_c_keeps_the_partial_download_and_the_next_run_resumes(
    tmp_path: Path, served: Served, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fma_like(monkeypatch, served)

    def interrupt(self: object, n_bytes: int) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(PlainProgress, "advance", interrupt)
        code, _, err = mtag(capsys, "datasets", "fetch", "test-fma", "--to", tmp_path)
    part = tmp_path / "fma" / "fma_test.zip.part"
    assert code == 130
    assert "interrupted; run the same command again to resume" in err
    kept = part.stat().st_size
    assert kept > 0

    assert mtag(capsys, "datasets", "fetch", "test-fma", "--to", tmp_path)[0] == 0
    assert served.gets("fma_test.zip")[-1] == f"bytes={kept}-"
    _assert_extracted(tmp_path / "fma")


def test_an_unwritable_target_is_one_line(
    tmp_path: Path, served: Served, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fma_like(monkeypatch, served)
    (tmp_path / "fma").write_text("a file where the data folder should go")
    code, _, err = mtag(capsys, "datasets", "fetch", "test-fma", "--to", tmp_path)
    assert code == 1
    assert len(err.strip().splitlines()) == 2  # the plan line, then the error
    assert "mtag: error:" in err and "choose another --to" in err


def test_a_server_without_range_support_restarts_from_zero_and_says_so(
    tmp_path: Path, served: Served, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = _fma_like(monkeypatch, served)
    served.ranges = False
    part = tmp_path / "fma" / "fma_test.zip.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(archive[:5000])
    code, _, err = mtag(capsys, "datasets", "fetch", "test-fma", "--to", tmp_path)
    assert code == 0, err
    assert "does not support resuming; downloading it again from zero" in err
    _assert_extracted(tmp_path / "fma")


def test_a_complete_part_is_verified_without_downloading_again(
    tmp_path: Path, served: Served, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = _fma_like(monkeypatch, served)
    part = tmp_path / "fma" / "fma_test.zip.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(archive)  # killed between the last byte and the rename
    code, _, err = mtag(capsys, "datasets", "fetch", "test-fma", "--to", tmp_path)
    assert code == 0, err
    assert served.gets("fma_test.zip") == [f"bytes={len(archive)}-"]  # answered 416: nothing left
    _assert_extracted(tmp_path / "fma")


def test_a_checksum_mismatch_keeps_the_bytes_and_says_what_to_do(
    tmp_path: Path, served: Served, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = _fma_like(monkeypatch, served)
    served.files["/fma_test.zip"] = archive[:100] + bytes([archive[100] ^ 1]) + archive[101:]  # another file
    code, _, err = mtag(capsys, "datasets", "fetch", "test-fma", "--to", tmp_path)
    data_dir = tmp_path / "fma"
    assert code == 1
    assert "SHA-1 mismatch" in err and "fma_test.zip.bad" in err and "delete fma_test.zip.bad and run again" in err
    assert (data_dir / "fma_test.zip.bad").read_bytes() == served.files["/fma_test.zip"]
    assert not (data_dir / "fma_test.zip").exists()
    assert not (data_dir / "fma_test").exists()  # nothing extracted from it


def test_http_404_is_one_line_naming_the_url_and_the_manual_way(
    tmp_path: Path, served: Served, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fma_like(monkeypatch, served)
    del served.files["/fma_test.zip"]
    code, _, err = mtag(capsys, "datasets", "fetch", "test-fma", "--to", tmp_path)
    assert code == 1
    assert len(err.strip().splitlines()) == 1
    assert f"{served.url('fma_test.zip')}: the server answered HTTP 404" in err
    assert "get the files from https://github.com/mdeff/fma" in err and "fma_metadata/tracks.csv" in err


def test_offline_connection_refused_is_one_line_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dead = Remote(f"http://127.0.0.1:{port}/fma_test.zip", "fma_test.zip", None)
    monkeypatch.setitem(SOURCES, "test-fma", Source("test-fma", "fma", "fma", (Item("fma_test.zip", "zip", (dead,)),)))
    code, _, err = mtag(capsys, "datasets", "fetch", "test-fma", "--to", tmp_path)
    assert code == 1
    assert f"127.0.0.1:{port} refused the connection" in err
    assert "check the network connection" in err
    assert not (tmp_path / "fma").exists()


def test_split_zip_without_checksum_is_joined_and_checked_by_its_crcs(
    tmp_path: Path, served: Served, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = _zip(CLIPS)
    third = len(archive) // 3
    pieces = {f"mp3.zip.00{n + 1}": archive[n * third : (n + 1) * third if n < 2 else None] for n in range(3)}
    _source(monkeypatch, served, "test-mtat", [("mp3.zip", "zip", pieces, False)])
    code, _, err = mtag(capsys, "datasets", "fetch", "test-mtat", "--to", tmp_path)
    assert code == 0, err
    assert "no published checksum" in err
    _assert_extracted(tmp_path / "fma")
    assert not list((tmp_path / "fma").glob("mp3.zip*"))


def test_a_damaged_zip_without_checksum_is_reported(
    tmp_path: Path, served: Served, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = bytearray(_zip({"a/clip.mp3": bytes(50_000)}, zipfile.ZIP_STORED))
    archive[1000] ^= 0xFF  # one flipped byte inside the stored clip: only its CRC-32 can tell
    _source(monkeypatch, served, "test-mtat", [("mp3.zip", "zip", {"mp3.zip": bytes(archive)}, False)])
    code, _, err = mtag(capsys, "datasets", "fetch", "test-mtat", "--to", tmp_path)
    assert code == 1
    assert "damaged or unreadable archive" in err and "CRC" in err
    assert (tmp_path / "fma" / "mp3.zip").exists()  # kept for the user to inspect or delete


def test_tar_gz_is_extracted(
    tmp_path: Path, served: Served, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _source(monkeypatch, served, "test-tar", [("genres.tar.gz", "tar.gz", {"genres.tar.gz": _tar_gz(CLIPS)}, True)])
    code, _, err = mtag(capsys, "datasets", "fetch", "test-tar", "--to", tmp_path)
    assert code == 0, err
    _assert_extracted(tmp_path / "fma")


@pytest.mark.parametrize(
    ("kind", "archive"),
    [
        ("zip", _zip({"fma/ok.mp3": b"x", "../../escaped.txt": b"gotcha"})),
        ("zip", _zip({"/tmp/absolute.txt": b"gotcha"})),
        ("tar.gz", _tar_gz({"ok.mp3": b"x", "../escaped.txt": b"gotcha"})),
        ("tar.gz", _tar_gz({"ok.mp3": b"x"}, links={"link": "../../.."})),
    ],
    ids=["zip-dotdot", "zip-absolute", "tar-dotdot", "tar-symlink-out"],
)
def test_an_archive_escaping_the_data_dir_is_refused_whole(
    kind: str,
    archive: bytes,
    tmp_path: Path,
    served: Served,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    name = "evil.zip" if kind == "zip" else "evil.tar.gz"
    _source(monkeypatch, served, "test-evil", [(name, kind, {name: archive}, True)])
    to = tmp_path / "sets" / "deep"
    code, _, err = mtag(capsys, "datasets", "fetch", "test-evil", "--to", to)
    assert code == 1
    assert "refused to extract" in err and "nothing was extracted" in err
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path / "sets" / "escaped.txt").exists()
    assert not (to / "fma" / "ok.mp3").exists()  # not even the harmless members


def test_a_large_download_asks_and_refuses_without_a_terminal(
    tmp_path: Path, served: Served, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fma_like(monkeypatch, served)
    monkeypatch.setattr(fetch, "ASK_ABOVE_BYTES", 100)
    code, _, err = mtag(capsys, "datasets", "fetch", "test-fma", "--to", tmp_path)
    assert code == 2
    assert "not starting without --yes" in err
    assert served.gets("fma_test.zip") == []  # sizes asked with HEAD, nothing downloaded

    monkeypatch.setattr("mtag.cli.fetch._stdin_is_terminal", lambda: True)
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    code, _, err = mtag(capsys, "datasets", "fetch", "test-fma", "--to", tmp_path)
    assert code == 1
    assert "Download" in err and "nothing downloaded" in err
    assert served.gets("fma_test.zip") == []

    code, _, err = mtag(capsys, "datasets", "fetch", "test-fma", "--to", tmp_path, "--yes")
    assert code == 0, err
    _assert_extracted(tmp_path / "fma")


def test_not_enough_disk_space_is_refused_before_downloading(
    tmp_path: Path, served: Served, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fma_like(monkeypatch, served)
    monkeypatch.setattr(disk.shutil, "disk_usage", lambda _path: type("Usage", (), {"free": 10})())
    code, _, err = mtag(capsys, "datasets", "fetch", "test-fma", "--to", tmp_path)
    assert code == 1
    assert "to download but only 10 B free" in err
    assert served.gets("fma_test.zip") == []


def test_unknown_data_set_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = mtag(capsys, "datasets", "fetch", "fmaa", "--to", tmp_path)
    assert code == 2
    assert "unknown data set 'fmaa'" in err and "fma-medium" in err


def test_gtzan_says_where_to_get_it_and_which_layout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = mtag(capsys, "datasets", "fetch", "gtzan", "--to", tmp_path)
    assert code == 1
    assert len(err.strip().splitlines()) == 1
    assert "kaggle.com" in err and "genres/<genre>/<genre>.000NN.au" in err
    assert not (tmp_path / "gtzan").exists()


@pytest.mark.parametrize("name", ["folder", "library"])
def test_own_data_has_nothing_to_fetch(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = mtag(capsys, "datasets", "fetch", name, "--to", tmp_path)
    assert code == 0
    assert out.count("\n") == 1 and "nothing to download" in out


def test_joined_file_reads_and_seeks_across_pieces(tmp_path: Path) -> None:
    data = bytes(range(256)) * 10
    paths = []
    for n, (start, end) in enumerate([(0, 700), (700, 700), (700, 2000), (2000, 2560)]):  # one piece empty
        paths.append(tmp_path / f"p{n}")
        paths[-1].write_bytes(data[start:end])
    with JoinedFile(paths) as joined:
        assert joined.read() == data
        joined.seek(650)
        assert joined.read(100) == data[650:750]
        joined.seek(-10, io.SEEK_END)
        assert joined.read() == data[-10:]


def test_the_published_fma_checksums_are_the_readme_s() -> None:
    """github.com/mdeff/fma README, rc1: a typo here would fail every real download as a mismatch."""
    expected = {
        "fma_metadata.zip": "f0df49ffe5f2a6008d7dc83c6915b31835dfe733",
        "fma_small.zip": "ade154f733639d52e35e32f5593efe5be76c6d70",
        "fma_medium.zip": "c67b69ea232021025fca9231fc1c7c1a063ab50b",
        "fma_large.zip": "497109f4dd721066b5ce5e5f250ec604dc78939e",
        "fma_full.zip": "0f0ace23fbe9ba30ecb7e95f763e435ea802b8ab",
    }
    seen = {
        remote.filename: remote.checksum
        for name in ("fma-small", "fma-medium", "fma-large", "fma-full")
        for item in sources.SOURCES[name].items
        for remote in item.parts
    }
    assert seen == {filename: ("sha1", digest) for filename, digest in expected.items()}
    assert sources.SOURCES["fma"] is sources.SOURCES["fma-small"]
    remotes = [remote for source in sources.SOURCES.values() for item in source.items for remote in item.parts]
    assert all(remote.url.startswith("https://") for remote in remotes)
    assert all(remote.checksum is None or remote.checksum[0] in sources.ALGORITHMS for remote in remotes)
