"""Building vqr (what `make install` and a release do) prints no setuptools warning, and the license is an SPDX
expression with its text shipped: setuptools rejects the `project.license` table form after 2027-02-18."""

from __future__ import annotations

import email
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from runner import __version__

ROOT = Path(__file__).resolve().parents[2]
# setuptools' warning classes as pip -v shows them: SetuptoolsDeprecationWarning, BuildBackendWarning, _Warning...
WARNING = re.compile(r"\b\w*Warning: ")


def test_the_wheel_builds_without_setuptools_warnings(tmp_path: Path) -> None:
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "reports", ".vqr", "__pycache__", ".*_cache", ".hypothesis",
        "node_modules"))
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "--wheel-dir",
                            str(tmp_path / "wheels"), str(source)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    warnings = [line for line in (built.stdout + built.stderr).splitlines() if WARNING.search(line)]
    assert warnings == []
    [wheel] = (tmp_path / "wheels").glob("vqr-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        metadata = email.message_from_bytes(archive.read(f"vqr-{__version__}.dist-info/METADATA"))
        assert f"vqr-{__version__}.dist-info/licenses/LICENSE" in archive.namelist()
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata["License"] is None  # the deprecated free-text field is gone
