"""File names that are not valid UTF-8: shown, serialised and stored without losing a byte.

On POSIX a file name is bytes.  Python decodes a name that is not UTF-8 (a
Latin-1 ``caf\\xe9.flac`` from an old collection) with ``surrogateescape``:
each undecodable byte becomes a lone surrogate (``\\udce9``).  Such a string
opens the file fine, but it cannot be encoded as UTF-8, so writing it to a
terminal, a JSON stream or SQLite raises ``UnicodeEncodeError``.  Every place
where a path leaves the process goes through one of these functions instead:

* the terminal gets :func:`printable`: ``caf\\xe9.flac``, the byte shown
  escaped, as ``ls -b`` does;
* JSON gets :func:`json_text`: the surrogate as the JSON escape ``\\udce9``.
  That is valid JSON (RFC 8259's grammar allows any ``\\uXXXX``) and pure
  UTF-8 text; Python's ``json.loads`` gives back the very same string, so
  ``os.fsencode(json.loads(line)["path"])`` is the original name (``jq``
  shows the byte as U+FFFD);
* the index stores names with :func:`mtag.index.rows.path_to_db`, lossless.
"""

from __future__ import annotations

import json
import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")


def printable(text: str) -> str:
    """``text`` as valid Unicode, each undecodable file-name byte written ``\\xNN``; other text unchanged."""
    return _SURROGATE.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # a byte that surrogateescape carried: show the byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}"  # a lone surrogate of another origin (a broken UTF-16 name on Windows)


def json_text(value: Any, **options: Any) -> str:
    """``json.dumps(value, ensure_ascii=False)``, valid UTF-8 whatever the strings in it hold.

    ``ensure_ascii=False`` keeps genre names readable (``Música``) but writes a
    lone surrogate raw; those alone are turned into ``\\uXXXX`` escapes, which
    is what ``ensure_ascii=True`` writes for them.  A surrogate can only occur
    inside a JSON string, so the replacement cannot touch the syntax.
    """
    text = json.dumps(value, ensure_ascii=False, **options)
    return _SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
