"""OAA apps end to end: a project that declares an app in vqr.yaml lints clean, and `vqr run` against the embedded
sandbox (real HTTP on 127.0.0.1) gets that app's rows; legacy Custom* queries get the same rows as their modern form;
`vqr sandbox serve --oaa-types` answers well-formed types with rows or zero rows, and garbage with 400."""

from __future__ import annotations

import json
from pathlib import Path

from runner.sandbox.server import EmbeddedSandbox
from tests.acceptance.run_project import PROJECT_FILE, by_name, compile_units, query_yaml, run_options, run_vqr
from tests.acceptance.sandbox_fixtures import NODES, RESULT, client_for, running_sandbox, spec

DECLARES = "node_types: [OAA.Acme.User, OAA.Acme.document.Resource]\n"
LEGACY = ("  source_node_types:\n    nodes:\n      - node_type: CustomUser\n"
          "        condition_expression: {specs: [{property: application_type, fn: EQ, value: Acme}]}\n")
WRITERS = ("  relates_to_exp:\n    specs:\n      - node_types: {nodes: [{node_type: OAA.Acme.document.Resource}]}\n"
           "        effective_permissions: {values: [DATA_WRITE]}\n")


def _project(root: Path) -> Path:
    queries = {
        "acme-users": query_yaml("acme-users", "OAA.Acme.User"),
        "acme-documents": query_yaml("acme-documents", "OAA.Acme.document.Resource"),
        "acme-writers": query_yaml("acme-writers", "OktaUser", extra=WRITERS),
        "acme-users-legacy": query_yaml("acme-users-legacy", "OktaUser").replace(
            "  source_node_types: {nodes: [{node_type: OktaUser}]}\n", LEGACY),
        "acme-spreadsheets": query_yaml("acme-spreadsheets", "OAA.Acme.spreadsheet.Resource"),
    }
    (root / "queries").mkdir(parents=True)
    (root / "vqr.yaml").write_text(PROJECT_FILE + DECLARES)
    for name, text in queries.items():
        (root / "queries" / f"{name}.yaml").write_text(text)
    return root / "vqr.yaml"


def _ids(run_dir: Path, name: str) -> list[str]:
    return [json.loads(line)["id"] for line in (run_dir / "results" / f"{name}.jsonl").read_text().splitlines()]


def test_a_project_declaring_an_oaa_app_runs_and_gets_its_rows(tmp_path: Path) -> None:
    project_file = _project(tmp_path)
    project, _ = compile_units(project_file)  # no lint errors (the legacy query only warns)
    assert "OAA.Acme.User" in project.node_types
    ran = run_vqr(project_file, run_options())  # the test's sandbox config names no apps: the project's are used
    assert ran.code == 0, ran.err
    assert ran.run is not None and ran.run_dir is not None
    queries = by_name(ran.run)
    users = _ids(ran.run_dir, "acme-users")
    assert users and all(i.startswith("oaa:acme:user:") for i in users)
    assert queries["acme-users"]["rows"] == len(users)
    assert all(i.startswith("oaa:acme:document:resource:") for i in _ids(ran.run_dir, "acme-documents"))
    assert _ids(ran.run_dir, "acme-documents")
    writers = _ids(ran.run_dir, "acme-writers")
    assert writers and all(i.startswith("00u") for i in writers)  # Okta users, through their Acme accounts
    assert sorted(_ids(ran.run_dir, "acme-users-legacy")) == sorted(users)
    assert queries["acme-spreadsheets"]["rows"] == 0  # well-formed, declared app, no entities: zero rows


def _count(sandbox: EmbeddedSandbox, node_type: object) -> tuple[int, dict[str, object]]:
    with client_for(sandbox) as client:
        reply = client.post(RESULT, json=spec(node_type))  # type: ignore[arg-type]
        return reply.status_code, reply.json()


def test_sandbox_serve_generates_the_apps_it_is_told_and_refuses_garbage() -> None:
    with running_sandbox(oaa_types="OAA.Bitbucket.User,OAA.Bitbucket.Repo.Resource,OAA.Bitbucket.Repo.SubResource",
                         nodes=600) as sandbox:
        for node_type in ("OAA.Bitbucket.User", "OAA.Bitbucket.Repo.SubResource", "OAA.Bitbucket.Application"):
            status, body = _count(sandbox, node_type)
            assert status == 200 and int(str(body["number_value"])) > 0, (node_type, body)
        for node_type in ("OAA.Nowhere.User", "OAA.Nowhere.Role", "OAA.Bitbucket.wiki.Resource"):
            status, body = _count(sandbox, node_type)
            assert status == 200 and int(str(body["number_value"])) == 0, (node_type, body)
        for node_type in ("OAA.Bitbucket.Repo", "Bitbucket User"):
            status, body = _count(sandbox, node_type)
            assert status == 400 and body["message"] == f"{node_type} is not a valid NodeType"
        with client_for(sandbox) as client:
            rows = client.post(NODES, json=spec("OAA.Bitbucket.Repo.Resource"), params={"page_size": 3}).json()
        assert [r["type"] for r in rows["values"]] == ["OAA.Bitbucket.Repo.Resource"] * 3
        assert all(r["properties"]["resource_type"] == "Repo" for r in rows["values"])
