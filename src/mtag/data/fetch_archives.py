"""Extract a downloaded archive without letting it write outside the data folder.

Every member name (and, in a tar, every link target) is checked *before* the
first byte is written: an archive with a member that would land outside the
target (``../x``, ``/etc/x``, a symlink pointing away) is refused whole, with
nothing extracted.  A zip cut into pieces (MTAT's ``mp3.zip.001``-``003``) is
read through :class:`JoinedFile`, which presents the pieces as one seekable
file, so the concatenated archive never needs a second copy on disk.  Zip
extraction checks each member's CRC-32, which is the integrity check for
sources without a published checksum.
"""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING

from mtag.data.fetch_http import FetchError

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer


class JoinedFile(io.RawIOBase):
    """Several files read as one, in order: a split archive seen as the archive it was cut from."""

    def __init__(self, paths: Sequence[Path]) -> None:
        super().__init__()
        self._files = [path.open("rb") for path in paths]
        self._starts: list[int] = []
        position = 0
        for stream in self._files:
            self._starts.append(position)
            position += os.fstat(stream.fileno()).st_size
        self._size = position
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(view) and self._position < self._size:
            index = max(i for i, start in enumerate(self._starts) if start <= self._position)
            stream = self._files[index]
            stream.seek(self._position - self._starts[index])
            got = stream.readinto(view[filled:])
            if not got:  # an empty piece: move on to the next one
                self._position = self._starts[index + 1] if index + 1 < len(self._starts) else self._size
                continue
            filled += got
            self._position += got
        return filled

    def close(self) -> None:
        for stream in self._files:
            stream.close()
        super().close()


def extract(kind: str, pieces: Sequence[Path], dest: Path, label: str) -> None:
    """Extract the archive made of ``pieces`` (usually one) of ``kind`` ('zip' or 'tar.gz') into ``dest``."""
    if kind not in ("zip", "tar.gz") or (kind == "tar.gz" and len(pieces) != 1):
        raise ValueError(f"cannot extract {len(pieces)} piece(s) of kind {kind!r}")
    try:
        dest.mkdir(parents=True, exist_ok=True)
        if kind == "zip":
            _extract_zip(pieces, dest, label)
        else:
            _extract_tar(pieces[0], dest, label)
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        tarfile.TarError,
        NotImplementedError,
        EOFError,
        zlib.error,
    ) as error:
        raise _damaged(label, error) from None
    except OSError as error:
        if error.errno is None:  # bz2/gzip report corrupt data as an OSError without an errno
            raise _damaged(label, error) from None
        raise FetchError(
            f"{dest}: cannot write the extracted files ({error.strerror})",
            hint="free some space (or choose another --to) and run the same command again",
        ) from None


def _extract_zip(pieces: Sequence[Path], dest: Path, label: str) -> None:
    with io.BufferedReader(JoinedFile(pieces), buffer_size=1024 * 1024) as joined, zipfile.ZipFile(joined) as archive:
        members = archive.infolist()
        for member in members:
            _check_name(member.filename, dest, label)
        for member in members:
            archive.extract(member, dest)


def _extract_tar(path: Path, dest: Path, label: str) -> None:
    with tarfile.open(path, "r:gz") as archive:
        members = archive.getmembers()
        for member in members:
            _check_tar_member(member, dest, label)
        if hasattr(tarfile, "data_filter"):  # Python >= 3.10.12: the standard library checks again
            archive.extractall(dest, members=members, filter="data")
        else:  # pragma: no cover - older 3.10 patch releases; every member was checked above
            archive.extractall(dest, members=members)  # noqa: S202


def _check_tar_member(member: tarfile.TarInfo, dest: Path, label: str) -> None:
    _check_name(member.name, dest, label)
    if member.issym() or member.islnk():
        base = (dest / member.name).parent if member.issym() else dest
        _check_name(member.linkname, base, label, what=f"the link {member.name!r} -> {member.linkname!r}", root=dest)
    elif not (member.isfile() or member.isdir()):
        raise _refused(label, f"{member.name!r} is a device or pipe, not a file")


def _check_name(name: str, base: Path, label: str, *, what: str | None = None, root: Path | None = None) -> None:
    """Refuse ``name`` when, joined to ``base``, it would lie outside ``root`` (default ``base``)."""
    what = what or repr(name)
    root = (root or base).resolve()
    if PurePosixPath(name).is_absolute() or PureWindowsPath(name).drive or PureWindowsPath(name).is_absolute():
        raise _refused(label, f"{what} is an absolute path")
    target = (base / name).resolve()
    if target != root and root not in target.parents:
        raise _refused(label, f"{what} would be written outside {root}")


def _damaged(label: str, error: BaseException) -> FetchError:
    return FetchError(
        f"{label}: damaged or unreadable archive ({error})",
        hint="delete it and run the same command again to download it afresh",
    )


def _refused(label: str, why: str) -> FetchError:
    return FetchError(
        f"{label}: refused to extract: {why}; nothing was extracted from it",
        hint="the archive is damaged or hostile: delete it, and report the source if it comes back",
    )
