"""tests/support/forked_cli.py: a forked `vqr` is the same process, to a test, as `python -m runner` started afresh.

Each test compares the helper with a real interpreter, or shows what the helper must not share between commands.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.support import forked_cli

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "queries: queries/\nenvironments:\n  sandbox: {url: embedded}\n"
GOOD = "name: good\nspec:\n  query_type: SOURCE_TO_DESTINATION\n  source_node_types: {nodes: [{node_type: OktaUser}]}\n"
BROKEN = "name: broken\nspec:\n  query_type: SOURCE_TO_DESTINATION\n  no_such_field: 1\n"


def real(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    done: subprocess.CompletedProcess[str] = subprocess.run(  # type: ignore[call-overload]
        [sys.executable, "-m", "runner", *args], capture_output=True, text=True, timeout=60,
        stdin=kwargs.pop("stdin", subprocess.DEVNULL), **kwargs)
    return done


def project(root: Path) -> Path:
    (root / "queries").mkdir(parents=True)
    (root / "vqr.yaml").write_text(PROJECT, encoding="utf-8")
    (root / "queries" / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    return root


@pytest.mark.parametrize("args", [["--help"], ["lint", "--format", "json"], ["lint"], ["no-such-command"],
                                  ["ls", "--format", "json"]])
def test_output_and_exit_code_equal_a_fresh_interpreters(tmp_path: Path, args: list[str]) -> None:
    root = project(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VQR_", "VEZA_", "GITHUB_"))}
    env["VQR_LINT_CACHE_KEY_FILE"] = str(tmp_path / "key")
    fresh = real(args, cwd=root, env=env)
    forked = forked_cli.run(args, cwd=root, env=env, text=True, timeout=60)
    assert (forked.returncode, forked.stdout, forked.stderr) == (fresh.returncode, fresh.stdout, fresh.stderr)
    assert forked.args == [sys.executable, "-m", "runner", *args]


def test_standard_input_the_working_directory_and_the_environment_are_the_commands(tmp_path: Path) -> None:
    root = project(tmp_path / "repo")
    data = (ROOT / "tests" / "fixtures" / "veza" / "docs-query-spec-nodes-sample.json").read_bytes()
    env = {**os.environ, "VQR_LINT_CACHE_KEY_FILE": str(tmp_path / "elsewhere" / "key")}
    done = forked_cli.run(["import", "-", "--dry-run"], cwd=root, env=env, input=data, timeout=60)
    fresh = real(["import", "-", "--dry-run"], cwd=root, env=env, input=data.decode(), stdin=None)
    assert done.returncode == fresh.returncode == 0, done.stderr
    assert done.stdout.decode() == fresh.stdout and b"spec from stdin" in done.stdout
    forked_cli.run(["lint"], cwd=root, env=env, timeout=60)
    assert (tmp_path / "elsewhere" / "key").exists()  # the variable reached the command, and cwd found the project


def test_nothing_of_one_command_reaches_the_next(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "queries" / "good.yaml").write_text(GOOD, encoding="utf-8")
    env = {**os.environ, "VQR_ENV": "no-such-environment"}
    first = forked_cli.run(["render", "good"], cwd=root, env=env, text=True, timeout=60)
    del env["VQR_ENV"]
    second = forked_cli.run(["render", "good"], cwd=root, env=env, text=True, timeout=60)
    assert first.returncode == 2 and "unknown environment 'no-such-environment'" in first.stderr
    assert second.returncode == 0 and json.loads(second.stdout)["cached_result_if_available"], second.stderr


def test_a_timeout_kills_the_command_and_raises_as_subprocess_does(tmp_path: Path) -> None:
    with pytest.raises(subprocess.TimeoutExpired) as raised:
        forked_cli.run(["sandbox", "serve", "--port", "0", "--nodes", "50"], cwd=tmp_path, timeout=8)
    assert (raised.value.output or b"").startswith(b"http://127.0.0.1:")  # it really was serving
    assert _commands_in(tmp_path) == []  # and it is gone


def test_a_command_killed_by_a_signal_has_the_negative_code(tmp_path: Path) -> None:
    def kill_it() -> None:
        deadline = time.monotonic() + 30
        while not (found := _commands_in(tmp_path)) and time.monotonic() < deadline:
            time.sleep(0.05)
        for pid in found:
            os.kill(pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_it)
    killer.start()
    done = forked_cli.run(["sandbox", "serve", "--port", "0", "--nodes", "50"], cwd=tmp_path, timeout=60)
    killer.join()
    assert done.returncode == -signal.SIGKILL


def test_an_interrupted_call_leaves_no_command_running(tmp_path: Path) -> None:
    """pytest-timeout or a Ctrl-C raises inside the wait: the command must not outlive it, as subprocess.run's
    child does not."""
    class Interrupted(Exception):
        pass

    def interrupt(signum: int, frame: object) -> None:
        raise Interrupted

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 3)
        with pytest.raises(Interrupted):
            forked_cli.run(["sandbox", "serve", "--port", "0", "--nodes", "50"], cwd=tmp_path, timeout=60)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    deadline = time.monotonic() + 10
    while _commands_in(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _commands_in(tmp_path) == []


def test_a_missing_working_directory_raises_as_subprocess_does(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        forked_cli.run(["--help"], cwd=tmp_path / "gone")


def _commands_in(directory: Path) -> list[int]:
    """The pids of processes whose working directory is `directory` (each test's own)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "cwd").resolve() == directory.resolve():
                found.append(int(entry.name))
        except OSError:  # gone, or not ours
            continue
    return found


@pytest.mark.parametrize("variable", ["PYTHONIOENCODING", "LC_ALL", "PYTHONPATH"])
def test_a_start_up_variable_that_differs_goes_to_a_real_interpreter(variable: str) -> None:
    env = dict(os.environ)
    assert not forked_cli._needs_a_real_interpreter(env)
    env[variable] = "ascii" if variable != "PYTHONPATH" else "/elsewhere"
    assert forked_cli._needs_a_real_interpreter(env)


def test_a_real_interpreter_honours_what_only_start_up_reads(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONIOENCODING": "ascii:backslashreplace"}
    root = project(tmp_path)
    (root / "queries" / "broken.yaml").write_text(BROKEN.replace("broken", "br\u00f6ken"), encoding="utf-8")
    env["VQR_LINT_CACHE_KEY_FILE"] = str(tmp_path / "key")
    done = forked_cli.run(["lint"], cwd=root, env=env, text=True, timeout=60)
    assert done.returncode == 1 and "br\\xf6ken" in done.stdout + done.stderr
