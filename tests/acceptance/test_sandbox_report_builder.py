"""Veza's own SDK against the sandbox's saved queries and reports: `oaaclient-report-builder`, run as the console
script a user runs, pushes a report file over TLS; its queries and report then exist, and a second run adds nothing.
The SDK's client methods (`get_queries`, `delete_query(force=)`, `get_report_by_id`) read the sandbox's replies."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from oaaclient.client import OAAClient, OAAResponseError

from runner.sandbox.server import EmbeddedSandbox
from tests.acceptance.sandbox_fixtures import client_for, running_sandbox, spec

KEY = "report-builder-key"
QUERIES = "/api/v1/assessments/queries"
REPORTS = "/api/preview/assessments/reports"
BUILDER = Path(sys.executable).parent / "oaaclient-report-builder"


@pytest.fixture(scope="module")
def tls_server() -> Iterator[EmbeddedSandbox]:
    # Two of Veza's built-ins (SYSTEM_CREATED) beside the user's queries: the SDK must leave them alone.
    with running_sandbox(tls=True, latency=0.01, api_key=KEY, builtin_queries=2) as running:
        yield running


@pytest.fixture
def tls_sandbox(tls_server: EmbeddedSandbox) -> EmbeddedSandbox:
    with client_for(tls_server, key=KEY) as client:
        assert client.post("/_sandbox/reset").status_code == 200
    return tls_server


@pytest.fixture
def sdk(tls_sandbox: EmbeddedSandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[OAAClient]:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_sandbox.ca_file))
    monkeypatch.setenv("OAA_API_RETRIES", "0")
    client = OAAClient(url=tls_sandbox.url, api_key=KEY)
    yield client
    # The SDK's refused calls leave their connection with the exception (a cycle through its traceback): collected
    # and closed here, with the pool, so the sandbox never stops with a TLS connection open.
    gc.collect()
    client._http_adapter.close()


def report_file(tmp_path: Path) -> Path:
    """A report file as Veza's report files are written: the second entry an older export, with read-only keys and
    protojson's nulls (veza-api.md §9)."""
    queries: list[dict[str, Any]] = [
        {"name": "Okta users", "description": "every Okta user", "labels": ["identity"], **spec("OktaUser")},
        {"id": "11111111-2222-4333-8444-555555555555", "created_at": "2023-01-01T00:00:00Z",
         "updated_at": "2023-01-01T00:00:00Z", "result_type": "NUMBER", "name": "Roles with S3 access",
         "description": "", "labels": None, "access_filter": None,
         **spec("AwsIamRole", relates_to_exp={"specs": [{"node_types": {"nodes": [{"node_type": "S3Bucket"}]}}]})},
        {"name": "Snowflake users", "description": "", **spec("SnowflakeUser")},
    ]
    path = tmp_path / "report.json"
    path.write_text(json.dumps({"name": "Access review", "version": 1, "queries": queries}), encoding="utf-8")
    return path


def build(sandbox: EmbeddedSandbox, report: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VEZA_", "OAA_"))}
    # requests (under the SDK) trusts the sandbox's generated CA through REQUESTS_CA_BUNDLE; verification stays on.
    env.update(VEZA_URL=sandbox.url, VEZA_API_KEY=KEY, REQUESTS_CA_BUNDLE=str(sandbox.ca_file), OAA_API_RETRIES="0")
    done = subprocess.run([str(BUILDER), str(report)], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0 and "ERROR" not in done.stderr, done.stderr
    return done


def everything(client: httpx.Client) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    queries = client.get(QUERIES, params={"page_size": "1000"}).json()["values"]
    reports = client.get(REPORTS, params={"page_size": "1000"}).json()["values"]
    return queries, reports


def test_the_report_builder_creates_the_report_once(tls_sandbox: EmbeddedSandbox, tmp_path: Path) -> None:
    path = report_file(tmp_path)
    with client_for(tls_sandbox, key=KEY) as client:
        # One query already exists under its name: the builder reuses it rather than creating a second.
        existing = client.post(QUERIES, json={"name": "Snowflake users", **spec("SnowflakeUser")}).json()["value"]
        build(tls_sandbox, path)
        queries, reports = everything(client)
        builtins = [query for query in queries if query["query_type"] == "SYSTEM_CREATED"]
        assert len(builtins) == 2 and all(query["created_at"] == query["updated_at"] for query in builtins)
        by_name = {query["name"]: query for query in queries if query not in builtins}
        assert sorted(by_name) == ["Okta users", "Roles with S3 access", "Snowflake users"] and len(queries) == 5
        assert by_name["Snowflake users"] == existing
        roles = by_name["Roles with S3 access"]
        assert roles["id"] != "11111111-2222-4333-8444-555555555555" and "result_type" not in roles
        assert roles["relates_to_exp"]["specs"][0]["node_types"]["nodes"] == [{"node_type": "S3Bucket"}]
        assert [report["name"] for report in reports] == ["Access review"]
        report = reports[0]
        assert report["description"] == "Access review"  # the SDK names the report's description after it
        wanted = [by_name[name]["id"] for name in ("Okta users", "Roles with S3 access", "Snowflake users")]
        assert [entry["query"] for entry in report["queries"]] == wanted

        build(tls_sandbox, path)
        assert everything(client) == (queries, reports)


def test_the_sdk_reads_saved_queries_and_their_errors(sdk: OAAClient) -> None:
    sdk.DEFAULT_PAGE_SIZE = 2  # the SDK pages through has_more / next_page_token
    ids = [sdk.create_query({"name": f"q{i}", **spec("OktaUser")})["id"] for i in range(5)]
    listed = [query["id"] for query in sdk.get_queries() if query["query_type"] != "SYSTEM_CREATED"]
    assert listed == ids
    report = sdk.create_report({"name": "R", "description": "R", "queries": [{"query": ids[0]}]})
    assert sdk.add_query_report(report["id"], ids[1])["queries"] == [{"query": ids[0]}, {"query": ids[1]}]
    assert sdk.get_report_by_id(report["id"])["name"] == "R"
    with pytest.raises(OAAResponseError) as held:
        sdk.delete_query(ids[0])
    assert held.value.status_code == 400 and held.value.error == "FailedPrecondition" and held.value.request_id
    sdk.delete_query(ids[0], force=True)
    with pytest.raises(OAAResponseError) as gone:
        sdk.get_query_by_id(ids[0])
    assert gone.value.status_code == 404 and gone.value.error == "NotFound"
    with pytest.raises(OAAResponseError) as taken:
        sdk.create_query({"name": "q1", **spec("OktaUser")})
    assert taken.value.status_code == 400
    assert taken.value.details[0]["field_violations"][0]["field"] == "name"
    sdk.delete_report(report["id"])
    assert sdk.get_reports() == []
