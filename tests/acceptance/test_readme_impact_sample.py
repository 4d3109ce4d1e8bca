"""The README's sample pull-request comment is what `vqr diff --run --format md` writes for the change it describes,
on this repository's example queries against the embedded sandbox (only the base commit id is masked)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.acceptance.impact_repo import git, vqr

REPO = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"<!-- sample-comment:start -->\n````markdown\n(?P<body>.*?)````\n<!-- sample-comment:end -->", re.S)


def test_the_readme_sample_comment_is_regenerated_exactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    match = BLOCK.search((REPO / "README.md").read_text(encoding="utf-8"))
    assert match, "README.md lost its sample-comment block"
    root = tmp_path / "example"
    root.mkdir()
    shutil.copy(REPO / "vqr.yaml", root / "vqr.yaml")
    for folder in ("queries", "schemas"):
        shutil.copytree(REPO / folder, root / folder)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    fragment = root / "queries" / "_fragments" / "deactivated_okta_user.yaml"
    text = fragment.read_text(encoding="utf-8")
    assert "is_active, value: false" in text
    fragment.write_text("".join(line for line in text.splitlines(keepends=True) if "is_active" not in line),
                        encoding="utf-8")
    for name, value in (("VQR_SANDBOX_LATENCY", "0"), ("VQR_NO_LINT_CACHE", "1")):
        monkeypatch.setenv(name, value)
    for name in ("VQR_ENV", "VEZA_URL", "VQR_SANDBOX_NODES", "VQR_SANDBOX_SEED", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(root)
    code, _, err = vqr(capsys, "diff", "--base", "main", "--run", "--format", "md", "--output", "comment.md")
    assert code == 0, err
    written = re.sub(r"main \([0-9a-f]{10}\)", "main (0123abcdef)", (root / "comment.md").read_text(encoding="utf-8"))
    assert written == match["body"]
