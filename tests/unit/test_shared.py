"""The bounded sharing table: an equal key gives the one kept value, and a full table is emptied, never grown."""

from __future__ import annotations

from runner.model.shared import Shared


def test_a_kept_value_is_given_back_and_a_full_table_starts_again() -> None:
    table: Shared[str, tuple[str, ...]] = Shared(limit=2)
    first = table.add("a", ("a",))
    assert table.get("a") is first and table.get("b") is None
    table.add("b", ("b",))
    assert len(table) == 2
    table.add("c", ("c",))  # full: emptied, then the new one kept
    assert len(table) == 1 and table.get("a") is None and table.get("c") == ("c",)
