"""`python -m runner run` against a hostile server (tests/support/hostile_server.py): one query's reply nests
100,000 deep, one holds NaN, one never ends; each fails alone, the honest query's results and run.json are written,
and the exit code is 1, not an internal error (issue 10, points 5, 6, 15)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from runner.client import endpoints
from tests.acceptance.run_project import REPO, check_run_json, make_project, query_yaml
from tests.support import forked_cli
from tests.support.hostile_server import Endless, HostileServer, Raw, deep_nesting, hostile_server, proxy_page

__all__ = ["hostile_server"]


def vqr_run(project: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VEZA_", "VQR_"))}
    env.update(PYTHONPATH=str(REPO), VEZA_URL=url, VEZA_API_KEY="test-key", VQR_ENV="remote")
    return forked_cli.run(["run", "--quiet", *args], cwd=project, env=env, text=True, timeout=60)


def test_hostile_replies_fail_their_own_query_and_the_run_is_still_published(hostile_server: HostileServer,
                                                                             tmp_path: Path) -> None:
    make_project(tmp_path, {"honest": query_yaml("honest", "OktaUser"), "deep": query_yaml("deep", "OktaGroup"),
                            "nan": query_yaml("nan", "S3Bucket"), "endless": query_yaml("endless", "AwsIamRole")})
    hostile_server.on_poll("OktaGroup", deep_nesting(100_000))
    hostile_server.on_poll("S3Bucket", Raw(b'{"status":"DONE","values":[{"id":"a","score":NaN}],"has_more":false}'))
    hostile_server.on_poll("AwsIamRole", Endless(chunk=b'{"id":"x"},' * 8192, head=b'{"status":"DONE","values":['))
    done = vqr_run(tmp_path, hostile_server.url)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    run = check_run_json(json.loads((tmp_path / "reports" / "latest" / "run.json").read_text()))
    queries = {q["name"]: q for q in run["queries"]}
    assert queries["honest"]["status"] == "succeeded" and queries["honest"]["rows"] == 2
    honest = (tmp_path / "reports" / "latest" / queries["honest"]["results_file"]).read_text().splitlines()
    assert [json.loads(line)["id"] for line in honest] == ["qr-OktaUser-1", "qr-OktaUser-2"]
    failed = {name: queries[name]["error"] for name in ("deep", "nan", "endless")}
    assert all(error["category"] == "response" for error in failed.values()), failed
    assert "nests deeper than 256 levels" in failed["deep"]["message"]
    assert "holds NaN" in failed["nan"]["message"]
    assert "larger than 64 MiB" in failed["endless"]["message"]
    for path in (tmp_path / "reports" / "latest").rglob("*.jsonl"):
        assert "NaN" not in path.read_text()  # every result file stays JSON Lines


def test_an_unreachable_api_is_one_line_and_exit_3(tmp_path: Path) -> None:
    make_project(tmp_path, {"honest": query_yaml("honest")})
    with HostileServer() as server:
        url = server.url  # closed on leaving: nothing listens on that port any more
    done = vqr_run(tmp_path, url)
    assert done.returncode == 3
    assert done.stderr.strip().splitlines()[-1].endswith(f"cannot connect to {url}: connection refused (nothing "
                                                         "listens there: check the environment's url or VEZA_URL)")
    assert "Traceback" not in done.stderr


def test_the_reply_cap_is_set_in_vqr_yaml(hostile_server: HostileServer, tmp_path: Path) -> None:
    project = make_project(tmp_path, {"honest": query_yaml("honest", "OktaUser"),
                                      "big": query_yaml("big", "OktaGroup")})
    project.write_text(project.read_text().replace("  timeout: 60s\n", "  timeout: 60s\n  max_reply_mib: 1\n"))
    rows = b",".join(b'{"id":"r%d","name":"%s"}' % (i, b"x" * 200) for i in range(8000))  # ~1.7 MiB
    hostile_server.on_poll("OktaGroup", Raw(b'{"status":"DONE","values":[' + rows + b'],"has_more":false}'))
    done = vqr_run(tmp_path, hostile_server.url)
    assert done.returncode == 1, done.stderr
    queries = {q["name"]: q for q in json.loads((tmp_path / "reports" / "latest" / "run.json").read_text())["queries"]}
    assert queries["honest"]["status"] == "succeeded"
    assert "larger than 1 MiB" in queries["big"]["error"]["message"]


def test_a_proxys_html_pages_are_retried_and_a_final_one_is_one_line_naming_the_status(
        hostile_server: HostileServer, tmp_path: Path) -> None:
    """A 502 page from the edge in front of the tenant, twice, then an answer: the query succeeds. A 504 page on every
    poll: the query fails on its own, its message names HTTP 504 in one line, and no HTML reaches the terminal, the
    run.json or the reports (issue 11, point 6)."""
    project = make_project(tmp_path, {"honest": query_yaml("honest", "OktaUser"),
                                      "flaky": query_yaml("flaky", "OktaGroup"),
                                      "gateway": query_yaml("gateway", "S3Bucket")})
    project.write_text(project.read_text().replace("  timeout: 60s\n", "  timeout: 3s\n"))
    hostile_server.on(endpoints.NODES_ASYNC_CREATE, proxy_page(502), when=b"OktaGroup", times=2)
    hostile_server.on_poll("S3Bucket", proxy_page(504, "504 Gateway Time-out"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VEZA_", "VQR_"))}
    env.update(PYTHONPATH=str(REPO), VEZA_URL=hostile_server.url, VEZA_API_KEY="test-key", VQR_ENV="remote")
    done = forked_cli.run(["run"], cwd=tmp_path, env=env,
                          text=True, timeout=60)  # not --quiet: the progress lines and the summary are shown
    assert done.returncode == 1, done.stderr
    run = check_run_json(json.loads((tmp_path / "reports" / "latest" / "run.json").read_text()))
    queries = {q["name"]: q for q in run["queries"]}
    assert queries["honest"]["status"] == queries["flaky"]["status"] == "succeeded"
    assert queries["flaky"]["rows"] == 2
    assert len([seen for seen in hostile_server.requests
                if seen.path == endpoints.NODES_ASYNC_CREATE and b"OktaGroup" in seen.body]) == 3  # 502, 502, answer
    error = queries["gateway"]["error"]
    assert error["category"] in ("deadline", "transient"), error
    assert ('poll: HTTP 504: Gateway Timeout (the body is an HTML page titled "504 Gateway Time-out", not Veza\'s '
            "JSON: a proxy or gateway answered)") in error["message"]
    assert error["message"].count("HTTP 504") == 1
    shown = [line for line in (done.stdout + done.stderr).splitlines() if "gateway" in line]
    assert len(shown) == 2 and all(error["message"] in line for line in shown), shown  # progress line, summary
    for text in (done.stdout, done.stderr, *(p.read_text() for p in (tmp_path / "reports" / "latest").rglob("*.*"))):
        assert "<center>" not in text and "nginx" not in text and "alert(1)" not in text and "Traceback" not in text
