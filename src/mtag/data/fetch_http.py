"""One HTTP download that survives being cut off: ``<file>.part``, Range resume, checksum, atomic rename.

Standard library only (``urllib``): a data set download must not need another
dependency.  A download writes into ``<file>.part``; a later run asks the server
for the rest with an HTTP ``Range`` header, and starts again from zero, saying
so, when the server ignores it.  Only a complete file whose checksum (where one
is published) matches is renamed to its final name, so a file under its final
name is always complete and verified.  A mismatch deletes nothing: the bytes
are kept as ``<file>.bad`` for the user to inspect or delete.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import socket
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Protocol
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import Request, urlopen

from mtag import __version__
from mtag.data.sources import ALGORITHMS, Remote
from mtag.errors import MtagError

CHUNK = 1024 * 1024
#: Seconds without a byte from the server before a download is called stalled.
TIMEOUT_S = 60.0

_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_UNSATISFIABLE_RANGE = re.compile(r"bytes \*/(\d+)")


class FetchError(MtagError):
    """A download or extraction that failed, explained in one line (exit code 1)."""


class NetworkError(FetchError):
    """The server could not be reached, or the connection broke: getting the data by hand is the alternative."""


class HTTPStatusError(NetworkError):
    """The server answered with an HTTP error status."""

    def __init__(self, code: int, message: str, *, hint: str) -> None:
        super().__init__(message, hint=hint)
        self.code = code


class Progress(Protocol):
    """What a download reports: the CLI draws a bar on a terminal and plain lines elsewhere."""

    def note(self, line: str) -> None:
        """One line worth telling the user (a restart, a skip, a verification)."""

    def start(self, label: str, total: int | None, done: int) -> None:
        """A transfer of ``total`` bytes (None: unknown) begins, ``done`` of them already there."""

    def advance(self, n_bytes: int) -> None:
        """``n_bytes`` more arrived."""

    def stop(self) -> None:
        """The transfer ended (complete or not)."""


def part_path(target: Path) -> Path:
    """Where the bytes of ``target`` collect until they are complete and verified."""
    return target.with_name(target.name + ".part")


def bad_path(target: Path) -> Path:
    """Where a complete download whose checksum did not match is kept."""
    return target.with_name(target.name + ".bad")


def remote_size(url: str) -> int | None:
    """The server's ``Content-Length`` for ``url`` (a HEAD request), None when it does not say."""
    try:
        with _open(Request(url, method="HEAD", headers=_headers())) as response:
            length = response.headers.get("Content-Length")
    except HTTPStatusError as error:
        if error.code in (405, 501):  # a server that does not do HEAD: the download itself will tell
            return None
        raise
    return int(length) if length and length.isdigit() else None


def download(remote: Remote, target: Path, progress: Progress) -> None:
    """Put ``remote`` at ``target``, resuming ``target.part``; verified before the final rename.

    Raises :class:`FetchError` (the ``.part`` kept, so the next run resumes) when the
    server cannot be reached, answers with an error, or the connection breaks.
    """
    part = part_path(target)
    have = part.stat().st_size if part.exists() else 0
    headers = _headers()
    if have:
        headers["Range"] = f"bytes={have}-"
    try:
        response = _open(Request(remote.url, headers=headers))
    except _RangeDone as done:
        if done.total == have:  # the .part was already whole: only the verification was missing
            progress.note(f"{remote.filename}: already downloaded, verifying")
            _finish(remote, part, target, have, _hash_file(remote, part, have))
            return
        progress.note(f"{remote.filename}: the partial download does not fit the server's file; starting again")
        part.unlink()
        download(remote, target, progress)
        return
    with response:
        offset = _resume_offset(response, have)
        if have and offset == 0:
            progress.note(f"{remote.filename}: the server does not support resuming; downloading it again from zero")
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length and length.isdigit() else None
        digest = _hash_file(remote, part, offset)
        progress.start(remote.filename, total, offset)
        try:
            size = _copy(response, part, offset, digest, progress.advance, remote.url)
        finally:
            progress.stop()
    if total is not None and size != total:
        raise NetworkError(
            f"{remote.url}: the connection ended after {size} of {total} bytes",
            hint="run the same command again to resume the download",
        )
    _finish(remote, part, target, size, digest)


class _RangeDone(Exception):
    """The server answered 416: nothing is left after the requested offset."""

    def __init__(self, total: int | None) -> None:
        super().__init__(total)
        self.total = total


def _headers() -> dict[str, str]:
    return {"User-Agent": f"mtag/{__version__} (+urllib)", "Accept-Encoding": "identity"}


