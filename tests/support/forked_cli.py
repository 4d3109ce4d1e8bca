"""`vqr` processes for tests, forked from a warm interpreter: the real CLI in a real process, without paying Python's
start-up and vqr's imports for each one.

Why: the suite starts `vqr` about 450 times, and `make test` is CPU-bound on two cores. A `python -m runner` start
costs about 0.4 s of CPU before the command does anything (the interpreter, then vqr's modules and their libraries);
forking a process that has imported them already costs a few milliseconds. That was about a third of the suite's
CPU.

What a test gets is still a real `vqr` process: its own pid, argv, working directory, environment, stdin, stdout,
stderr and exit status, and the CLI's own `main()` runs in it exactly as `python -m runner` would run it (through
runpy, as `-m` does), then the interpreter exits as usual (atexit handlers, flushed streams). Each command process is
a fresh fork of a server that imported vqr and never ran a command, so nothing of one invocation reaches the next.

What it does not reproduce, so `run()` starts a real interpreter instead whenever it matters:
- the interpreter's own start-up (`-X importtime`, which modules a command imports): test_startup's measurements and
  the wheel tests start real interpreters;
- settings Python reads only at start-up: an `env` whose PYTHON*, LANG or LC_* values differ from those the server
  started with goes to a real `python -m runner` (the server's streams and locale were made from them);
- `preexec_fn` and anything else of Popen's: `run()` takes only what the tests use, and Popen users (signals,
  process groups, two runs at once) start real processes.
And, known and accepted:
- stdout and stderr are temporary files, not pipes: a grandchild that kept them open would hang subprocess.run, and
  here it does not (vqr's own children, the CSV worker and the sandbox, are reaped by the tests that start them);
- every command of one worker has the server's hash seed, so set order is the same from one command to the next
  (determinism across runs is tested on real processes too: the shard, crash and resume tests);
- the command ends with `os._exit` after the interpreter's exit steps (non-daemon threads joined, atexit run,
  streams flushed), skipping the teardown of every module the server imported (about 0.2 s): an object vqr left
  unclosed is not finalized.

Protocol: one server per test process (each xdist worker has its own), started on first use and stopped at exit;
it also leaves when its stdin (a pipe from this process) closes, so a killed worker leaves no server behind. Per
command, one AF_UNIX SOCK_SEQPACKET connection: the request (argv, cwd, environment as JSON) with the three stdio
descriptors attached; the server forks a monitor, the monitor forks the command and answers its wait status. The
monitor kills the command (SIGKILL) when asked to (a timeout, as subprocess.run does) or when the connection closes
first (the test was interrupted), so no command outlives the call that started it.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import io
import json
import locale
import os
import pkgutil
import runpy
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

REPO = Path(__file__).resolve().parents[2]
_MAX_MESSAGE = 1 << 20
_KILL = b"kill"
_STARTUP_VARS = ("PYTHON", "LANG", "LC_")  # read by the interpreter at start-up only: the server's values are fixed
_PYTHONPATH = "PYTHONPATH"  # matters only for where vqr is imported from, which the server already did


def run(args: Sequence[str], *, cwd: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None,
        input: str | bytes | None = None, text: bool = False, timeout: float | None = None,
        check: bool = False) -> subprocess.CompletedProcess[Any]:
    """`subprocess.run([sys.executable, "-m", "runner", *args], capture_output=True, stdin=DEVNULL or input, ...)`."""
    argv = [sys.executable, "-m", "runner", *args]
    environ = dict(os.environ if env is None else env)
    if _needs_a_real_interpreter(environ):
        return subprocess.run(argv, cwd=cwd, env=environ, input=input, text=text, timeout=timeout, check=check,
                              capture_output=True, stdin=None if input is not None else subprocess.DEVNULL)
    data = input.encode(_encoding()) if isinstance(input, str) else input
    with tempfile.TemporaryFile() as stdin, tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        if data:
            stdin.write(data)
            stdin.seek(0)
        directory = os.path.abspath(cwd if cwd is not None else os.getcwd())
        if not os.path.isdir(directory):
            raise FileNotFoundError(2, "No such file or directory", directory)
        status = _server().call(list(args), directory, environ, (stdin, stdout, stderr), timeout, argv)
        out, err = _read(stdout), _read(stderr)
    if isinstance(status, subprocess.TimeoutExpired):
        status.output, status.stderr = out, err
        raise status
    done = subprocess.CompletedProcess(argv, status, _text(out) if text else out, _text(err) if text else err)
    if check:
        done.check_returncode()
    return done


def _startup(values: Mapping[str, str]) -> dict[str, str]:
    """The variables only the interpreter's start-up reads, PYTHONPATH aside (`_needs_a_real_interpreter`)."""
    return {k: v for k, v in values.items() if k.startswith(_STARTUP_VARS) and k != _PYTHONPATH}


