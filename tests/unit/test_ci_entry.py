"""`.ci/run` is what CI runs: valid bash whose last command is exactly `make test`, as the README says."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CI = ROOT / ".ci" / "run"


def test_ci_entry_is_valid_bash_that_ends_in_make_test() -> None:
    done = subprocess.run(["bash", "-n", str(CI)], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    commands = [line.strip() for line in CI.read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    assert commands[-1] == "make test"
    assert "make test" in (ROOT / "README.md").read_text(encoding="utf-8").split("\n## ", 1)[0]
