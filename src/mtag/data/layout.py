"""What every adapter needs from the disk: audio files, shipped split lists, and layout errors.

A wrong ``--data-dir`` is the commonest mistake with data sets, so the error
says which layout was expected and what the folder holds instead, in one line.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from mtag.audio.decode import SUPPORTED_EXTENSIONS
from mtag.errors import UsageError
from mtag.library.discover import discover

#: What a data set's folder walk takes: every format mtag decodes, and Sun audio (GTZAN's original ``.au``).
DATASET_EXTENSIONS = SUPPORTED_EXTENSIONS | {".au"}
_SHOWN = 6  # entries of a wrong folder named in the error


def audio_files(folder: Path) -> list[Path]:
    """Every audio file under ``folder``, absolute and sorted (the library walk, with ``.au`` too)."""
    return discover([folder], DATASET_EXTENSIONS).files


def shipped_list(dataset: str, name: str) -> list[str]:
    """A split or tag list shipped in the package (``mtag/data/lists/<dataset>/<name>``), one entry a line."""
    text = resources.files("mtag.data").joinpath("lists").joinpath(dataset).joinpath(name).read_text(encoding="ascii")
    return [line.strip() for line in text.splitlines() if line.strip()]


def found(folder: Path) -> str:
    """A short account of what ``folder`` holds, for an error that says what was found instead."""
    if not folder.exists():
        return "the folder does not exist"
    if not folder.is_dir():
        return "it is a file, not a folder"
    names = sorted(entry.name + ("/" if entry.is_dir() else "") for entry in folder.iterdir())
    if not names:
        return "the folder is empty"
    more = f", ... ({len(names)} entries)" if len(names) > _SHOWN else ""
    return "found " + ", ".join(names[:_SHOWN]) + more


def layout_error(dataset: str, data_dir: Path, expected: str, hint: str | None = None) -> UsageError:
    """The one line for a ``--data-dir`` that does not hold ``dataset``'s layout."""
    return UsageError(
        f"not a {dataset} folder: expected {expected}; {found(data_dir)}",
        path=data_dir,
        hint=hint or f"point --data-dir at the folder holding the {dataset} files; 'mtag datasets' lists the layouts",
    )


def require_folder(dataset: str, data_dir: Path | None, expected: str) -> Path:
    """``data_dir`` as an existing folder, or the layout error."""
    if data_dir is None:
        raise UsageError(f"{dataset} needs --data-dir", hint=f"the folder holding {expected}")
    data_dir = Path(data_dir).expanduser()
    if not data_dir.is_dir():
        raise layout_error(dataset, data_dir, expected)
    return data_dir
