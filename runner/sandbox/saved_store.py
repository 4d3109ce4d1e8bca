"""Where the sandbox keeps saved queries and reports: in memory, or in `<state>/saved.json` with `--state DIR`.

Saved objects belong to the tenant, not to a graph, so the file sits beside the per-graph directories of `store` and
outlives a change of `--nodes` or `--seed`. `session()` yields the `SavedState` to read or change: the file backend
holds the store's flock for the whole session, rereads the file when another sandbox has written it, and writes it
back atomically (through `files`) only when the session ended without an exception and changed something, so
concurrent sandboxes on one directory see one another's objects. Filesystem I/O (file backend only).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.files import write_atomically
from runner.sandbox.store import state_lock

FORMAT = 1  # bump when saved.json changes shape: an older file is then set aside, never misread
FILE_NAME = "saved.json"


@dataclass(kw_only=True)
class Saved:
    """One saved query or report: the body as stored (no server fields), its id and times, and its place in lists."""

    id: str
    seq: int  # creation order: lists are sorted by it and page tokens point into it (keyset paging)
    body: dict[str, Any]
    created_at: str
    updated_at: str

    def value(self) -> dict[str, Any]:
        """The object as the API returns it: the stored body with the server's fields."""
        return {"id": self.id, **self.body, "created_at": self.created_at, "updated_at": self.updated_at}


@dataclass(kw_only=True)
class SavedState:
    queries: dict[str, Saved] = field(default_factory=dict)
    reports: dict[str, Saved] = field(default_factory=dict)
    seq: int = 0
    changed: bool = False  # set by whoever changes it, so the file backend knows to write

    def next_seq(self) -> int:
        self.seq += 1
        self.changed = True
        return self.seq


def _encode(state: SavedState) -> str:
    def rows(objects: dict[str, Saved]) -> list[dict[str, Any]]:
        return [{"id": o.id, "seq": o.seq, "body": o.body, "created_at": o.created_at, "updated_at": o.updated_at}
                for o in objects.values()]
    return json.dumps({"format": FORMAT, "seq": state.seq, "queries": rows(state.queries),
                       "reports": rows(state.reports)}, separators=(",", ":"))


def _decode(raw: bytes) -> SavedState:
    """The state in `raw`; ValueError when it is not a saved.json of this format (checked, as another process or a
    person may have written it)."""
    data = json.loads(raw)
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("seq"), int):
        raise ValueError(f"not a format-{FORMAT} {FILE_NAME}")

    def objects(rows: Any) -> dict[str, Saved]:
        if not isinstance(rows, list):
            raise ValueError("a list of saved objects expected")
        out: dict[str, Saved] = {}
        for row in rows:
            if not (isinstance(row, dict) and isinstance(row.get("id"), str) and isinstance(row.get("seq"), int)
                    and isinstance(row.get("body"), dict) and isinstance(row.get("created_at"), str)
                    and isinstance(row.get("updated_at"), str)):
                raise ValueError("a damaged saved object")
            out[row["id"]] = Saved(id=row["id"], seq=row["seq"], body=row["body"], created_at=row["created_at"],
                                   updated_at=row["updated_at"])
        return out

    return SavedState(queries=objects(data.get("queries")), reports=objects(data.get("reports")), seq=data["seq"])


class MemorySaved:
    """Saved objects for this process only (no `--state`)."""

    def __init__(self) -> None:
        self._state = SavedState()
        self.warning: str | None = None

    @contextlib.contextmanager
    def session(self) -> Iterator[SavedState]:
        yield self._state
        self._state.changed = False

    def clear(self) -> None:
        self._state = SavedState()


class FileSaved:
    """Saved objects in `root/saved.json`, shared by every sandbox on `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / FILE_NAME
        self.warning: str | None = None  # one line when the file was unreadable and set aside
        self._cached: tuple[tuple[int, int, int], SavedState] | None = None

    def _locked(self) -> contextlib.AbstractContextManager[None]:
        return state_lock(self.root)  # the lock of `store.StateStore`: one guards the whole state directory

    def _stamp(self) -> tuple[int, int, int] | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return stat.st_ino, stat.st_mtime_ns, stat.st_size

    def _load(self) -> SavedState:
        stamp = self._stamp()
        if stamp is None:
            return SavedState()
        if self._cached is not None and self._cached[0] == stamp:
            return self._cached[1]
        try:
            state = _decode(self.path.read_bytes()) if self.path.is_file() and not self.path.is_symlink() \
                else _decode(b"")
        except (ValueError, RecursionError, UnicodeDecodeError) as error:
            aside = self.path.with_name(FILE_NAME + ".damaged")
            with contextlib.suppress(OSError):
                self.path.replace(aside)
            self.warning = f"{self.path} was unreadable ({error}); it was moved to {aside.name} and started empty"
            return SavedState()
        self._cached = (stamp, state)
        return state

    @contextlib.contextmanager
    def session(self) -> Iterator[SavedState]:
        with self._locked():
            state = self._load()
            try:
                yield state
            except BaseException:
                self._cached = None  # a refused change may have been half applied in memory: reread next time
                raise
            if state.changed:
                state.changed = False
                write_atomically(self.path, _encode(state))  # durable: not a cache, a tenant's objects
                stamp = self._stamp()
                self._cached = (stamp, state) if stamp is not None else None

    def clear(self) -> None:
        """Forget every saved object (`/_sandbox/reset`)."""
        with self._locked():
            self.path.unlink(missing_ok=True)
            self._cached = None
