"""One writer for every file: atomic, and with the permissions the user's umask allows."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from runner.files import append_step_summary, write_atomically


def test_a_new_file_honours_the_umask_and_an_existing_one_keeps_its_mode(tmp_path: Path) -> None:
    code = ("import os, sys; os.umask(0o077); from pathlib import Path; from runner.files import write_atomically; "
            "write_atomically(Path(sys.argv[1]), 'x')")
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "private.json")], check=True)
    assert (tmp_path / "private.json").stat().st_mode & 0o777 == 0o600
    shared = tmp_path / "shared.json"
    write_atomically(shared, "a", mode=0o644)
    assert shared.stat().st_mode & 0o777 == 0o644
    os.chmod(shared, 0o640)
    write_atomically(shared, b"b")
    assert shared.read_bytes() == b"b" and shared.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_the_step_summary_keeps_within_what_is_left(tmp_path: Path) -> None:
    target = tmp_path / "summary.md"
    target.write_text("x" * (1024 * 1024 - 100))
    assert append_step_summary(target, lambda room: "y" * room, least=50) is True
    assert target.stat().st_size == 1024 * 1024
    assert append_step_summary(target, lambda room: "never", least=1) is False
