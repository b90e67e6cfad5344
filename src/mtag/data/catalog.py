"""The data sets mtag knows by name: what each is, its layout and its licence.

Torch-free and instant, like the model catalog: ``mtag datasets`` lists these
before anything is read from disk.  The adapters that read each layout, and
where each can be downloaded from, live in their own modules.
"""

from __future__ import annotations

from dataclasses import dataclass

from mtag.errors import UsageError


@dataclass(frozen=True)
class DatasetInfo:
    """One known data set: enough for a user to recognise it and lay it out."""

    name: str
    title: str
    multi_label: bool
    layout: str  # what --data-dir must hold
    license: str
    homepage: str

    def summary(self) -> dict[str, object]:
        return {
            "name": self.name,
            "title": self.title,
            "labels": "multi-label" if self.multi_label else "one per track",
            "layout": self.layout,
            "license": self.license,
            "homepage": self.homepage,
        }


DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo(
            "gtzan",
            "GTZAN genre collection (Tzanetakis & Cook 2002): 1,000 30 s clips, 10 genres",
            False,
            "genres/<genre>/<genre>.000NN.au (original archive)"
            " or Data/genres_original/<genre>/<genre>.000NN.wav (Kaggle)",
            "no licence; published for research use",
            "https://marsyas.info/index.html",
        ),
        DatasetInfo(
            "mtat",
            "MagnaTagATune (Law et al. 2009): 25,863 29 s clips, top-50 tags",
            True,
            "annotations_final.csv and the mp3 folders 0-9, a-f",
            "CC BY-NC-SA 1.0 (Magnatune)",
            "https://mirg.city.ac.uk/codeapps/the-magnatagatune-dataset",
        ),
        DatasetInfo(
            "fma",
            "Free Music Archive (Defferrard et al. 2017): fma_small / medium / large / full",
            False,
            "fma_metadata/tracks.csv and fma_<size>/NNN/NNNNNN.mp3",
            "audio: each track's Creative Commons licence; metadata CC BY 4.0",
            "https://github.com/mdeff/fma",
        ),
        DatasetInfo(
            "folder",
            "Your own folder per genre: DIR/<label>/... audio files, any format, nested folders allowed",
            False,
            "<label>/<any sub-folders>/<audio files>",
            "yours",
            "",
        ),
        DatasetInfo(
            "library",
            "Your tagged music library: labels from the files' own genre tags",
            True,
            "any folder of tagged audio files (or the tracks mtag's index knows)",
            "yours",
            "",
        ),
    )
}


def dataset_info(name: str) -> DatasetInfo:
    """The known data set ``name``, or a usage error listing the known ones."""
    try:
        return DATASETS[name]
    except KeyError:
        raise UsageError(
            f"unknown data set {name!r}", hint=f"known: {', '.join(DATASETS)}; see 'mtag datasets'"
        ) from None
