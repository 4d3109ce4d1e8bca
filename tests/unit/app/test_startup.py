"""Start-up by command: what each command imports, read from `python -X importtime` of the real CLI.

`vqr --help` loads no stage at all; `vqr lint`, `render` and `ls` load no HTTP, server, journal or terminal-UI
library (those belong to `vqr run`, `vqr report` and the sandbox); `vqr run` without a terminal loads no terminal UI.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import forked_cli

ROOT = Path(__file__).resolve().parents[3]
NETWORK_AND_UI = {"httpx", "aiohttp", "httpcore", "anyio", "h11", "rich", "starlette", "uvicorn", "sqlite3",
                  "cryptography"}
STAGES = {"jinja2", "jsonschema", "ruamel", "runner.compile", "runner.report.publish", "runner.findings.sarif"}


def imported(*args: str, cwd: Path) -> set[str]:
    """Every module the command imported (and each of its parent packages), as `-X importtime` lists them."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "runner", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=60)
    assert "Traceback" not in done.stderr, done.stderr
    names: set[str] = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            parts = name.split(".")
            names.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    assert "runner.cli" in names, done.stderr[-2000:]  # the parse really saw the command's imports
    return names


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("startup") / "repo"
    forked_cli.run(["init", str(directory)], check=True,
                   cwd=ROOT, timeout=60)
    return directory


def test_help_loads_no_stage(project: Path) -> None:
    names = imported("--help", cwd=project)
    assert not names & (NETWORK_AND_UI | STAGES), sorted(names & (NETWORK_AND_UI | STAGES))


@pytest.mark.parametrize("args", [("lint",), ("lint", "--format", "sarif"), ("render", "okta-users-with-s3-write"),
                                  ("ls",)])
def test_offline_commands_load_no_network_server_or_terminal_ui(project: Path, args: tuple[str, ...]) -> None:
    names = imported(*args, cwd=project)
    assert "runner.compile" in names  # the command did its work
    assert not names & NETWORK_AND_UI, sorted(names & NETWORK_AND_UI)
    # Every command builds the sandbox options; the OAA planner (and the graph generator under it) loads only
    # with a sandbox that generates OAA types.
    assert "runner.sandbox.oaa" not in names


def test_a_clean_lint_loads_no_jsonschema(project: Path) -> None:
    """Every file of the example repository passes the fast schema check (validate/fastcheck.py): jsonschema,
    referencing and attrs (~70 ms) load only to explain an error. The same parse sees jsonschema when one is found."""
    names = imported("lint", cwd=project)
    assert "runner.compile" in names and "jsonschema_rs" in names  # the files were checked
    assert not names & {"jsonschema", "referencing", "attrs"}, sorted(names & {"jsonschema", "referencing", "attrs"})
    broken = project / "queries" / "zz-broken.yaml"
    broken.write_text((project / "queries" / "okta-users-with-s3-write.yaml").read_text(encoding="utf-8")
                      .replace("name: okta-users-with-s3-write", "name: zz-broken") + "bogus_key: 1\n",
                      encoding="utf-8")
    try:
        assert "jsonschema" in imported("lint", cwd=project)
    finally:
        broken.unlink()


@pytest.fixture(scope="module")
def run_imports(project: Path) -> set[str]:
    return imported("run", "--quiet", cwd=project)


def test_run_does_load_the_client(run_imports: set[str]) -> None:
    """The guard above is not vacuous: the same parse sees httpx when the command needs it."""
    assert {"httpx", "aiohttp", "runner.client", "runner.execute"} <= run_imports


def test_a_run_without_a_terminal_loads_no_terminal_ui(run_imports: set[str]) -> None:
    # rich is the live line's, on a terminal only; httpx's own command-line tool (rich and pygments) is kept out
    # by `main()` (cli/group.py). The run above wrote its report: the client and the reports really loaded.
    assert "runner.report" in run_imports
    assert not run_imports & {"rich", "pygments"}, sorted(run_imports & {"rich", "pygments"})
    assert "jsonschema" not in run_imports  # a clean compile, and the run.json it has just written is not re-read


def test_the_csv_worker_loads_the_csv_writer_and_not_the_model() -> None:
    # The worker process starts in every run (app/csv_workers.py): through runner.app and the model its start-up
    # cost twice the CPU. Started as the run starts it; with stdin closed at once it serves nothing and leaves.
    from runner.app.csv_workers import _CHILD, _PACKAGE_ROOT

    done = subprocess.run([sys.executable, "-P", "-X", "importtime", "-c", _CHILD, str(_PACKAGE_ROOT)],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    names = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert {"runner.report.csv_serve", "runner.report.csv_export", "runner.flatten"} <= names
    assert not {n for n in names if n.split(".")[:2] in (["runner", "app"], ["runner", "model"], ["runner", "assess"])}
