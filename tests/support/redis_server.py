"""A real `redis-server` (Debian's package) for the shared-budget tests: on a free 127.0.0.1 port, in a temporary
directory, persisting nothing (`--save '' --appendonly no`), stopped afterwards.

`redis_server(tmp)` is a context manager yielding the server's URL, which carries a password (`--requirepass`), as a
production one would: the tests can then show it never leaks. A machine without `redis-server` FAILS the test
that needs it, with the install line, rather than skipping it: .ci/run installs the package.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

STARTUP_SECONDS = 10.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(port: int, password: str) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(f"AUTH {password}\r\nPING\r\n".encode())
            time.sleep(0.01)
            return b"+PONG" in sock.recv(64)
    except OSError:
        return False


@contextlib.contextmanager
def redis_server(directory: Path) -> Iterator[str]:
    """A running redis-server whose files live in `directory`; yields `redis://:<password>@127.0.0.1:<port>/0`."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: the shared API budget is tested against a real one "
                    "(apt-get install -y redis-server; .ci/run does it)", pytrace=False)
    port, password = _free_port(), "pw-" + secrets.token_hex(12)
    command = [binary, "--port", str(port), "--requirepass", password, "--bind", "127.0.0.1", "--dir", str(directory),
               "--save", "", "--appendonly", "no", "--protected-mode", "yes", "--loglevel", "warning"]
    with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as process:
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while not _answers(port, password):
                if process.poll() is not None or time.monotonic() > deadline:
                    error = process.stderr.read().decode(errors="replace") if process.stderr else ""
                    pytest.fail(f"redis-server did not start on port {port}: {error[-500:]}", pytrace=False)
                time.sleep(0.02)
            yield f"redis://:{password}@127.0.0.1:{port}/0"
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
