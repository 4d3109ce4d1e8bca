"""Helpers for the `vqr run` acceptance tests: a tiny query project on disk, the real compile pipeline, sandboxes on
a graph with a fixed clock (so two sandboxes serve byte-identical rows), and a subprocess runner for kill tests."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import jsonschema

from runner.app.boundary import guarded
from runner.app.options import RunOptions, Tuning
from runner.app.run_command import run_batch_command
from runner.client.retry import PollLadder, RetryPolicy
from runner.compile.repository import compile_repository, discover_query_files
from runner.errors import InternalError
from runner.sandbox.config import SandboxConfig
from runner.sandbox.generate import generate_graph
from runner.sandbox.server import EmbeddedSandbox
from runner.settings import load_project, read_env, resolve_variables
from runner.validate.schemas import load_schema_set

REPO = Path(__file__).resolve().parents[2]
FIXED_NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
NODES = 400
FAST_RETRY = RetryPolicy(base=0.02, cap=0.2, retry_after_cap=0.2, max_attempts=40, attempt_timeout=5.0,
                         request_deadline=60.0)
QUICK_POLLS = PollLadder(initial=0.02, factor=1.5, cap=0.2)
NODE_TYPES = ("OktaUser", "OktaGroup", "AwsIamUser", "AwsIamRole", "S3Bucket", "SnowflakeUser")

PROJECT_FILE = """\
queries: queries/
reports: reports/
defaults:
  cache: {mode: if_available, max_staleness: 24h}
  concurrency: 8
  timeout: 60s
environments:
  sandbox: {url: embedded}
  remote: {url: "https://veza.invalid", api_key_env: VEZA_API_KEY}
"""


def query_yaml(name: str, node_type: str = "OktaUser", *, cache: str | None = None, expect: str | None = None,
               extra: str = "") -> str:
    """A query file returning the nodes of `node_type`; `extra` adds spec lines (2-space indented)."""
    text = (f"name: {name}\ntags: [test]\n" + (f"cache: {cache}\n" if cache else "")
            + "spec:\n  query_type: SOURCE_TO_DESTINATION\n"
            f"  source_node_types: {{nodes: [{{node_type: {node_type}}}]}}\n  result_value_type: SOURCE_NODES\n"
            + extra)
    return text + (f"expect:\n{textwrap.indent(expect, '  ')}\n" if expect else "")


def make_project(root: Path, queries: Mapping[str, str]) -> Path:
    """A project at `root` with `queries/<name>.yaml` for each entry; returns its vqr.yaml."""
    (root / "queries").mkdir(parents=True, exist_ok=True)
    (root / "vqr.yaml").write_text(PROJECT_FILE)
    for name, text in queries.items():
        (root / "queries" / f"{name}.yaml").write_text(text)
    return root / "vqr.yaml"


def batch_queries(count: int) -> dict[str, str]:
    """`count` queries over distinct specs (node type x tags flag x properties), cycling when count exceeds them."""
    out: dict[str, str] = {}
    for i in range(count):
        node_type = NODE_TYPES[i % len(NODE_TYPES)]
        variant = (i // len(NODE_TYPES)) % 4
        extra = ""
        if variant & 1:
            extra += "  include_all_source_tags_in_results: true\n"
        if variant & 2:
            extra += "  include_nodes: true\n"
        out[f"q{i:02d}"] = query_yaml(f"q{i:02d}", node_type, extra=extra)
    return out


def compile_units(project_file: Path) -> tuple[Any, tuple[Any, ...]]:
    project = load_project(project_file)
    env = project.environment("sandbox")
    compiled = compile_repository(project, load_schema_set(project.schemas_dir), resolve_variables(project, env),
                                  files=discover_query_files(project))
    assert not compiled.errors, compiled.errors
    return project, compiled.queries


def check_run_json(run: dict[str, Any]) -> dict[str, Any]:
    """Every run.json the tests see must match schemas/run.schema.json (with formats checked)."""
    schema = json.loads((REPO / "schemas" / "run.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(run), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]
    return run


_TUNING = frozenset(Tuning.__dataclass_fields__)


def run_options(**overrides: Any) -> RunOptions:
    """`RunOptions` for tests: fast retries and polls, small pages, a small sandbox; `overrides` may name the fields
    of either `RunOptions` or `Tuning`."""
    tuning: dict[str, Any] = {"page_size": 25, "retry": FAST_RETRY, "poll_ladder": QUICK_POLLS,
                              "retry_budget": 1000.0, "sandbox": SandboxConfig(nodes=NODES, latency=0.05)}
    values: dict[str, Any] = {"quiet": True}
    for name, value in overrides.items():
        (tuning if name in _TUNING else values)[name] = value
    return RunOptions(**values, tuning=Tuning(**tuning))


@dataclass(frozen=True, kw_only=True)
class Ran:
    code: int
    out: str
    err: str
    run: dict[str, Any] | None
    run_dir: Path | None


def run_vqr(project_file: Path, options: RunOptions | None = None, *, environ: Mapping[str, str] | None = None,
            ) -> Ran:
    """`vqr run` through `run_batch_command` on the real compile pipeline; reads back the newest run.json."""
    project, units = compile_units(project_file)
    out, err = io.StringIO(), io.StringIO()
    try:
        code = run_batch_command(project, units, options or run_options(), process=read_env(dict(environ or {})),
                                 out=out, err=err)
    except InternalError as problem:  # a target that cannot be reached: the CLI's boundary makes it exit 3
        code = guarded(functools.partial(_raise, problem), err=err)
    latest = project.reports_dir / "latest"
    run_dir = latest.resolve() if latest.exists() else None
    run = check_run_json(json.loads((run_dir / "run.json").read_text())) if run_dir else None
    return Ran(code=code, out=out.getvalue(), err=err.getvalue(), run=run, run_dir=run_dir)


def _raise(problem: Exception) -> int:
    raise problem


def by_name(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {q["name"]: q for q in run["queries"]}


@contextlib.contextmanager
def fixed_sandbox(**overrides: Any) -> Iterator[EmbeddedSandbox]:
    """An in-process sandbox over the fixed-clock graph: every such sandbox serves the same bytes."""
    values: dict[str, Any] = {"nodes": NODES, "latency": 0.05}
    values.update(overrides)
    config = SandboxConfig(**values)
    with EmbeddedSandbox(config, graph=generate_graph(nodes=config.nodes, seed=config.seed, now=FIXED_NOW)) as box:
        yield box


def remote(url: str, key: str = "test-key") -> dict[str, str]:
    """Environment variables pointing the `remote` environment at a server."""
    return {"VEZA_URL": url, "VEZA_API_KEY": key}


def stats(url: str, key: str = "test-key") -> dict[str, Any]:
    reply = httpx.get(f"{url}/_sandbox/stats", headers={"authorization": f"Bearer {key}"}, timeout=10)
    reply.raise_for_status()
    data: dict[str, Any] = reply.json()
    return data


# --- subprocesses -------------------------------------------------------------------------------------------------

_SERVER = """
import sys, threading
from runner.sandbox.config import SandboxConfig
from runner.sandbox.generate import generate_graph
from runner.sandbox.server import EmbeddedSandbox
from tests.acceptance.run_project import FIXED_NOW, NODES
nodes = int(sys.argv[2]) if len(sys.argv) > 2 else NODES
config = SandboxConfig(nodes=nodes, latency=float(sys.argv[1]))
with EmbeddedSandbox(config, graph=generate_graph(nodes=nodes, seed=config.seed, now=FIXED_NOW)) as box:
    print(box.url, flush=True)
    threading.Event().wait()
