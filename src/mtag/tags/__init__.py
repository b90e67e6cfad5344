"""Reading and safely writing the genre and mood tags of audio files.

:mod:`~mtag.tags.formats` maps the two fields onto each tag format and keeps
values exactly as stored (what makes undo exact); :mod:`~mtag.tags.write`
changes them through a verified copy that replaces the file in one rename
(:mod:`~mtag.tags.atomic`), so that a file is never left damaged.
"""

from mtag.tags.atomic import TEMP_PATTERN, remove_stale_temp_files
from mtag.tags.errors import TagError
from mtag.tags.formats import FIELDS, TagValues, read_field, read_tags
from mtag.tags.write import FileState, file_state, write_tags

__all__ = [
    "FIELDS",
    "TEMP_PATTERN",
    "FileState",
    "TagError",
    "TagValues",
    "file_state",
    "read_field",
    "read_tags",
    "remove_stale_temp_files",
    "write_tags",
]
