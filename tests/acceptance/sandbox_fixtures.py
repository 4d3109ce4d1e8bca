"""Pytest fixtures and helpers for tests that talk to the real embedded sandbox over HTTP on 127.0.0.1.

`sandbox` (session) serves a small graph with short latency; `sandbox_client` is an authenticated httpx client on
it, reset before each test. `running_sandbox(**overrides)` starts a dedicated one (faults, TLS, tiny TTLs...).
"""

from __future__ import annotations

import contextlib
import ssl
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from runner.sandbox.config import SandboxConfig
from runner.sandbox.server import EmbeddedSandbox

API = "/api/v1/assessments/query_spec"
CREATE = f"{API}:nodes_async_create"
GET = f"{API}:nodes_async_get"
NODES = f"{API}:nodes"
RESULT = f"{API}:result"
TEMPLATES = "/api/v1/providers/custom/templates"
TEST_KEY = "sandbox-test-key"


def sandbox_config(**overrides: Any) -> SandboxConfig:
    """A config for tests: a 500-node graph and 50 ms executions unless overridden."""
    values: dict[str, Any] = {"nodes": 500, "seed": 7, "latency": 0.05}
    values.update(overrides)
    return SandboxConfig(**values)


@contextlib.contextmanager
def running_sandbox(**overrides: Any) -> Iterator[EmbeddedSandbox]:
    with EmbeddedSandbox(sandbox_config(**overrides)) as sandbox:
        yield sandbox


def client_for(sandbox: EmbeddedSandbox, *, key: str | None = TEST_KEY, timeout: float = 10.0) -> httpx.Client:
    """An httpx client on `sandbox` (trusting its CA when it serves TLS), sending `key` as a bearer token."""
    headers = {"authorization": f"Bearer {key}"} if key is not None else {}
    verify: ssl.SSLContext | bool = True
    if sandbox.ca_file is not None:
        verify = ssl.create_default_context(cafile=str(sandbox.ca_file))
    return httpx.Client(base_url=sandbox.url, headers=headers, verify=verify, timeout=timeout)


def spec(node_type: str = "OktaUser", **extra: Any) -> dict[str, Any]:
    """A minimal SOURCE_TO_DESTINATION spec returning the nodes of `node_type`."""
    body: dict[str, Any] = {"query_type": "SOURCE_TO_DESTINATION",
                            "source_node_types": {"nodes": [{"node_type": node_type}]},
                            "result_value_type": "SOURCE_NODES"}
    body.update(extra)
    return body


def create(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    reply = client.post(CREATE, json=body)
    assert reply.status_code == 200, reply.text
    data: dict[str, Any] = reply.json()
    return data


def wait_done(client: httpx.Client, query_result_id: str, *, timeout: float = 10.0,
              page_size: int | None = None) -> dict[str, Any]:
    """Poll until the job leaves PENDING/RUNNING; returns the last poll reply (with the first page once DONE)."""
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {"query_result_id": query_result_id}
    if page_size is not None:
        body["page_size"] = str(page_size)
    while True:
        reply = client.post(GET, json=body)
        assert reply.status_code == 200, reply.text
        data: dict[str, Any] = reply.json()
        if data["status"] not in ("PENDING", "RUNNING"):
            return data
        assert time.monotonic() < deadline, f"job {query_result_id} still {data['status']}"
        time.sleep(0.01)


def read_all_pages(client: httpx.Client, query_result_id: str, *, page_size: int) -> tuple[list[Any], int]:
    """Every row of a DONE result through the page tokens; returns (rows, number of pages read)."""
    first = wait_done(client, query_result_id, page_size=page_size)
    assert first["status"] == "DONE", first
    rows, pages, page = list(first["values"]), 1, first
    while page["has_more"]:
        reply = client.post(GET, json={"query_result_id": query_result_id, "page_size": str(page_size),
                                       "page_token": page["next_page_token"]})
        assert reply.status_code == 200, reply.text
        page = reply.json()
        rows += page["values"]
        pages += 1
        assert pages < 10_000
    return rows, pages


@pytest.fixture(scope="session")
def sandbox() -> Iterator[EmbeddedSandbox]:
    with running_sandbox() as running:
        yield running


@pytest.fixture
def sandbox_client(sandbox: EmbeddedSandbox) -> Iterator[httpx.Client]:
    with client_for(sandbox) as client:
        assert client.post("/_sandbox/reset").status_code == 200
        yield client
