"""Running the sandbox on uvicorn: `serve(config)` for `vqr sandbox serve`, and `EmbeddedSandbox` for in-process use.

`serve` listens on `config.host:config.port` (0 = a free port), prints the base URL as the first line of stdout and,
with TLS, the CA file (or given certificate) path as the second, then serves until interrupted; it returns an exit
code. `EmbeddedSandbox` serves on a free port of 127.0.0.1 in a background thread and stops cleanly on exit.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import socket
import ssl
import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import TextIO

import uvicorn

from runner.errors import ExitCode, InternalError, UsageError
from runner.sandbox.app import SandboxApp, build_app
from runner.sandbox.config import SandboxConfig
from runner.sandbox.graph import Graph
from runner.sandbox.jobs import Jobs
from runner.sandbox.saved import SavedObjects
from runner.sandbox.tls import TlsMaterial, generate_tls_material
from runner.sanitize import terminal_line

_GRACEFUL_SHUTDOWN = 2


def _listen(host: str, port: int) -> socket.socket:
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:
        family = socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on sockets whose proto says TCP, and without it every
    # reply written in two parts (headers, body) waits out the client's delayed ACK (~40 ms).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(512)
    except OSError as error:
        sock.close()
        # A port in use, a privileged port or a host that is not this machine's: the environment, not vqr (exit 2).
        hint = "; pick another --port, or 0 for a free one" if error.errno == errno.EADDRINUSE else ""
        raise UsageError(f"cannot listen on {host}:{port}: {error.strerror or error}{hint}") from None
    sock.setblocking(False)
    return sock


def _url(*, tls: bool, host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else ("::1" if host == "::" else host)  # noqa: S104
    if ":" in shown:
        shown = f"[{shown}]"
    return f"{'https' if tls else 'http'}://{shown}:{port}"


def _uvicorn_config(app: SandboxApp, *, certfile: Path | None, keyfile: Path | None) -> uvicorn.Config:
    config = uvicorn.Config(app.asgi, interface="asgi3", lifespan="off", log_level="warning", access_log=False,
                            proxy_headers=False, server_header=False, date_header=False,  # the app sends its own clock
                            timeout_graceful_shutdown=_GRACEFUL_SHUTDOWN,
                            ssl_certfile=str(certfile) if certfile else None,
                            ssl_keyfile=str(keyfile) if keyfile else None)
    try:
        config.load()
    except (OSError, ssl.SSLError) as error:
        raise UsageError(f"cannot use the TLS certificate or key: {error}") from None
    return config


class _Server(uvicorn.Server):
    """uvicorn's server, whose stop also waits for the evaluations accepted before it: they settle and reach the
    store (`--state`), so that a restart serves every job the stopped sandbox answered."""

    def __init__(self, config: uvicorn.Config, jobs: Jobs) -> None:
        super().__init__(config)
        self._jobs = jobs

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await super().shutdown(sockets=sockets)
        await self._jobs.drain()


def _tls_files(config: SandboxConfig) -> tuple[TlsMaterial | None, Path | None, Path | None]:
    """Generated material (to remove later) or the given files; (None, None, None) without TLS."""
    if not config.tls:
        return None, None, None
    if config.certfile and config.keyfile:
        return None, Path(config.certfile), Path(config.keyfile)
    material = generate_tls_material()
    return material, material.certfile, material.keyfile


def serve(config: SandboxConfig, *, out: TextIO | None = None) -> int:
    """Serve until interrupted (Ctrl-C or SIGTERM). Line 1 of `out`: the URL; line 2 with TLS: the CA file path."""
    out = out or sys.stdout
    app = build_app(config)
    for warning in (app.jobs.store_warning, app.saved.backend.warning):
        if warning:
            print(f"vqr sandbox serve: warning: {terminal_line(warning)}", file=sys.stderr, flush=True)
    material, certfile, keyfile = _tls_files(config)
    sock: socket.socket | None = None
    try:
        server = _Server(_uvicorn_config(app, certfile=certfile, keyfile=keyfile), app.jobs)
        sock = _listen(config.host, config.port)
        print(_url(tls=config.tls, host=config.host, port=sock.getsockname()[1]), file=out, flush=True)
        if config.tls:
            print(material.ca_file if material else certfile, file=out, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.run(sockets=[sock])
    finally:
        if sock is not None:
            sock.close()
        if material is not None:
            material.remove()
    return int(ExitCode.OK)


class EmbeddedSandbox:
    """The sandbox in a background thread on 127.0.0.1: `with EmbeddedSandbox(config) as sandbox: sandbox.url`.

    `ca_file` is set when `config.tls` is on; `jobs` and `saved` expose the executions service and the saved
    objects for in-process inspection.
    """

    def __init__(self, config: SandboxConfig, *, graph: Graph | None = None, startup_timeout: float = 30.0) -> None:
        self.config = config
        self._graph = graph
        self._startup_timeout = startup_timeout
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._material: TlsMaterial | None = None
        self._app: SandboxApp | None = None
        self.url = ""
        self.ca_file: Path | None = None

    @property
    def jobs(self) -> Jobs:
        if self._app is None:
            raise InternalError("the embedded sandbox is not running")
        return self._app.jobs

    @property
    def saved(self) -> SavedObjects:
        if self._app is None:
            raise InternalError("the embedded sandbox is not running")
        return self._app.saved

    def start(self) -> EmbeddedSandbox:
        self._app = build_app(self.config, graph=self._graph)
        try:
            self._material, certfile, keyfile = _tls_files(self.config)
            self.ca_file = self._material.ca_file if self._material else certfile
            self._server = _Server(_uvicorn_config(self._app, certfile=certfile, keyfile=keyfile), self._app.jobs)
            self._socket = _listen("127.0.0.1", self.config.port)
            self.url = _url(tls=self.config.tls, host="127.0.0.1", port=self._socket.getsockname()[1])
            self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]},
                                            name="vqr-sandbox", daemon=True)
            self._thread.start()
            deadline = time.monotonic() + self._startup_timeout
            while not self._server.started:
                if not self._thread.is_alive() or time.monotonic() > deadline:
                    raise InternalError("the embedded sandbox did not start")
                time.sleep(0.005)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=_GRACEFUL_SHUTDOWN + 10)
        if self._socket is not None:
            self._socket.close()
        if self._material is not None:
            self._material.remove()
        self._server = self._thread = self._socket = self._material = None

    def __enter__(self) -> EmbeddedSandbox:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
