"""Finding output formats (runner/findings): golden text/json/github, SARIF against the official schema, JUnit."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from runner.errors import UsageError
from runner.findings import (
    FORMATS,
    format_findings,
    render_github_step_summary,
    sort_findings,
    write_github_step_summary,
)
from runner.findings.github import escape_data, escape_property
from runner.model.values import Finding, Severity

SARIF_SCHEMA = json.loads((Path(__file__).parents[2] / "sarif-2.1.0.schema.json").read_text(encoding="utf-8"))
E, W = Severity.ERROR, Severity.WARNING


def f(path: str, line: int, column: int, rule: str, message: str, severity: Severity = E) -> Finding:
    return Finding(path=path, line=line, column=column, severity=severity, rule=rule, message=message)


FINDINGS = [
    f("queries/b.yaml", 3, 1, "cache/context-needs-cache-id", "cache mode 'context' needs a cache_id."),
    f("queries/a.yaml", 12, 7, "spec/unknown-node-type",
      "'OktaUsr' is not a known node type; did you mean 'OktaUser'?", W),
    f("queries/a.yaml", 2, 7, "query/unsafe-name", "query name 'A B' is not safe as a file name."),
]
TRICKY = f("queries/x, y:z.yaml", 5, 9, "template/error",
           "100% wrong,\r\nsee: <b>&\"quoted\"</b> | pipe\x1b[31m\x00 end")


def render(findings: list[Finding], fmt: str, files_checked: int = 4, **extra: Any) -> str:
    return format_findings(findings, fmt=fmt, root=Path("/repo"), files_checked=files_checked, tool_version="0.1.0",
                           **extra)


def test_sort_order_is_path_line_column_rule() -> None:
    ordered = sort_findings([*FINDINGS, f("queries/a.yaml", 2, 7, "query/aaa", "z")])
    assert [(x.path, x.line, x.rule) for x in ordered] == [
        ("queries/a.yaml", 2, "query/aaa"), ("queries/a.yaml", 2, "query/unsafe-name"),
        ("queries/a.yaml", 12, "spec/unknown-node-type"), ("queries/b.yaml", 3, "cache/context-needs-cache-id")]


def test_text_golden() -> None:
    assert render(FINDINGS, "text") == (
        "queries/a.yaml:2:7: error: query name 'A B' is not safe as a file name. [query/unsafe-name]\n"
        "queries/a.yaml:12:7: warning: 'OktaUsr' is not a known node type; did you mean 'OktaUser'? "
        "[spec/unknown-node-type]\n"
        "queries/b.yaml:3:1: error: cache mode 'context' needs a cache_id. [cache/context-needs-cache-id]\n"
        "2 errors, 1 warning in 4 files\n")


def test_text_summaries() -> None:
    assert render([], "text", files_checked=14) == "14 files clean\n"
    assert render([], "text", files_checked=1) == "1 file clean\n"
    assert render(FINDINGS[1:2], "text", files_checked=1).endswith("\n0 errors, 1 warning in 1 file\n")


def test_text_keeps_each_finding_on_one_line_and_defuses_control_characters() -> None:
    out = render([TRICKY], "text")
    first = out.splitlines()[0]
    assert first == ("queries/x, y:z.yaml:5:9: error: 100% wrong, see: <b>&\"quoted\"</b> | pipe\\x1b[31m\\x00 end "
                     "[template/error]")
    assert len(out.splitlines()) == 2


def test_json_golden() -> None:
    out = render(FINDINGS[:2], "json")
    assert json.loads(out) == {
        "version": 1,
        "tool": {"name": "vqr", "version": "0.1.0"},
        "findings": [
            {"path": "queries/a.yaml", "line": 12, "column": 7, "severity": "warning",
             "rule": "spec/unknown-node-type", "message": "'OktaUsr' is not a known node type; did you mean "
                                                           "'OktaUser'?", "environments": []},
            {"path": "queries/b.yaml", "line": 3, "column": 1, "severity": "error",
             "rule": "cache/context-needs-cache-id", "message": "cache mode 'context' needs a cache_id.",
             "environments": []},
        ],
        "summary": {"errors": 1, "warnings": 1, "files_checked": 4, "files_with_findings": 2},
    }
    assert out.startswith('{\n  "version": 1,\n') and out.endswith("}\n")
    assert json.loads(render([TRICKY], "json"))["findings"][0]["message"] == TRICKY.message


def test_github_golden() -> None:
    assert render(FINDINGS, "github") == (
        "::error file=queries/a.yaml,line=2,col=7,title=query/unsafe-name::query name 'A B' is not safe as a file "
        "name.\n"
        "::warning file=queries/a.yaml,line=12,col=7,title=spec/unknown-node-type::'OktaUsr' is not a known node "
        "type; did you mean 'OktaUser'?\n"
        "::error file=queries/b.yaml,line=3,col=1,title=cache/context-needs-cache-id::cache mode 'context' needs a "
        "cache_id.\n"
        "2 errors, 1 warning in 4 files\n")


def test_github_escaping() -> None:
    assert escape_data("100%\r\n:,") == "100%25%0D%0A:,"
    assert escape_property("a%b\nc:d,e") == "a%25b%0Ac%3Ad%2Ce"
    line = render([TRICKY], "github").splitlines()[0]
    assert line.startswith("::error file=queries/x%2C y%3Az.yaml,line=5,col=9,title=template/error::100%25 wrong,"
                           "%0D%0Asee: <b>")
    # A message can never start a second workflow command.
    injected = f("q.yaml", 1, 1, "r/x", "x\n::set-env name=A::b")
    assert render([injected], "github").count("\n::") == 0


def _sarif(findings: list[Finding]) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(render(findings, "sarif"))
    jsonschema.validators.validator_for(SARIF_SCHEMA)(SARIF_SCHEMA).validate(log)
    return log


def test_sarif_is_valid_and_complete() -> None:
    log = _sarif([*FINDINGS, TRICKY])
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("vqr", "0.1.0")
    rule_ids = [rule["id"] for rule in driver["rules"]]
    assert rule_ids == sorted({x.rule for x in [*FINDINGS, TRICKY]})
    assert all(rule["shortDescription"]["text"] and rule["help"]["text"] for rule in driver["rules"])
    assert run["originalUriBaseIds"] == {"SRCROOT": {"uri": "file:///repo/"}}
    first = run["results"][0]
    assert first["ruleId"] == "query/unsafe-name"
    assert driver["rules"][first["ruleIndex"]]["id"] == first["ruleId"]
    assert first["level"] == "error"
    location = first["locations"][0]["physicalLocation"]
    assert location == {"artifactLocation": {"uri": "queries/a.yaml", "uriBaseId": "SRCROOT"},
                        "region": {"startLine": 2, "startColumn": 7}}
    assert [r["level"] for r in run["results"]] == ["error", "warning", "error", "error"]
    tricky = run["results"][-1]
    assert tricky["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "queries/x%2C%20y%3Az.yaml"
    # SARIF viewers and `cat` show the text: controls escaped (issue 10), the message otherwise intact.
    assert tricky["message"]["text"] == '100% wrong,\nsee: <b>&"quoted"</b> | pipe\\x1b[31m\\x00 end'


def test_sarif_of_no_findings_is_valid() -> None:
    log = _sarif([])
    assert log["runs"][0]["results"] == [] and log["runs"][0]["tool"]["driver"]["rules"] == []


def test_sarif_fingerprints_ignore_line_moves_and_separate_duplicates() -> None:
    def prints(findings: list[Finding]) -> list[str]:
        return [r["partialFingerprints"]["vqrFinding/v1"] for r in _sarif(findings)["runs"][0]["results"]]

    moved = [f(x.path, x.line + 10, x.column + 1, x.rule, x.message, x.severity) for x in FINDINGS]
    assert prints(FINDINGS) == prints(moved)
    twins = [f("q.yaml", 1, 1, "spec/unknown-node-type", "same"), f("q.yaml", 9, 1, "spec/unknown-node-type", "same")]
    first, second = prints(twins)
    assert first != second and first.split(":")[0] == second.split(":")[0]
    assert prints([f("q.yaml", 1, 1, "spec/x", "other")]) != prints([f("q.yaml", 1, 1, "spec/x", "another")])


def test_sarif_invalid_against_schema_is_detected() -> None:
    # The schema really constrains our output: a broken log must fail it.
    log = _sarif(FINDINGS)
    log["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validators.validator_for(SARIF_SCHEMA)(SARIF_SCHEMA).validate(log)


def test_junit_counts_and_escaping() -> None:
    out = render([*FINDINGS, TRICKY], "junit", files_checked=6)
    root = ET.fromstring(out.split("\n", 1)[1])
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    names = [case.get("name") for case in cases]
    assert names == ["queries/a.yaml", "queries/b.yaml", "queries/x, y:z.yaml", "3 other files clean"]
    assert (suite.get("tests"), suite.get("failures"), root.get("tests")) == ("4", "3", "4")
    failure = cases[2].find("failure")
    assert failure is not None and failure.text is not None
    assert '<b>&"quoted"</b>' in failure.text and "\x00" not in failure.text and "\x1b" not in failure.text
    a_failure = cases[0].find("failure")
    assert a_failure is not None and a_failure.text is not None
    assert a_failure.get("message") == "1 error: query name 'A B' is not safe as a file name. [query/unsafe-name]"
    assert "spec/unknown-node-type" in a_failure.text


def test_junit_warnings_pass_and_named_clean_files() -> None:
    out = render(FINDINGS[1:2], "junit", files_checked=2, checked_paths=["queries/a.yaml", "queries/c.yaml"])
    root = ET.fromstring(out.split("\n", 1)[1])
    cases = root.iter("testcase")
    parsed = [(c.get("name"), c.find("failure") is not None, c.findtext("system-out") or "") for c in cases]
    assert parsed[0][:2] == ("queries/a.yaml", False) and "OktaUsr" in parsed[0][2]
    assert parsed[1] == ("queries/c.yaml", False, "")
    assert root.get("failures") == "0" and root.get("tests") == "2"


def test_every_format_is_dispatched_and_unknown_is_a_usage_error() -> None:
    for fmt in FORMATS:
        assert render(FINDINGS, fmt)
    with pytest.raises(UsageError, match="unknown findings format 'xml'"):
        render(FINDINGS, "xml")


def test_step_summary_appends_a_table(tmp_path: Path) -> None:
    target = tmp_path / "summary.md"
    target.write_text("earlier\n", encoding="utf-8")
    assert write_github_step_summary([*FINDINGS, TRICKY], target, files_checked=5)
    text = target.read_text(encoding="utf-8")
    assert text.startswith("earlier\n### vqr lint\n\n3 errors, 1 warning in 5 files\n")
    assert "| error | queries/a.yaml:2:7 | `query/unsafe-name` | query name 'A B' is not safe as a file name. |" in text
    assert "&lt;b&gt;&amp;&quot;quoted&quot;&lt;/b&gt; \\| pipe\\\\x1b\\[31m\\\\x00 end" in text
    assert not write_github_step_summary(FINDINGS, None)
    assert not write_github_step_summary(FINDINGS, "")


def test_step_summary_is_truncated_within_the_limit(tmp_path: Path) -> None:
    many = [f(f"queries/q{i:05}.yaml", 1, 1, "spec/x", "m" * 500) for i in range(3000)]
    text = render_github_step_summary(many, files_checked=3000)
    size = len(text.encode())
    assert 1024 * 1024 - 2048 < size <= 1024 * 1024
    assert "more findings not shown" in text
    target = tmp_path / "s.md"
    target.write_text("x" * 1000, encoding="utf-8")
    assert write_github_step_summary(many, target)
    assert target.stat().st_size <= 1024 * 1024


HOSTILE = f("queries/\x1b]0;t\x07.yaml", 1, 1, "template/error",
            "value \x1b]0;pwned\x07\x1b[2J\n::error::injected \x9b31m [x](https://evil) ![i](https://e/p.png) @octocat")


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_format_passes_terminal_controls_or_starts_a_workflow_command(fmt: str) -> None:
    """Issue 10, point 7: the lint `github` format passed ESC and BEL; every format goes through a sanitiser."""
    out = render([HOSTILE], fmt)
    assert not any(bad in out for bad in ("\x1b", "\x07", "\x9b")), fmt
    if fmt != "json":  # JSON keeps the newline as `\n` inside a string
        assert sum(line.startswith("::") for line in out.splitlines()) == (1 if fmt == "github" else 0), out


def test_the_step_summary_renders_no_link_image_or_mention() -> None:
    """Issue 10, point 13: links, images and @mentions from query files rendered live in the step summary."""
    text = render_github_step_summary([HOSTILE], files_checked=1)
    assert "](https://" not in text and "![" not in text and "@octocat" not in text
    assert "\\[x\\](https:\u2060//evil)" in text and "@\u2060octocat" in text
    assert not any(bad in text for bad in ("\x1b", "\x07", "\x9b"))
