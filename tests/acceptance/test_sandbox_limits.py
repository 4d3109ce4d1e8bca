"""The sandbox as a rate-limited tenant, over HTTP: a per-key GCRA answering 429 with Retry-After in Veza's error
body, counted in /_sandbox/stats, and job slots that keep work beyond a key's capacity queued."""

from __future__ import annotations

import time

from tests.acceptance.sandbox_fixtures import CREATE, GET, TEMPLATES, client_for, running_sandbox, spec, wait_done


def _immediate(node_type: str = "OktaUser") -> dict[str, object]:
    return {"immediate_run": {"request": {"body": spec(node_type)}}}


def test_a_key_over_its_rate_gets_429_with_retry_after_and_vezas_error_body() -> None:
    with running_sandbox(rate_limit="2/s", burst=3) as sandbox, client_for(sandbox) as client, \
            client_for(sandbox, key="another-tenant-key") as other:
        codes = [client.post(CREATE, json=_immediate()).status_code for _ in range(5)]
        assert codes == [200, 200, 200, 429, 429]
        refused = client.post(CREATE, json=_immediate())
        assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
        body = refused.json()
        assert body["code"] == "ResourceExhausted" and "2/s per API key" in body["message"] and body["request_id"]
        assert body["details"][-1]["resolution"].startswith("Slow down")
        # Each key has its own bucket; the connection check and polls are not metered by default.
        assert other.post(CREATE, json=_immediate()).status_code == 200
        assert all(client.get(TEMPLATES).status_code == 200 for _ in range(5))
        assert client.post(GET, json={"query_result_id": "qr-none"}).status_code == 404
        stats = client.get("/_sandbox/stats").json()
        assert (stats["rate_limited"], stats["served_429"], stats["creates"]) == (3, 3, 4)
        time.sleep(0.55)  # one token back at 2/s
        assert client.post(CREATE, json=_immediate()).status_code == 200
        assert client.post(CREATE, json=_immediate()).status_code == 429
        client.post("/_sandbox/reset")  # the buckets are full again, and the counters zero
        assert [client.post(CREATE, json=_immediate()).status_code for _ in range(3)] == [200, 200, 200]
        assert client.get("/_sandbox/stats").json()["rate_limited"] == 0


def test_polls_are_metered_when_asked() -> None:
    with running_sandbox(rate_limit="1/s", burst=1, rate_limit_polls=True) as sandbox, client_for(sandbox) as client:
        assert client.post(GET, json={"query_result_id": "qr-none"}).status_code == 404
        assert client.post(GET, json={"query_result_id": "qr-none"}).status_code == 429


def test_jobs_beyond_the_job_slots_queue() -> None:
    with running_sandbox(job_slots=2, latency=0.3) as sandbox, client_for(sandbox) as client:
        started = time.monotonic()
        ids = [client.post(CREATE, json=_immediate(t)).json()["query_result_id"]
               for t in ("OktaUser", "OktaGroup", "AwsIamUser", "AwsIamRole")]
        first = wait_done(client, ids[0])
        first_done = time.monotonic() - started
        last = wait_done(client, ids[-1])
        last_done = time.monotonic() - started
        assert first["status"] == last["status"] == "DONE"
        # Two at a time: the last two wait one execution's length for a slot.
        assert first_done < 0.55 <= last_done
        stats = client.get("/_sandbox/stats").json()
        assert stats["queued_jobs"] == 2 and stats["queued_seconds"] >= 0.5