"""

# The subprocess calls run_batch_command inside the CLI's error boundary, with test tuning the CLI cannot set.
_RUNNER = """
import json, sys
from pathlib import Path
from runner.app.boundary import guarded
from tests.acceptance.run_project import compile_units, run_options
from runner.app.run_command import run_batch_command
settings = json.loads(sys.argv[1])
project, units = compile_units(Path(settings.pop("project")))
sys.exit(guarded(lambda: run_batch_command(project, units, run_options(**settings)), err=sys.stderr))
"""


def _python_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VEZA_", "VQR_"))}
    env["PYTHONPATH"] = str(REPO)
    env.update(extra or {})
    return env


@contextlib.contextmanager
def external_sandbox(latency: float, nodes: int = NODES) -> Iterator[str]:
    """The sandbox in its own process (it must outlive a killed `vqr run`); yields its URL."""
    with subprocess.Popen([sys.executable, "-c", _SERVER, str(latency), str(nodes)], stdout=subprocess.PIPE, text=True,
                          env=_python_env(), cwd=REPO) as process:
        try:
            assert process.stdout is not None
            url = process.stdout.readline().strip()
            assert url.startswith("http://127.0.0.1:"), url
            yield url
        finally:
            process.terminate()
            process.wait(timeout=20)


def start_run_process(project_file: Path, url: str, **settings: Any) -> subprocess.Popen[str]:
    """A `vqr run` in a subprocess against `url` (environment `remote`); settings are `run_options` fields."""
    settings = {"env": "remote", "quiet": False, "heartbeat": 0.5, **settings, "project": str(project_file)}
    return subprocess.Popen([sys.executable, "-c", _RUNNER, json.dumps(settings)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_python_env(remote(url)), cwd=project_file.parent)


# --- a misbehaving server ---------------------------------------------------------------------------------------

def echo_app(status: int, *, delay: float = 0.0) -> Any:
    """An ASGI app that passes the connection check, then answers every POST with `status` after `delay` seconds,
    echoing the Authorization header back in Veza's error body (a careless or hostile server)."""
    import asyncio

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        auth = dict(scope["headers"]).get(b"authorization", b"").decode()
        if scope["method"] == "GET":
            code, body = 200, {"values": [], "has_more": False, "next_page_token": None}
        else:
            await asyncio.sleep(delay)
            code = status
            body = {"code": "PermissionDenied", "message": f"refused {auth}", "request_id": "req-echo",
                    "details": [{"@type": "type.googleapis.com/google.rpc.BadRequest",
                                 "field_violations": [{"field": auth, "description": f"bad key {auth}"}]}]}
        await send({"type": "http.response.start", "status": code,
                    "headers": [(b"content-type", b"application/json"), (b"retry-after", b"0"),
                                (b"x-echo", auth.encode())]})
        await send({"type": "http.response.body", "body": json.dumps(body).encode()})

    return app


@contextlib.contextmanager
def serve_asgi(app: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a free port of 127.0.0.1 in a thread; yields its URL."""
    import socket
    import threading

    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            assert thread.is_alive()
            threading.Event().wait(0.005)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
