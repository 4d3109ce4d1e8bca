"""Each report format rendered from the fixed run artifact (tests/golden/run-fixture): Markdown and CSV against
golden files, JUnit parsed and counted, HTML parsed for its sections; escaping of data everywhere; byte-identical
regeneration. Set VQR_UPDATE_GOLDEN=1 to rewrite the golden files after an intended change."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest

from runner.report import render_report, write_reports, write_step_summary
from runner.report.csv_export import write_csv
from runner.report.history import load_history
from runner.report.load import load_run
from runner.report.markdown import render_markdown
from runner.resources import bundled_schemas_dir
from tests.support.report_fixture import FIXTURE, GOLDEN, KEY, RUN_ID, UPDATE, add_run, build_journal, copy_fixture

QUERIES = ("okta-users-with-s3-write", "admin-roles", "stale-access-keys", "s3-write-paths", "inactive-admins",
           "snowflake-roles")


def check_golden(name: str, text: str) -> None:
    golden = GOLDEN / name
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(text.encode())
    assert text == golden.read_bytes().decode(), f"{name} differs from its golden file (VQR_UPDATE_GOLDEN=1 rewrites)"


def test_the_fixture_is_a_valid_run_artifact_with_matching_result_hashes() -> None:
    schema = json.loads((bundled_schemas_dir() / "run.schema.json").read_text())
    data = json.loads((FIXTURE / "run.json").read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(data)
    run = load_run(FIXTURE)
    assert [q.name for q in run.queries] == list(QUERIES)
    for query in run.queries:
        if query.results_file:
            assert hashlib.sha256((FIXTURE / query.results_file).read_bytes()).hexdigest() == query.sha256


def test_markdown_matches_its_golden_file() -> None:
    check_golden("report.md", render_report(FIXTURE, "md"))


def test_markdown_puts_failures_first_and_escapes_data() -> None:
    text = render_report(FIXTURE, "md")
    summary, _, table = text.partition("\n### Queries\n")
    # by severity: queries that did not succeed, then failed expectations (errors, then warnings)
    assert summary.index("### Queries that did not succeed") < summary.index("### Failed expectations") \
        < summary.index("### By owner") < summary.index("**Cache:** 2 of 6") < summary.index("### Drift") \
        < summary.index("### Slowest queries")
    assert "exit code 1" in text.splitlines()[0]
    assert "<b>" not in text and "<html>" not in text and "&lt;b&gt;appeared" in text
    assert r"\*admin\*" in text
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line][1:7]
    assert [r.split(" | ")[0].removeprefix("| ").replace("\\", "") for r in rows] == [
        "stale-access-keys", "snowflake-roles", "admin-roles", "okta-users-with-s3-write", "inactive-admins",
        "s3-write-paths"]
    assert all(row.count(" | ") == 7 for row in rows), "a data value broke the table"


def test_markdown_shrinks_to_a_size_limit_and_says_so() -> None:
    run = load_run(FIXTURE)
    full = render_markdown(run)
    short = render_markdown(run, limit=len(full.encode()) - 10)
    assert len(short.encode()) <= len(full.encode()) - 10 and "<details>" not in short
    tiny = render_markdown(run, limit=600)
    assert len(tiny.encode()) <= 600 and "truncated" in tiny


def test_step_summary_is_appended_only_when_github_sets_it(tmp_path: Path) -> None:
    assert write_step_summary(FIXTURE, None) is None
    target = tmp_path / "summary.md"
    target.write_text("# earlier step\n")
    assert write_step_summary(FIXTURE, target) == target
    text = target.read_text()
    assert text.startswith("# earlier step\n") and RUN_ID.replace("-", "\\-") not in text and "a1b2" in text
    assert len(text.encode()) < 1024 * 1024


def test_csv_files_match_golden_and_sit_beside_the_jsonl(tmp_path: Path) -> None:
    run_dir = copy_fixture(tmp_path)
    written = write_reports(run_dir)
    csvs = sorted(p for p in written if p.suffix == ".csv")
    assert [p.name for p in csvs] == ["admin-roles.csv", "inactive-admins.csv", "okta-users-with-s3-write.csv",
                                      "s3-write-paths.csv"]
    for path in csvs:
        assert path.parent == run_dir / "results" and path.with_suffix(".jsonl").is_file()
        check_golden(f"csv/{path.name}", path.read_text(encoding="utf-8"))


def test_csv_columns_are_stable_flattened_and_formula_safe(tmp_path: Path) -> None:
    rows = list(csv.reader(io.StringIO((GOLDEN / "csv" / "okta-users-with-s3-write.csv").read_text())))
    header = rows[0]
    assert header[:5] == ["id", "type", "properties.name", "risk_level", "destination_node_count"]
    assert header[5:] == sorted(header[5:]) and "properties.email" in header and "tags" in header
    names = [row[header.index("properties.name")] for row in rows[1:]]
    assert "'=HYPERLINK(\"http://x\")" in names and "Eve <script>alert(1)</script>" in names
    paths = list(csv.reader(io.StringIO((GOLDEN / "csv" / "s3-write-paths.csv").read_text())))
    assert paths[0][:6] == ["source.id", "source.type", "source.properties.name", "destination.id",
                            "destination.type", "destination.properties.name"]
    reordered = tmp_path / "r.jsonl"
    lines = (FIXTURE / "results" / "okta-users-with-s3-write.jsonl").read_text().splitlines()
    reordered.write_text("\n".join(reversed(lines)) + "\n")
    assert write_csv(reordered, tmp_path / "r.csv") == 4
    assert next(csv.reader(io.StringIO((tmp_path / "r.csv").read_text()))) == header
    assert not list(tmp_path.glob(".*.tmp"))


def test_junit_has_unique_names_and_counts_by_the_exit_code_contract() -> None:
    root = ET.fromstring(render_report(FIXTURE, "junit"))
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    names = [c.get("name") for c in cases]
    assert len(names) == len(set(names)) == 11  # 6 queries + 5 expectations
    failed = {c.get("name"): c.find("failure") for c in cases if c.find("failure") is not None}
    assert set(failed) == {"admin-roles / expect 1: rows", "stale-access-keys"}
    assert "503 Service Unavailable <html>" in (failed["stale-access-keys"].get("message") or "")  # type: ignore[union-attr]
    assert "req-7f3a" in (failed["stale-access-keys"].text or "")  # type: ignore[union-attr]
    skipped = [c.get("name") for c in cases if c.find("skipped") is not None]
    assert skipped == ["s3-write-paths / expect 1: removed_rows", "snowflake-roles"]
    for element in (root, suite):
        assert (element.get("tests"), element.get("failures"), element.get("errors")) == ("11", "2", "0")
    assert suite.get("skipped") == "2" and root.get("skipped") is None  # junit-10.xsd: not on <testsuites>
    warned = next(c for c in cases if c.get("name") == "okta-users-with-s3-write / expect 2: new_rows")
    assert warned.find("failure") is None and "warning:" in (warned.findtext("system-out") or "")


class Page(HTMLParser):
    """Collects what the HTML tests look at: ids, tags, attributes, text, details blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []
        self.text: list[str] = []
        self.classes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for key, value in attrs:
            self.attrs.append((tag, key, value or ""))
            if key == "id":
                self.ids.append(value or "")
            if key == "class":
                self.classes += (value or "").split()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


