"""The report fixes of issue 14, each on the fixed run artifacts (tests/golden/run-fixture, and example-run: the
example repository's 15 nightly queries, two sandbox runs around an advance): what needs attention is ordered by
severity, a request id is shown once, zero has no sign, a cache miss is fresh, drift entities are capped and folded,
the trend's dashed line has a legend, junit.xml is valid against Jenkins xunit's junit-10.xsd."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from runner.report import render_report
from runner.report.charts import trend_chart
from runner.report.history import load_history
from runner.report.html_query import SAMPLE_SHOWN, name
from runner.state import HistoryPoint
from tests.support.report_fixture import EXAMPLE, FIXTURE, KEY, RUN_ID, build_journal

JUNIT_XSD = Path(__file__).resolve().parents[2] / "schemas" / "junit-10.xsd"


@pytest.fixture(scope="module")
def junit_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(JUNIT_XSD))


def attention_items(html: str) -> list[str]:
    section = html[html.index('<section id="attention">'):]
    section = section[:section.index("</section>")]
    return [re.sub(r"<[^>]+>", "", item) for item in re.findall(r"<li[^>]*>(.*?)</li>", section)]


def test_needs_attention_puts_failed_queries_first_then_errors_then_warnings() -> None:
    items = attention_items(render_report(FIXTURE, "html"))
    kinds = ["query" if " failed" in i.split(":")[0] or " not run" in i.split(":")[0] else
             ("error" if "(error)" in i else "warn") for i in items]
    assert kinds == ["query", "query", "error", "warn"], items
    assert items[0].startswith("stale-access-keys failed") and items[1].startswith("snowflake-roles not run")
    markdown = render_report(FIXTURE, "md")
    assert markdown.index("### Queries that did not succeed") < markdown.index("### Failed expectations")
    failed = markdown[markdown.index("### Failed expectations"):].split("\n\n")[1].splitlines()
    assert [line[:3] for line in failed] == ["- ❌", "- ⚠"]


def with_message(tmp_path: Path, message: str) -> Path:
    """The fixture with the failed query's message as the API client writes it (the request id appended)."""
    run_dir = tmp_path / "run"
    shutil.copytree(FIXTURE, run_dir)
    data = json.loads((run_dir / "run.json").read_text())
    failed = next(q for q in data["queries"] if q["name"] == "stale-access-keys")
    failed["error"]["message"] = message
    (run_dir / "run.json").write_text(json.dumps(data))
    return run_dir


@pytest.mark.parametrize("message", ["the API kept failing: 503 Service Unavailable",
                                     "the API kept failing: 503 Service Unavailable (request_id req-7f3a <x>)"])
def test_a_failed_querys_request_id_appears_once_in_every_report(tmp_path: Path, message: str) -> None:
    run_dir = with_message(tmp_path, message)
    html, markdown, junit = (render_report(run_dir, fmt) for fmt in ("html", "md", "junit"))
    assert html.replace("<wbr>", "").count("req-7f3a &lt;x&gt;") == 1
    assert markdown.count("req-7f3a &lt;x&gt;") == 1
    case = next(c for c in ET.fromstring(junit).iter("testcase") if c.get("name") == "stale-access-keys")
    failure = case.find("failure")
    assert failure is not None
    assert ((failure.text or "") + (failure.get("message") or "")).count("req-7f3a <x>") == 1
    assert "503 Service Unavailable" in (failure.get("message") or "")


def test_zero_has_no_sign_anywhere() -> None:
    for run_dir in (FIXTURE, EXAMPLE):
        html, markdown = render_report(run_dir, "html"), render_report(run_dir, "md")
        assert not re.search(r"[−+~]0(?![\d,.])", html), re.findall(r".{40}[−+~]0(?![\d,.]).{10}", html)[:3]
        assert not re.search(r"[−+~]0(?![\d,.])", markdown)
    assert "+227 −146" in render_report(EXAMPLE, "html")  # non-zero figures keep their sign


def test_a_cache_miss_is_fresh_not_seconds_old() -> None:
    html, markdown = render_report(FIXTURE, "html"), render_report(FIXTURE, "md")
    article = html[html.index('id="q0-okta-users-with-s3-write"'):]
    assert "<dt>result age</dt><dd>fresh</dd>" in article[:article.index("</article>")]
    table = markdown[markdown.index("### Queries\n"):].splitlines()
    row = next(line for line in table if line.startswith("| okta-users-with-s3-write |"))
    assert row.split(" | ")[4] == "fresh" and " 5 s " not in row
    cached = next(line for line in table if line.startswith("| admin-roles |"))
    assert cached.split(" | ")[4] == "3.0 h"  # a hit keeps its real age


