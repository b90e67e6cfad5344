"""Where each data set can be downloaded from: URLs, published checksums, archive kinds.

Only URLs and checksums their publishers state are listed here, each with where it
was checked, so ``mtag datasets fetch`` never trusts a number someone guessed:

* FMA: the five zips and their SHA-1s are in the README of github.com/mdeff/fma
  ("Usage" step 1 and "History", rc1 of 2017-05-09).  The zips use bzip2
  compression, which Python's ``zipfile`` reads (some ``unzip`` builds do not).
* MTAT: mirg.city.ac.uk/datasets/magnatagatune/ serves ``mp3.zip.001``-``003``
  (one zip cut in three; concatenated they form ``mp3.zip``) and
  ``annotations_final.csv``.  The publisher gives no checksum, so none is
  invented: the download is checked against the server's stated length, and the
  zip's own CRC-32 of every clip is checked while it is extracted.
* GTZAN: the original ``genres.tar.gz`` at opihi.cs.uvic.ca has been gone since
  2022 (torchaudio and mirdata both note the dead link) and the copies that
  remain (Kaggle, Hugging Face) need an account or publish no checksum, so it
  is not downloaded; ``fetch gtzan`` says where to get it and which layout to use.

Torch-free: importing this costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from mtag.data.catalog import dataset_info
from mtag.errors import UsageError

ArchiveKind = Literal["zip", "tar.gz", "file"]

#: ``hashlib`` names of the checksum algorithms sources state, and how people write them.
ALGORITHMS = {"md5": "MD5", "sha1": "SHA-1", "sha256": "SHA-256"}

_GIB = 1024**3
_MIB = 1024**2


@dataclass(frozen=True)
class Remote:
    """One file on a server."""

    url: str
    filename: str
    #: ``(algorithm, hex digest)`` as the publisher states it, or None where none is published.
    checksum: tuple[str, str] | None = None
    #: The size the publisher states (rounded), shown when the server does not say; None if unstated.
    approx_size: int | None = None


@dataclass(frozen=True)
class Item:
    """One thing to put in the data folder: an archive to extract, or a plain file.

    A split archive lists its pieces in order; read one after the other they are the archive.
    """

    name: str  # the archive's (or file's) name, e.g. "fma_small.zip", "mp3.zip"
    kind: ArchiveKind
    parts: tuple[Remote, ...]


@dataclass(frozen=True)
class Source:
    """What ``mtag datasets fetch NAME`` downloads, and the ``--data-dir`` it leaves behind."""

    name: str  # the name given to fetch (e.g. "fma-medium")
    dataset: str  # the adapter that reads the result (gtzan, mtat, fma, ...)
    folder: str  # the sub-folder of --to that becomes --data-dir
    items: tuple[Item, ...] = ()
    #: Said when items is empty: why nothing is downloaded and where the data comes from.
    manual: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def verified_by(self) -> str:
        """How the download is checked, in the words the fetch line prints."""
        checksums = [remote.checksum for item in self.items for remote in item.parts]
        if checksums and all(checksums):
            algorithms = sorted({ALGORITHMS[checksum[0]] for checksum in checksums if checksum})
            return f"{'/'.join(algorithms)} checksums published by the data set's authors"
        return "no published checksum: sizes checked against the server, and each zip member's CRC-32 on extraction"


def _fma(size: str, approx: int) -> Source:
    base = "https://os.unil.cloud.switch.ch/fma/"
    metadata = Item(
        "fma_metadata.zip",
        "zip",
        (Remote(base + "fma_metadata.zip", "fma_metadata.zip", ("sha1", _FMA_SHA1["metadata"]), 342 * _MIB),),
    )
    audio = Item(
        f"fma_{size}.zip",
        "zip",
        (Remote(base + f"fma_{size}.zip", f"fma_{size}.zip", ("sha1", _FMA_SHA1[size]), approx),),
    )
    return Source(f"fma-{size}", "fma", "fma", (metadata, audio))


#: From github.com/mdeff/fma README (rc1, 2017-05-09).
_FMA_SHA1 = {
    "metadata": "f0df49ffe5f2a6008d7dc83c6915b31835dfe733",
    "small": "ade154f733639d52e35e32f5593efe5be76c6d70",
    "medium": "c67b69ea232021025fca9231fc1c7c1a063ab50b",
    "large": "497109f4dd721066b5ce5e5f250ec604dc78939e",
    "full": "0f0ace23fbe9ba30ecb7e95f763e435ea802b8ab",
}

_MTAT_BASE = "https://mirg.city.ac.uk/datasets/magnatagatune/"

_NOTHING_TO_FETCH = "nothing to download: point --data-dir at your own folder ({layout})"


def _build() -> dict[str, Source]:
    sources = [
        Source(
            "gtzan",
            "gtzan",
            "gtzan",
            manual=(
                "GTZAN has no stable download with a published checksum (the original marsyas/opihi.cs.uvic.ca"
                " archive is gone since 2022): get a copy, e.g. the Kaggle one"
                " (kaggle.com/datasets/andradaolteanu/gtzan-dataset-music-genre-classification), and pass"
                " --data-dir the folder that holds {layout}"
            ),
        ),
        Source(
            "mtat",
            "mtat",
            "mtat",
            (
                Item(
                    "mp3.zip",
                    "zip",
                    tuple(Remote(_MTAT_BASE + f"mp3.zip.00{n}", f"mp3.zip.00{n}") for n in (1, 2, 3)),
                ),
                Item(
                    "annotations_final.csv",
                    "file",
                    (Remote(_MTAT_BASE + "annotations_final.csv", "annotations_final.csv"),),
                ),
            ),
        ),
        _fma("small", int(7.2 * _GIB)),
        _fma("medium", 22 * _GIB),
        _fma("large", 93 * _GIB),
        _fma("full", 879 * _GIB),
        Source("folder", "folder", "", manual=_NOTHING_TO_FETCH),
        Source("library", "library", "", manual=_NOTHING_TO_FETCH),
    ]
    table = {source.name: source for source in sources}
    table["fma"] = table["fma-small"]  # the data set's own name fetches its smallest subset
    return table


SOURCES: dict[str, Source] = _build()


def fetch_source(name: str) -> Source:
    """The source ``mtag datasets fetch NAME`` uses, or a usage error (exit 2) listing the known names."""
    try:
        return SOURCES[name]
    except KeyError:
        raise UsageError(
            f"unknown data set {name!r}",
            hint=f"fetch knows: {', '.join(SOURCES)}; see 'mtag datasets'",
        ) from None


def manual_line(source: Source) -> str:
    """Where to get the data by hand and what ``--data-dir`` must hold: the line printed instead of a download."""
    layout = dataset_info(source.dataset).layout
    if source.manual:
        return source.manual.format(layout=layout)
    homepage = dataset_info(source.dataset).homepage
    return f"or get the files from {homepage} and pass --data-dir the folder that holds {layout}"
