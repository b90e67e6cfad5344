"""Write transactions that take SQLite's write lock up front.

sqlite-utils' ``atomic()`` opens a *deferred* transaction: it reads first and
asks for the write lock at the first write.  Under WAL, if another process
committed in between, that upgrade fails at once with "database is locked"
whatever the busy timeout.  ``BEGIN IMMEDIATE`` waits for the lock (up to the
busy timeout) before reading anything, so concurrent mtag processes queue up
instead of failing.  sqlite-utils methods called inside nest as savepoints.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlite_utils import Database


@contextmanager
def immediate(db: Database) -> Iterator[None]:
    """Run the block as one transaction: all of it is committed, or none of it."""
    try:  # BEGIN inside: a Ctrl-C right after it must not leave the transaction open
        db.execute("BEGIN IMMEDIATE")
        yield
        db.commit()
    finally:
        db.rollback()  # a no-op after the commit, or when BEGIN itself failed
