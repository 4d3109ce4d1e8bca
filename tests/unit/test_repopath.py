"""The one path policy (runner/repopath.py) on real files: inside and regular is read; a link out, a FIFO, a device,
a directory, a loop are refused without reading (so without blocking), each with a reason that quotes nothing."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from runner.repopath import PathProblem, Problem, check_file, outside_root, read_regular_file


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "repo").mkdir()
    (tmp_path / "outside.txt").write_text("TOP-SECRET\n")
    return (tmp_path / "repo").resolve()


def _problem(result: bytes | PathProblem | None) -> PathProblem:
    assert isinstance(result, PathProblem), result
    assert "TOP-SECRET" not in result.reason
    return result


def test_a_regular_file_inside_is_read_up_to_one_byte_past_the_limit(root: Path) -> None:
    (root / "a.yaml").write_bytes(b"x" * 100)
    assert read_regular_file(root / "a.yaml", 10, root=root) == b"x" * 11
    assert read_regular_file(root / "a.yaml", 1000, root=root) == b"x" * 100
    assert check_file(root / "a.yaml", root=root) is None


def test_a_symlink_inside_the_root_is_followed(root: Path) -> None:
    (root / "sub").mkdir()
    (root / "sub" / "real.yaml").write_text("a: 1\n")
    (root / "link.yaml").symlink_to(Path("sub") / "real.yaml")
    assert read_regular_file(root / "link.yaml", 100, root=root) == b"a: 1\n"


def test_a_symlink_out_of_the_root_is_refused_unread(root: Path) -> None:
    (root / "k.yaml").symlink_to(root.parent / "outside.txt")
    for result in (read_regular_file(root / "k.yaml", 100, root=root), check_file(root / "k.yaml", root=root),
                   outside_root(root, root / "k.yaml")):
        problem = _problem(result)
        assert problem.kind is Problem.OUTSIDE and "through a symbolic link" in problem.reason
    assert read_regular_file(root / "k.yaml", 100, root=None) == b"TOP-SECRET\n"  # no root: only the file kind


@pytest.mark.parametrize("reference", ["../outside.txt", "/etc/passwd", "sub/../../outside.txt"])
def test_references_that_leave_the_root_are_refused(root: Path, reference: str) -> None:
    problem = _problem(outside_root(root, root / reference))
    assert problem.kind is Problem.OUTSIDE and problem.reason.startswith("is outside the project directory")


def test_a_fifo_is_refused_at_once(root: Path) -> None:
    os.mkfifo(root / "pipe.yaml")
    started = time.monotonic()
    problem = _problem(read_regular_file(root / "pipe.yaml", 100, root=root))
    assert time.monotonic() - started < 1
    assert problem.kind is Problem.NOT_A_FILE and problem.reason.startswith("is a FIFO (named pipe)")


def test_a_dev_stdin_link_and_devices_are_refused(root: Path) -> None:
    (root / "in.yaml").symlink_to("/dev/stdin")
    assert _problem(read_regular_file(root / "in.yaml", 100, root=root)).kind is Problem.OUTSIDE
    problem = _problem(read_regular_file(Path("/dev/zero"), 100, root=None))
    assert problem.kind is Problem.NOT_A_FILE and problem.reason.startswith("is a device")


def test_a_directory_a_missing_file_and_a_loop(root: Path) -> None:
    (root / "dir.yaml").mkdir()
    assert _problem(read_regular_file(root / "dir.yaml", 100, root=root)).reason.startswith("is a directory")
    assert _problem(read_regular_file(root / "no.yaml", 100, root=root)).kind is Problem.UNREADABLE
    (root / "a.yaml").symlink_to("b.yaml")
    (root / "b.yaml").symlink_to("a.yaml")
    assert _problem(read_regular_file(root / "a.yaml", 100, root=root)).kind is Problem.UNREADABLE