@pytest.fixture(scope="module")
def html_with_history(tmp_path_factory: pytest.TempPathFactory) -> str:
    journal = build_journal(tmp_path_factory.mktemp("journal") / "state.sqlite")
    history = load_history(journal, QUERIES, key=KEY, until_run=RUN_ID)
    return render_report(FIXTURE, "html", history=history)


def test_html_has_every_section_and_each_query_with_its_spec_folded(html_with_history: str) -> None:
    page = parse(html_with_history)
    assert {"summary", "attention", "rows", "drift", "queries"} <= set(page.ids)
    articles = [i for i in page.ids if re.match(r"q\d+-", i)]
    assert len(articles) == len(QUERIES) == len(set(articles))
    # each query's body (folded unless it needs attention), the spec of every query but the one whose artifact has
    # none, and the drift entities of the one query that moved
    assert page.tags.count("details") == 6 + 5 + 1
    assert page.classes.count("card") == 8 and "bar-chart" in page.classes
    assert page.classes.count("trend-chart") == 2  # the two queries with history
    assert page.classes.count("failed-error") == 1 and page.classes.count("failed-warn") == 1
    text = "".join(page.text)
    assert "00u4mal" in text and "Carol <i>Gone</i>" in text and "properties.status" in text


def test_html_drift_lists_the_moved_queries_in_its_table_and_the_unmoved_ones_in_one_line(
        html_with_history: str) -> None:
    section = html_with_history[html_with_history.index('<section id="drift">'):]
    section = section[:section.index("</section>")]
    table, _, line = section.partition("</table>")
    assert table.count("<tr>") == 2  # the heading and okta-users-with-s3-write, which moved
    assert "okta-users-with-s3-write" in table and "admin-roles" not in table
    assert "No entity added, removed or changed in 1 of 2 compared queries" in line and "admin-roles" in line


