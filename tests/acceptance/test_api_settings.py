"""`python -m runner run` against tenants that differ from today's assumptions (tests/support/hostile_server.py
`Tenant`), and against the real sandbox: with the default vqr.yaml each fails the way it would against such a Veza,
with one line of `api:` it works, and the wire shows the setting (issue 11, point 7)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from runner.app.run_command import SANDBOX_STATE
from runner.sandbox.store import reset_store
from tests.acceptance.run_project import by_name, check_run_json, make_project, query_yaml, run_vqr
from tests.acceptance.test_run_hostile_server import vqr_run
from tests.support.hostile_server import HostileServer, Tenant

PRIVATE_PATH = "/api/private/assessments/query_spec:nodes_async_get"


@dataclass(frozen=True)
class Case:
    tenant: Tenant
    fix: str  # the vqr.yaml lines that make the run work against `tenant`
    category: str  # how the query fails with the defaults
    because: str  # and what its error says


CASES = {
    "poll_path": Case(Tenant(poll_path=PRIVATE_PATH), f"api:\n  poll_path: {PRIVATE_PATH}\n", "not_found",
                      "poll: HTTP 404 NotFound: no route /api/v1/assessments/query_spec:nodes_async_get"),
    "poll_paging": Case(Tenant(paging="query", rows=5), "api: {poll_paging: query}\n", "response",
                        "sent page token '1' of qr-OktaUser again after its rows were read"),
    "success_statuses": Case(Tenant(done_word="SUCCEEDED"), "api: {success_statuses: [DONE, SUCCEEDED]}\n",
                             "deadline", "the job was still not finished after"),
}


def project(tmp_path: Path, api: str = "") -> Path:
    file = make_project(tmp_path, {"users": query_yaml("users", "OktaUser")})
    file.write_text(file.read_text().replace("  timeout: 60s\n", "  timeout: 3s\n") + api)
    return file


def latest_run(root: Path) -> dict[str, object]:
    return check_run_json(json.loads((root / "reports" / "latest" / "run.json").read_text()))


@pytest.mark.parametrize("name", list(CASES))
def test_a_tenant_that_differs_fails_with_the_defaults_and_works_with_one_line(tmp_path: Path, name: str) -> None:
    case = CASES[name]
    with HostileServer(case.tenant) as server:
        project(tmp_path)
        failed = vqr_run(tmp_path, server.url)
        assert failed.returncode == 1, failed.stderr
        error = by_name(latest_run(tmp_path))["users"]["error"]
        assert error["category"] == case.category and case.because in error["message"], error
        assert "Traceback" not in failed.stderr

        project(tmp_path, case.fix)
        fixed = vqr_run(tmp_path, server.url)
        assert fixed.returncode == 0, fixed.stdout + fixed.stderr
        users = by_name(latest_run(tmp_path))["users"]
        assert users["status"] == "succeeded" and users["rows"] == case.tenant.rows
        results = (tmp_path / "reports" / "latest" / users["results_file"]).read_text().splitlines()
        assert [json.loads(line)["id"] for line in results] == [f"qr-OktaUser-{i}"
                                                               for i in range(1, case.tenant.rows + 1)]


def test_query_paging_goes_on_the_wire_as_query_parameters(tmp_path: Path) -> None:
    with HostileServer(Tenant(paging="query", rows=3)) as server:
        project(tmp_path, "api: {poll_paging: query}\n")
        done = vqr_run(tmp_path, server.url)
        assert done.returncode == 0, done.stderr
        polls = server.polls()
        assert polls and all(seen.query == {"page_size": ["1000"], "page_token": [""]} for seen in polls)
        assert all(json.loads(seen.body) == {"query_result_id": "qr-OktaUser"} for seen in polls)


def test_a_configured_failure_word_fails_the_query_at_once(tmp_path: Path) -> None:
    with HostileServer(Tenant(done_word="KAPUT")) as server:
        project(tmp_path, "api:\n  failure_statuses: [FAILED, KAPUT]\n")
        done = vqr_run(tmp_path, server.url)
        assert done.returncode == 1
        error = by_name(latest_run(tmp_path))["users"]["error"]
        assert error["category"] == "job_failed" and error["message"].startswith("poll: the job ended KAPUT")
        assert len(server.polls()) == 1  # not polled until the deadline


def test_the_poll_path_setting_reaches_the_real_sandbox(tmp_path: Path) -> None:
    """The embedded sandbox serves the default path: the default works, another path is a 404 from the sandbox."""
    file = project(tmp_path)
    assert run_vqr(file).code == 0
    file.write_text(file.read_text() + "api:\n  poll_path: /api/v1/assessments/query_spec:nodes_async_elsewhere\n")
    # The embedded sandbox remembers the first run's result, which vqr would reuse without polling: forget it.
    reset_store(file.parent / SANDBOX_STATE)
    ran = run_vqr(file)
    assert ran.code == 1 and ran.run is not None
    error = by_name(ran.run)["users"]["error"]
    assert error["category"] == "not_found" and error["message"].startswith("poll: HTTP 404"), error


def test_a_mistake_in_the_api_section_is_a_finding_and_exit_2(tmp_path: Path) -> None:
    with HostileServer() as server:
        project(tmp_path, "api:\n  poll_paging: header\n")
        done = vqr_run(tmp_path, server.url)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    line = (tmp_path / "vqr.yaml").read_text().splitlines().index("  poll_paging: header") + 1
    assert f"vqr.yaml:{line}:16: error: 'header' is not one of body, query [project/enum]" in done.stderr
    assert server.requests == []  # refused before anything was sent