def _needs_a_real_interpreter(environ: Mapping[str, str]) -> bool:
    """True when `environ` changes what the server's interpreter read at its start-up. A PYTHONPATH naming this
    checkout, or the server's own, changes nothing: vqr is imported from there either way."""
    server = _server()
    return _startup(environ) != server.startup or environ.get(_PYTHONPATH) not in (None, str(REPO), server.pythonpath)


def _encoding() -> str:
    return locale.getpreferredencoding(False)


def _read(handle: IO[bytes]) -> bytes:
    handle.seek(0)
    return handle.read()


def _text(raw: bytes) -> str:
    return io.TextIOWrapper(io.BytesIO(raw), encoding=_encoding()).read()  # subprocess's: universal newlines too


class _Server:
    def __init__(self) -> None:
        self.directory = tempfile.mkdtemp(prefix="vqr-forked-cli-")
        self.path = os.path.join(self.directory, "socket")
        self.log = open(os.path.join(self.directory, "server.log"), "wb")  # noqa: SIM115 (lives as long as the server)
        self.startup = _startup(os.environ)  # what the server's interpreter was started with
        self.pythonpath = os.environ.get(_PYTHONPATH)
        self.process = subprocess.Popen([sys.executable, "-m", "tests.support.forked_cli", self.path], cwd=REPO,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log)
        assert self.process.stdout is not None
        if self.process.stdout.readline() != b"ready\n":
            tail = self.log_tail()
            self.stop()
            raise RuntimeError(f"the forked-CLI server did not start: {tail}")

    def call(self, args: list[str], cwd: str, environ: dict[str, str], stdio: tuple[IO[bytes], ...],
             timeout: float | None, argv: list[str]) -> int | subprocess.TimeoutExpired:
        request = json.dumps({"args": args, "cwd": cwd, "env": environ}).encode()
        # Closing the connection before the answer (an exception here: pytest-timeout, Ctrl-C) makes the monitor
        # kill the command, as subprocess.run kills its child; the monitor, its parent, is the one that signals it.
        with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as connection:
            connection.connect(self.path)
            socket.send_fds(connection, [request], [handle.fileno() for handle in stdio])
            connection.settimeout(timeout)
            try:
                answer = connection.recv(64)
            except TimeoutError:
                connection.settimeout(None)
                connection.send(_KILL)
                connection.recv(64)
                return subprocess.TimeoutExpired(argv, timeout or 0.0)
        if not answer:
            raise RuntimeError(f"the forked-CLI server gave no answer: {self.log_tail()}")
        return os.waitstatus_to_exitcode(int(answer))

    def log_tail(self) -> str:
        return Path(self.log.name).read_text(errors="replace")[-2000:]

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        assert self.process.stdout is not None
        self.process.stdout.close()
        self.log.close()
        shutil.rmtree(self.directory, ignore_errors=True)


_LOCK = threading.Lock()
_SERVERS: dict[int, _Server] = {}  # by pid: a forked test process must not share its parent's server


def _server() -> _Server:
    with _LOCK:
        server = _SERVERS.get(os.getpid())
        if server is not None and server.process.poll() is not None:  # it died: say why once, then start another
            print(f"forked_cli: the server had exited: {server.log_tail()}", file=sys.stderr)
            server.stop()
            server = None
        if server is None:
            server = _SERVERS[os.getpid()] = _Server()
            atexit.register(server.stop)
        return server