def test_html_is_self_contained_and_escapes_every_value(html_with_history: str) -> None:
    page = parse(html_with_history)
    assert "script" not in page.tags and "img" not in page.tags and "b" not in page.tags and "i" not in page.tags
    for tag, key, value in page.attrs:
        if key in {"src", "href", "action", "srcset"}:
            assert not re.match(r"^\s*(https?:|//|javascript:|data:)", value, re.I), (tag, key, value)
    assert "Content-Security-Policy" in html_with_history and "default-src 'none'" in html_with_history
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_with_history


def test_trend_marks_failures_spec_changes_and_the_current_run(html_with_history: str) -> None:
    page = parse(html_with_history)
    # each mark once in its chart and once in that chart's legend
    assert page.classes.count("trend-fail") == 2 and page.classes.count("key-fail") == 1  # day 10 failed
    assert page.classes.count("spec-change") == 2 and page.classes.count("key-spec-change") == 1  # day 20
    assert page.classes.count("current") == 2
    assert "rows over the last 29 runs of okta-users-with-s3-write" in html_with_history


def test_reports_regenerate_byte_identically(tmp_path: Path) -> None:
    journal = build_journal(tmp_path / "state.sqlite")
    run_dir = copy_fixture(tmp_path / "reports")
    history = load_history(journal, QUERIES, key=KEY, until_run=RUN_ID)
    first = {p: p.read_bytes() for p in write_reports(run_dir, history)}
    add_run(journal, "20250302T020000Z-beef", rows=1000)  # a later run must not change this run's trend
    later = load_history(journal, QUERIES, key=KEY, until_run=RUN_ID)
    again = {p: p.read_bytes() for p in write_reports(run_dir, later)}
    assert first == again and len(first) == 10  # 3 reports, 4 CSVs, 3 owners' parts
    assert (run_dir / "report.html").read_text() == render_report(run_dir, "html", history=history)


def test_csv_of_a_large_result_streams_twice_and_matches_the_kept_path(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Above KEPT_ROWS the rows are flattened again in a second pass instead of being held: same bytes either way."""
    from runner.report import csv_export

    rows = [{"id": f"n{i}", "type": "OktaUser", "properties": {"status": "ACTIVE", "n": i}, "tags": []}
            for i in range(30)]
    jsonl = tmp_path / "q.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows))
    csv_export.write_csv(jsonl, tmp_path / "kept.csv")
    monkeypatch.setattr(csv_export, "KEPT_ROWS", 5)
    csv_export.write_csv(jsonl, tmp_path / "streamed.csv")
    assert (tmp_path / "kept.csv").read_bytes() == (tmp_path / "streamed.csv").read_bytes()
    assert (tmp_path / "kept.csv").read_text().count("\n") == 31


def test_csv_width_is_capped_and_no_value_is_lost(tmp_path: Path) -> None:
    """A reply whose 3,000 rows each bring a new key once asked for 3,000 x 3,000 cells (issue 10): the CSV keeps
    MAX_COLUMNS columns, the most frequent fields named, and each row's other fields as JSON in the last one."""
    from runner.report import csv_export
    rows = [{"id": f"r{i}", "type": "T", f"k{i:04d}": i} for i in range(3_000)]
    source = tmp_path / "wide.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    target = tmp_path / "wide.csv"
    assert csv_export.write_csv(source, target) == 3_000
    with target.open(newline="") as handle:
        table = list(csv.reader(handle))
    header = table[0]
    assert len(header) == csv_export.MAX_COLUMNS and header[:2] == ["id", "type"] and header[-1] == csv_export.MORE
    assert target.stat().st_size < 6_000_000  # rows + keys, not rows x keys (unbounded: ~9 MB of commas)
    for i, line in enumerate(table[1:]):
        named = {header[c]: v for c, v in enumerate(line[:-1]) if v and header[c].startswith("k")}
        spilled = json.loads(line[-1]) if line[-1] else {}
        assert {**named, **{k: str(v) for k, v in spilled.items()}} == {f"k{i:04d}": str(i)}
