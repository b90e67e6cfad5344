"""The error every failure to read or write tags is reported as."""

from __future__ import annotations

from mtag.errors import MtagError

#: The hint of every failure to write: mtag never leaves a file half written.
UNCHANGED = "the file was left unchanged"


class TagError(MtagError):
    """A file whose tags cannot be read or safely written; the file is left as it was."""