# --- the server (python -m tests.support.forked_cli SOCKET) -------------------------------------------------------

def _preload() -> None:
    import runner  # the server's only: what every command would import
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]  # as runner.cli.group.main does, first
    for module in pkgutil.walk_packages(runner.__path__, "runner."):
        if module.name != "runner.__main__":
            importlib.import_module(module.name)


def serve(path: str) -> dict[str, Any]:
    """Answers requests until stdin closes; returns only in a forked command process, with its request."""
    _preload()
    if threading.active_count() != 1:  # forking a process with threads could copy a lock some thread holds
        raise RuntimeError(f"importing vqr started threads: {threading.enumerate()}")
    gc.freeze()  # what the server imported is never collected, so a fork does not copy it to count it
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(path)
    listener.listen(64)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the monitors are reaped by the kernel
    os.write(1, b"ready\n")
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    selector.register(0, selectors.EVENT_READ)
    while True:
        for key, _ in selector.select():
            if key.fd == 0:
                os.read(0, 1)  # only EOF is ever sent: the test process closed the pipe, or died
                raise SystemExit(0)
            connection, _ = listener.accept()
            if os.fork() == 0:
                selector.close()
                listener.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                return _monitor(connection)
            connection.close()


def _monitor(connection: socket.socket) -> dict[str, Any]:
    try:
        message, fds, _, _ = socket.recv_fds(connection, _MAX_MESSAGE, 3)
        request: dict[str, Any] = json.loads(message)
        pid = os.fork()
    except BaseException:
        os._exit(1)  # the client sees the connection close without an answer
    if pid == 0:
        connection.close()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        return request
    try:  # the monitor never returns: only the command goes on to run vqr
        for fd in fds:
            os.close(fd)
        _watch(connection, pid)
    finally:
        os._exit(0)


def _watch(connection: socket.socket, pid: int) -> None:
    """Until the command exits: a kill request, or the client gone, kills it; then its wait status is the answer."""
    exited = os.pidfd_open(pid)
    selector = selectors.DefaultSelector()
    selector.register(exited, selectors.EVENT_READ)
    selector.register(connection, selectors.EVENT_READ)
    while True:
        ready = {key.fileobj for key, _ in selector.select()}
        if exited in ready:
            _, status = os.waitpid(pid, 0)
            with contextlib.suppress(OSError):  # a client that left wants no answer
                connection.send(str(status).encode())
            return
        if connection in ready:
            connection.recv(64)  # _KILL, or b"" when the client closed the connection
            os.kill(pid, signal.SIGKILL)
            selector.unregister(connection)


def _become(request: dict[str, Any]) -> None:
    """This process is now `python -m runner ARGS` started in `cwd` with `env`."""
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    time.tzset()
    sys.argv = ["-m", *request["args"]]  # runpy sets argv[0] to runner/__main__.py, as `-m` does
    sys.path[0] = os.getcwd()  # `-m` puts the working directory first


def _exit_code(done: SystemExit) -> int:
    if done.code is None or isinstance(done.code, int):
        return done.code or 0
    print(done.code, file=sys.stderr)  # sys.exit("message"), as the interpreter prints it
    return 1


def _finish(code: int, *, interrupted: bool = False) -> None:
    """The interpreter's exit, less the teardown of every module the server imported (about 0.2 s per command):
    the same order as Py_FinalizeEx, then `_exit`; after an uncaught KeyboardInterrupt, death by SIGINT instead, as
    the interpreter does so that its parent sees why."""
    threading._shutdown()  # type: ignore[attr-defined]  # waits for non-daemon threads, as the interpreter does
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = 120  # the interpreter's code when flushing a standard stream fails at exit
    if interrupted:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    os._exit(code)


if __name__ == "__main__":
    _become(serve(sys.argv[1]))
    try:
        runpy.run_module("runner", run_name="__main__", alter_sys=True)
    except SystemExit as done:
        _finish(_exit_code(done))
    except KeyboardInterrupt:
        sys.excepthook(*sys.exc_info())
        _finish(1, interrupted=True)
    except BaseException:
        sys.excepthook(*sys.exc_info())
        _finish(1)
    _finish(0)
