"""A unique canary API key, sent to refusing, failing, throttling, slow and key-echoing servers, must end up nowhere:
not in stdout, stderr, logs, the run directory or the journal."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.client.retry import RetryPolicy
from runner.errors import VqrError
from runner.secret import SECRET_FILTER
from tests.acceptance.run_project import (
    echo_app,
    fixed_sandbox,
    make_project,
    query_yaml,
    run_options,
    run_vqr,
    serve_asgi,
)
from tests.support import forked_cli

CANARY = "canary-7f3e9b2d41c8-vqr"


class Collect(logging.Handler):
    """A log handler like the one the CLI installs: everything at DEBUG (httpcore even logs response headers, which
    a hostile server can fill with the key it received), through vqr's secret filter."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.addFilter(SECRET_FILTER)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def logs() -> Iterator[Collect]:
    handler = Collect()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def everything_written(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and p.name != "vqr.yaml"
                    and "queries" not in p.parts)


@pytest.mark.parametrize("server", ["401", "403-echo", "500-echo", "429-echo", "timeout", "sandbox"])
@pytest.mark.parametrize("key_source", ["env-with-newline", "file-with-newline"])
def test_the_canary_key_leaks_nowhere(tmp_path: Path, logs: Collect, server: str, key_source: str) -> None:
    project_dir = tmp_path / "repo"
    project = make_project(project_dir, {"q1": query_yaml("q1", "OktaUser"), "q2": query_yaml("q2", "S3Bucket")})
    environ: dict[str, str] = {}
    if key_source == "env-with-newline":
        environ["VEZA_API_KEY"] = CANARY + "\n"
    else:
        key_file = tmp_path / "key.txt"
        key_file.write_text(CANARY + "\r\n")
        environ["VEZA_API_KEY_FILE"] = str(key_file)
    quick = RetryPolicy(base=0.01, cap=0.05, retry_after_cap=0.05, max_attempts=4, attempt_timeout=0.3,
                        request_deadline=2.0)
    options = run_options(env="remote", retry=quick, quiet=False)
    with _server(server) as url:
        environ["VEZA_URL"] = url
        try:
            ran = run_vqr(project, options, environ=environ)
            texts = [ran.out, ran.err]
            code = ran.code
        except VqrError as error:  # what the CLI's error boundary would print
            texts, code = [str(error)], int(error.exit_code)
    assert code == {"sandbox": 0, "401": 3, "403-echo": 3}.get(server, 1), texts
    blob = "\n".join([*texts, *logs.lines]).encode() + everything_written(project_dir)
    assert CANARY.encode() not in blob
    if server != "sandbox":
        assert b"***" in blob or server in ("401", "timeout")  # the echoed key was redacted, not dropped silently
    if server.endswith("echo"):
        assert (project_dir / ".vqr" / "state.sqlite").is_file() and (project_dir / "reports").is_dir()


@contextlib.contextmanager
def _server(kind: str) -> Iterator[str]:
    if kind in ("sandbox", "401"):
        with fixed_sandbox(**({"api_key": "the-right-key"} if kind == "401" else {})) as box:
            yield box.url
        return
    app = echo_app(200, delay=1.0) if kind == "timeout" else echo_app(int(kind.split("-")[0]))
    with serve_asgi(app) as url:
        yield url


def test_the_cli_debug_log_redacts_an_echoed_key(tmp_path: Path) -> None:
    """The real `vqr -vv run` (the CLI's own log handler) against a server that echoes the key back in headers."""
    import os

    project_dir = tmp_path / "repo"
    make_project(project_dir, {"q1": query_yaml("q1", "OktaUser")})
    with serve_asgi(echo_app(500)) as url:
        env = {**os.environ, "VEZA_URL": url, "VEZA_API_KEY": CANARY}
        done = forked_cli.run(["-vv", "run", "--env", "remote", "--quiet"],
                              cwd=project_dir, env=env, text=True, timeout=120)
    assert done.returncode in (1, 3), done.stderr
    assert "DEBUG" in done.stderr  # the debug log really was on
    assert CANARY not in done.stdout + done.stderr
    assert "***" in done.stderr  # the echoed key was logged, redacted
    assert CANARY.encode() not in everything_written(project_dir)
