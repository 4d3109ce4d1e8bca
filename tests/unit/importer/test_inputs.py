"""Reading import inputs: a directory or a FIFO is refused in one line, and no descriptor is left open on any path."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from runner.importer import ImportRefused, read_inputs


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.parametrize(("kind", "message"), [("dir", "is a directory"), ("fifo", "is not a regular file"),
                                               ("bad", "is not JSON")])
def test_a_refused_input_leaves_no_descriptor_open(tmp_path: Path, kind: str, message: str) -> None:
    target = tmp_path / "input.json"
    if kind == "dir":
        target.mkdir()
    elif kind == "fifo":
        os.mkfifo(target)
    else:
        target.write_text("not json")
    before = _open_fds()
    for _ in range(20):
        with pytest.raises(ImportRefused, match=message):
            read_inputs([str(target)], io.BytesIO())
    assert _open_fds() == before


def test_a_regular_file_is_read_and_closed(tmp_path: Path) -> None:
    (tmp_path / "q.json").write_text('{"query_type": "SOURCE_TO_DESTINATION"}')
    before = _open_fds()
    [read] = read_inputs([str(tmp_path / "q.json")], io.BytesIO())
    assert (read.label, read.stem) == (str(tmp_path / "q.json"), "q")
    assert read.value == {"query_type": "SOURCE_TO_DESTINATION"}
    assert _open_fds() == before
