"""A bounded table of equal immutable values kept as one object (`Shared`), for values that recur by the thousand:
YAML positions and paths across a repository's documents, entity samples across a run's queries.

`table.get(key)` is the shared value or None; `table.add(key, value)` keeps and returns it. A full table is emptied
rather than tracked entry by entry (`limit`, 65,536 by default): the sharing is only a saving, so forgetting costs a
few copies, while a hostile file or a huge run can never grow it without bound. Pure, in memory.
"""

from __future__ import annotations

from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

SHARED_LIMIT = 1 << 16


class Shared(Generic[K, V]):
    __slots__ = ("_items", "limit")

    def __init__(self, limit: int = SHARED_LIMIT) -> None:
        self._items: dict[K, V] = {}
        self.limit = limit

    def get(self, key: K) -> V | None:
        return self._items.get(key)

    def add(self, key: K, value: V) -> V:
        if len(self._items) >= self.limit:
            self._items.clear()
        self._items[key] = value
        return value

    def __len__(self) -> int:
        return len(self._items)
