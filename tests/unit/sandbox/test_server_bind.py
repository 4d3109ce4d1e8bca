"""A port that is already taken is the environment's problem: one line on stderr and exit 2, never a traceback."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.errors import ExitCode, UsageError
from runner.sandbox.config import SandboxConfig
from runner.sandbox.server import EmbeddedSandbox
from tests.support import forked_cli

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def taken_port() -> Iterator[int]:
    blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)  # a listening socket: SO_REUSEADDR does not let a second one bind beside it
    try:
        yield blocker.getsockname()[1]
    finally:
        blocker.close()


def test_sandbox_serve_on_a_taken_port_exits_2_with_one_line(taken_port: int) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = forked_cli.run(["sandbox", "serve", "--port", str(taken_port),
                           "--nodes", "50"], text=True, timeout=60, env=env, cwd=ROOT)
    assert done.returncode == ExitCode.USAGE, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"127.0.0.1:{taken_port}" in lines[0] and "Address already in use" in lines[0]
    assert "Traceback" not in done.stderr and done.stdout == ""  # no URL printed for a server that is not there


def test_the_embedded_sandbox_on_a_taken_fixed_port_is_a_usage_error(taken_port: int) -> None:
    with pytest.raises(UsageError) as caught, EmbeddedSandbox(SandboxConfig(port=taken_port, nodes=50)):
        pass
    assert caught.value.exit_code == ExitCode.USAGE
    assert f"cannot listen on 127.0.0.1:{taken_port}: Address already in use" in str(caught.value)


def test_the_sandbox_parses_http_with_httptools() -> None:
    """httptools is a dependency so that uvicorn picks its C parser, not pure-Python h11: the sandbox shares the
    runner's cores, and h11 cost it about a sixth more CPU per request."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    from runner.sandbox.app import build_app
    from runner.sandbox.server import _uvicorn_config

    config = _uvicorn_config(build_app(SandboxConfig(nodes=50)), certfile=None, keyfile=None)
    assert config.http_protocol_class is HttpToolsProtocol
