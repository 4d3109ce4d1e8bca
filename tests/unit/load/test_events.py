"""The event walker shares equal positions and paths between documents (a repository's documents are all held
until it is compiled), within bounded tables."""

from __future__ import annotations

import pytest

from runner.load import events
from runner.load.document import load_yaml
from runner.model import Position
from runner.model.shared import Shared


def test_equal_positions_and_paths_are_one_object_across_documents(monkeypatch: pytest.MonkeyPatch) -> None:
    # Fresh tables: other tests in this process have filled the shared ones, and a full table is only emptied when
    # a new entry arrives, so what this test loads must be new to them.
    monkeypatch.setattr(events, "_positions", Shared())
    monkeypatch.setattr(events, "_paths", Shared())
    text = b"name: a\nspec:\n  items: [1, 2]\n"
    first, _ = load_yaml(text, path="a.yaml")
    second, _ = load_yaml(text.replace(b"name: a", b"name: b"), path="b.yaml")
    assert first is not None and second is not None
    for path, where in first.values.items():
        twin = next(p for p in second.values if p == path)
        assert twin is path and second.values[twin] is where  # shared, not copied
    assert first.values[("spec", "items", 1)] == Position(line=3, column=14)
    events._positions.limit = events._paths.limit = 2  # full tables are emptied: bounded whatever the files
    third, _ = load_yaml(b"x: [1, 2, 3, 4]\n", path="c.yaml")
    assert third is not None and third.values[("x", 3)] == Position(line=1, column=14)
    assert len(events._positions) <= 2 and len(events._paths) <= 2
