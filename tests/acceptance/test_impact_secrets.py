"""`vqr diff --run`, like `vqr run` (test_run_secrets.py), writes the API key nowhere: not in its text, Markdown or
JSON output, stderr, the `--output` file, the base and head run directories or the diff journal; also when the
server echoes the key back in its error bodies and headers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.acceptance.impact_repo import query, repo, vqr, write
from tests.acceptance.run_project import echo_app, fixed_sandbox, serve_asgi

__all__ = ["repo"]

CANARY = "canary-91c4d7e3a0b6-vqr-diff"


def everything_written(root: Path) -> bytes:
    """Every file under the repository, `.git`, `.vqr` and `reports/` included."""
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink())


@pytest.fixture(params=["sandbox", "400-echo"])
def server(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A sandbox that accepts only the canary key (so a success proves it was sent), or a server echoing it."""
    monkeypatch.setenv("VEZA_API_KEY", CANARY)
    if request.param == "sandbox":
        with fixed_sandbox(api_key=CANARY, latency=0.0) as box:
            monkeypatch.setenv("VEZA_URL", box.url)
            yield request.param
        return
    with serve_asgi(echo_app(400)) as url:
        monkeypatch.setenv("VEZA_URL", url)
        yield request.param


def test_diff_run_leaks_the_key_nowhere(repo: Path, server: str, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, {"queries/aws/roles.yaml": query("aws-roles", node_type="AwsIamUser", tags="[aws]"),
                 "queries/okta/extra.yaml": query("extra", node_type="OktaGroup")})
    texts: list[str] = []
    for fmt in ("text", "md", "json"):
        code, out, err = vqr(capsys, "diff", "--base", "main", "--run", "--env", "sandbox", "--format", fmt)
        assert code == (0 if server == "sandbox" else 1), err
        assert "aws-roles" in out and "extra" in out  # the report is there, and so is what it ran
        texts += [out, err]
    code, _, err = vqr(capsys, "diff", "--base", "main", "--run", "--env", "sandbox", "--format", "md",
                       "--output", str(repo / "comment.md"))
    texts.append(err)
    assert (repo / "comment.md").is_file()
    runs = [p for p in (repo / "reports" / "diff").glob("*/*/run.json") if p.parent.name != "latest"]
    assert len(runs) == 8  # base and head, four times
    assert (repo / ".vqr" / "diff-state.sqlite").is_file()
    blob = "\n".join(texts).encode() + everything_written(repo)
    assert CANARY.encode() not in blob
    if server != "sandbox":
        assert b"***" in blob  # the echoed key was redacted where the error was recorded, not silently dropped
        assert "refused" in texts[0] or "refused" in texts[1]  # the error message did reach the report


def test_diff_run_with_a_state_leaks_the_key_nowhere(repo: Path, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VEZA_API_KEY", CANARY)
    with fixed_sandbox(api_key=CANARY, latency=0.0) as box:
        monkeypatch.setenv("VEZA_URL", box.url)
        code, _, err = vqr(capsys, "run", "--env", "sandbox", "--quiet")
        assert code == 0, err
        write(repo, {"queries/aws/roles.yaml": query("aws-roles", node_type="AwsIamUser", tags="[aws]")})
        code, out, err = vqr(capsys, "diff", "--state", "reports/latest", "--run", "--format", "json")
    assert code == 0, err
    assert '"source_before": "state"' in out
    assert CANARY.encode() not in (out + err).encode() + everything_written(repo)
