"""Interoperability with Veza's official SDK: `oaaclient` connects to the sandbox over TLS and pages through
`query_spec:nodes` results, and reads its errors the way it reads Veza's."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from oaaclient.client import OAAClient, OAAConnectionError, OAAResponseError

from runner.sandbox.server import EmbeddedSandbox
from tests.acceptance.sandbox_fixtures import NODES, RESULT, TEMPLATES, client_for, running_sandbox, spec

KEY = "sdk-key"


@pytest.fixture(scope="module")
def tls_sandbox() -> Iterator[EmbeddedSandbox]:
    with running_sandbox(tls=True, latency=0.01, api_key=KEY, empty_page_rate=0.3, fault_seed=5) as running:
        yield running


@pytest.fixture
def sdk(tls_sandbox: EmbeddedSandbox, monkeypatch: pytest.MonkeyPatch) -> OAAClient:
    assert tls_sandbox.ca_file is not None
    # requests (under the SDK) trusts the bundle named by REQUESTS_CA_BUNDLE; verification stays on.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_sandbox.ca_file))
    monkeypatch.delenv("VEZA_UNSAFE_HTTPS", raising=False)
    monkeypatch.setenv("OAA_API_RETRIES", "0")
    return OAAClient(url=tls_sandbox.url, api_key=KEY)


def test_the_sdk_connects_over_tls_and_pages_through_nodes(sdk: OAAClient, tls_sandbox: EmbeddedSandbox) -> None:
    assert sdk.url == tls_sandbox.url and sdk.url.startswith("https://127.0.0.1:")
    rows = sdk.api_post(NODES, data=spec("OktaUser"), params={"page_size": 10})
    with client_for(tls_sandbox, key=KEY) as client:
        total = int(client.post(RESULT, json=spec("OktaUser")).json()["number_value"])
        assert client.get("/_sandbox/stats").json()["faults"].get("empty_page", 0) > 0
    assert isinstance(rows, list) and len(rows) == total > 10
    assert len({row["id"] for row in rows}) == total
    assert all(row["type"] == "OktaUser" for row in rows)
    assert sdk.api_get(TEMPLATES)


def reference_rows(sandbox: EmbeddedSandbox, body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """Every row of `body` in one page, read without the SDK (the sandbox's order is the id order)."""
    with client_for(sandbox, key=KEY) as client:
        for _ in range(20):  # an injected empty page says has_more: read again until the page is whole
            page = client.post(NODES, json=body, params={"page_size": 10000}).json()
            if not page["has_more"]:
                rows: list[dict[str, Any]] = page[key]
                return rows
    raise AssertionError("no whole page in 20 tries")


@pytest.mark.parametrize(("body", "key"), [
    (spec("AzureADUser"), "values"),
    (spec("OktaUser", result_value_type="SOURCE_AND_DESTINATION_NODES",
          relates_to_exp={"specs": [{"node_types": {"nodes": [{"node_type": "S3Bucket"}]}}]}), "path_values"),
])
def test_the_sdk_reads_every_page_exactly_once_through_the_query_string(
        sdk: OAAClient, tls_sandbox: EmbeddedSandbox, body: dict[str, Any], key: str) -> None:
    # api_post sends page_token in the query string, as Veza's query_spec:nodes wants it (veza-api.md §5).
    rows = sdk.api_post(NODES, data=body, params={"page_size": 7})
    expected = reference_rows(tls_sandbox, body, key)
    assert len(expected) > 3 * 7
    assert rows == expected
    identity = [(r["source"]["id"], r["destination"]["id"]) if key == "path_values" else r["id"] for r in rows]
    assert len(set(identity)) == len(identity)


def test_the_sdk_reads_the_error_body(sdk: OAAClient) -> None:
    with pytest.raises(OAAResponseError) as caught:
        sdk.api_post(NODES, data=spec("OktaUsr"))
    error = caught.value
    assert error.status_code == 400 and error.error == "InvalidArgument"
    assert "OktaUsr" in error.message and error.request_id and error.details


def test_the_sdk_is_refused_with_a_wrong_key(tls_sandbox: EmbeddedSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_sandbox.ca_file))
    with pytest.raises(OAAResponseError) as caught:
        OAAClient(url=tls_sandbox.url, api_key="not-the-key")
    assert caught.value.status_code == 401 and caught.value.error == "Unauthenticated"


def test_tls_needs_the_generated_ca(tls_sandbox: EmbeddedSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.setenv("OAA_API_RETRIES", "0")
    with pytest.raises(OAAConnectionError):
        OAAClient(url=tls_sandbox.url, api_key=KEY)
    with pytest.raises(httpx.ConnectError):
        httpx.get(tls_sandbox.url + TEMPLATES, verify=ssl.create_default_context())
    assert tls_sandbox.ca_file is not None
    trusted = ssl.create_default_context(cafile=str(tls_sandbox.ca_file))
    for host in ("127.0.0.1", "localhost"):
        url = tls_sandbox.url.replace("127.0.0.1", host) + TEMPLATES
        assert httpx.get(url, verify=trusted, headers={"authorization": f"Bearer {KEY}"}).status_code == 200
