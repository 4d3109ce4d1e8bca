"""Transactions of the journal's one connection: `atomic(db)` makes a block one unit (a transaction of its own, or
a savepoint inside an open one, so units nest), `one_transaction(db)` holds one transaction over many units and
commits them once, at its end. SQLite only; no I/O beyond the connection's.

Why: a unit committed on its own costs a WAL append and a lock round trip; `vqr report merge` records a batch it
already has (thousands of queries, several units each) and keeps nothing of a failed merge, so one commit serves
it. `vqr run` holds one only to open a run (its queries' PENDING records, before anything is sent); after that,
resuming relies on every record being committed as it happens.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

_SAVEPOINT = "vqr_unit"


class Discard(Exception):
    """Raised inside `atomic` to roll the unit back without an error; `atomic` swallows it."""


@contextmanager
def atomic(db: sqlite3.Connection) -> Iterator[None]:
    """The block's statements all or none; an exception rolls them back (and is raised again, but `Discard`)."""
    nested = db.in_transaction
    db.execute(f"SAVEPOINT {_SAVEPOINT}" if nested else "BEGIN IMMEDIATE")
    try:
        yield
    except BaseException as error:
        if db.in_transaction:
            if nested:
                db.execute(f"ROLLBACK TO {_SAVEPOINT}")
                db.execute(f"RELEASE {_SAVEPOINT}")
            else:
                db.execute("ROLLBACK")
        if not isinstance(error, Discard):
            raise
    else:
        db.execute(f"RELEASE {_SAVEPOINT}" if nested else "COMMIT")


@contextmanager
def one_transaction(db: sqlite3.Connection) -> Iterator[None]:
    """One transaction for the block: its units are committed together when it ends, rolled back if it raises."""
    if db.in_transaction:
        raise RuntimeError("a batch cannot start inside another transaction")
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