def test_drift_entities_are_capped_and_folded() -> None:
    html = render_report(EXAMPLE, "html")
    for article in re.findall(r'<article class="query[^"]*" id="[^"]+">.*?</article>', html):
        for details in re.findall(r'<details class="drift-details">(.*?)</details>', article):
            for kind in re.findall(r"<ul>(.*?)</ul>", details):
                assert kind.count("<li><code>") <= SAMPLE_SHOWN
    # every entity list sits inside a folded <details>, never open on the page
    assert html.count('<div class="drift-lists">') == html.count('<details class="drift-details"><summary>')
    assert '<details class="drift-details" open' not in html
    okta = html[html.index('id="q3-aws-okta-paths-to-restricted-buckets"'):]
    assert "…and 162 more" in okta[:okta.index("</article>")]  # 172 added, 10 shown


def test_only_queries_that_need_attention_are_unfolded() -> None:
    html = render_report(EXAMPLE, "html")
    opened = re.findall(r'<article class="query has-warning" id="([^"]+)">.*?<details class="query-body" open>',
                        html)
    assert len(opened) == 5 and html.count('<details class="query-body" open>') == 5
    assert html.count('<details class="query-body">') == 10


def test_the_trend_charts_dashed_line_has_a_legend(tmp_path: Path) -> None:
    journal = build_journal(tmp_path / "state.sqlite")
    history = load_history(journal, ["okta-users-with-s3-write", "admin-roles"], key=KEY, until_run=RUN_ID)
    changed = trend_chart(history.of("okta-users-with-s3-write"), title="q", current_run=RUN_ID)
    assert 'class="spec-change"' in changed and 'class="key-spec-change"' in changed
    assert "spec changed: counts on either side are not comparable" in changed and 'class="key-fail"' in changed
    steady = trend_chart(history.of("admin-roles"), title="q", current_run=RUN_ID)
    assert 'class="spec-change"' not in steady and "legend" not in steady
    point = HistoryPoint(run_id=RUN_ID, state="done", rows=1, spec_hash="a", updated_at="2025-03-01T02:00:00Z")
    one = trend_chart([point], title="q", current_run=RUN_ID)
    assert "legend" not in one


def test_names_in_tables_wrap_only_after_separators() -> None:
    assert name("aws-iam_roles.x") == "aws-<wbr>iam_<wbr>roles.<wbr>x"
    assert name("<b>-x") == "&lt;b&gt;-<wbr>x"


@pytest.mark.parametrize("run_dir", [FIXTURE, EXAMPLE], ids=["fixture", "example"])
def test_junit_is_valid_against_jenkins_xunit_junit_10(run_dir: Path, junit_schema: xmlschema.XMLSchema) -> None:
    text = render_report(run_dir, "junit")
    errors = [f"{e.path}: {e.reason}" for e in junit_schema.iter_errors(text)]
    assert errors == []
    root = ET.fromstring(text)
    assert root.get("skipped") is None and all(c.get("file") is None for c in root.iter("testcase"))


def test_the_xsd_does_reject_what_junit_xml_used_to_carry(junit_schema: xmlschema.XMLSchema) -> None:
    text = render_report(FIXTURE, "junit")
    old = text.replace('<testsuites name="vqr" ', '<testsuites name="vqr" skipped="2" ', 1)
    assert any("skipped" in str(e.reason) for e in junit_schema.iter_errors(old))
    old = text.replace('<testcase classname="vqr.admin-roles" ', '<testcase file="q.yaml" classname="vqr.admin-roles" ')
    assert any("file" in str(e.reason) for e in junit_schema.iter_errors(old))


def test_junit_keeps_each_querys_file_in_its_output() -> None:
    root = ET.fromstring(render_report(FIXTURE, "junit"))
    case = next(c for c in root.iter("testcase") if c.get("name") == "stale-access-keys")
    assert (case.findtext("system-out") or "").startswith("file: queries/stale-access-keys.yaml")
    ok = next(c for c in root.iter("testcase") if c.get("name") == "admin-roles")
    assert (ok.findtext("system-out") or "").splitlines()[0] == "file: queries/admin-roles.yaml"