def _open(request: Request) -> http.client.HTTPResponse:
    """``urlopen`` with every failure turned into one line naming the URL and what to do."""
    url = request.full_url
    try:
        return urlopen(request, timeout=TIMEOUT_S)  # noqa: S310  # URLs come from the sources table
    except HTTPError as error:
        if error.code == 416:
            match = _UNSATISFIABLE_RANGE.fullmatch(error.headers.get("Content-Range", "") or "")
            error.close()
            raise _RangeDone(int(match.group(1)) if match else None) from None
        error.close()
        raise HTTPStatusError(
            error.code, f"{url}: the server answered HTTP {error.code} {error.reason}", hint=_AGAIN
        ) from None
    except URLError as error:
        raise NetworkError(f"{url}: {_network_problem(url, error.reason)}", hint=_OFFLINE) from None
    except (TimeoutError, ConnectionError, ssl.SSLError) as error:
        raise NetworkError(f"{url}: {_network_problem(url, error)}", hint=_OFFLINE) from None


_AGAIN = "the file may have moved, or the server is down; run again later"
_OFFLINE = "check the network connection and run the same command again"


def _network_problem(url: str, reason: object) -> str:
    """What went wrong reaching the server, in words."""
    host = urlsplit(url).netloc
    if isinstance(reason, socket.gaierror):
        return f"cannot resolve {urlsplit(url).hostname} (offline, or no DNS)"
    if isinstance(reason, ConnectionRefusedError):
        return f"{host} refused the connection"
    if isinstance(reason, TimeoutError):
        return f"{host} did not answer within {TIMEOUT_S:.0f} s"
    if isinstance(reason, ssl.SSLError):
        return f"secure connection to {host} failed ({reason})"
    if isinstance(reason, OSError) and reason.strerror:
        return f"cannot reach {host} ({reason.strerror})"
    return f"cannot reach {host} ({reason})"


def _resume_offset(response: http.client.HTTPResponse, have: int) -> int:
    """Where the body of ``response`` starts in the file: ``have`` for a matching 206, else 0."""
    if response.status != 206:
        return 0
    match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "") or "")
    if match and int(match.group(1)) == have:
        return have
    raise FetchError(
        f"{response.url}: the server sent a different part of the file than asked for",
        hint=f"delete {response.url.rsplit('/', 1)[-1]}.part and run again",
    )


def _hash_file(remote: Remote, part: Path, length: int) -> hashlib._Hash | None:
    """A running digest of the first ``length`` bytes of ``part`` (None where no checksum is published)."""
    if remote.checksum is None:
        return None
    digest = hashlib.new(remote.checksum[0])
    if length:
        with part.open("rb") as stream:
            left = length
            while left:
                chunk = stream.read(min(CHUNK, left))
                if not chunk:
                    break
                digest.update(chunk)
                left -= len(chunk)
    return digest


def _copy(
    response: http.client.HTTPResponse,
    part: Path,
    offset: int,
    digest: hashlib._Hash | None,
    advance: Callable[[int], None],
    url: str,
) -> int:
    """Stream the body into ``part`` from ``offset`` (truncating anything after it); the size reached."""
    size = offset
    with part.open("r+b" if offset else "wb") as out:
        out.seek(offset)
        out.truncate()
        try:
            while chunk := response.read(CHUNK):
                out.write(chunk)
                if digest is not None:
                    digest.update(chunk)
                size += len(chunk)
                advance(len(chunk))
        except OSError as error:
            if isinstance(error, (ConnectionError, TimeoutError, ssl.SSLError)):
                raise NetworkError(
                    f"{url}: the connection broke after {size} bytes ({_network_problem(url, error)})",
                    hint="run the same command again to resume the download",
                ) from None
            raise FetchError(
                f"{part}: cannot write the download ({error.strerror or error})",
                hint="free some space (or choose another --to) and run again; the download resumes",
            ) from None
        except http.client.HTTPException:  # IncompleteRead and friends: the stream ended early
            raise NetworkError(
                f"{url}: the connection broke after {size} bytes",
                hint="run the same command again to resume the download",
            ) from None
        out.flush()
        os.fsync(out.fileno())
    return size


def _finish(remote: Remote, part: Path, target: Path, size: int, digest: hashlib._Hash | None) -> None:
    """Check the digest; rename ``.part`` to ``target`` when it matches, to ``.bad`` (kept) when not."""
    if remote.checksum is not None and digest is not None:
        algorithm, expected = remote.checksum
        actual = digest.hexdigest()
        if actual != expected.lower():
            bad = bad_path(target)
            os.replace(part, bad)
            raise FetchError(
                f"{remote.url}: {ALGORITHMS[algorithm]} mismatch: got {actual}, the publisher lists {expected}"
                f" ({size} bytes kept as {bad})",
                hint=f"delete {bad.name} and run again to download it afresh; if it fails again the mirror"
                " serves a different file",
            )
    os.replace(part, target)
