"""`junit.xml`: the run as JUnit XML, for CI test-report viewers (GitHub, GitLab, Jenkins).

`render_junit(run) -> str` is pure. One test case per query and one per expectation, with unique names (query
names are unique; an expectation is `<query> / expect <n>: <metric>`). Failures follow the exit-code contract: a
failed query or a failed error-severity expectation is a `<failure>`; a query that never ran, an interrupted one,
or a skipped expectation is `<skipped>`; a failed warn-severity expectation passes with its message in
system-out. Valid against Jenkins xunit's `junit-10.xsd` (tests/schemas/junit-10.xsd): no `skipped` on
`<testsuites>`, no `file` on `<testcase>` (the query's file is the first line of its system-out).
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape, quoteattr

from runner.report.figures import request_message
from runner.report.load import Expectation, QueryRun, RunArtifact
from runner.sanitize import terminal_text

# XML 1.0 cannot carry most control characters even escaped; an API message could contain them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: object) -> str:
    # CI shows these in logs and terminals: terminal controls escaped (and the key redacted) before XML escaping.
    return escape(_NOT_XML.sub("\ufffd", terminal_text(value)))


def _attr(value: object) -> str:
    return quoteattr(_NOT_XML.sub("\ufffd", terminal_text(value)))


def _time(seconds: float | None) -> str:
    return f"{seconds or 0.0:.3f}"


def _query_case(query: QueryRun) -> tuple[str, int, int]:
    """The query's own case, and whether it failed or was skipped (counted in the suite's totals)."""
    head = (f'    <testcase classname={_attr("vqr." + query.name)} name={_attr(query.name)} '
            f"time=\"{_time(query.seconds)}\"")
    # junit-10.xsd has no `file` on a test case: the query's file is the first line of its system-out instead.
    where = f"file: {query.file}\n" if query.file else ""
    if query.status == "succeeded":
        out = f"{where}rows: {query.rows}, cache: {query.cache}"
        return f"{head}>\n      <system-out>{_text(out)}</system-out>\n    </testcase>\n", 0, 0
    system_out = f"\n      <system-out>{_text(where.rstrip())}</system-out>" if where else ""
    if query.status == "failed":
        category = query.error.category if query.error else "failed"
        message = request_message(query.error) if query.error else "the query failed"
        detail = message + (f"\nrequest id: {query.error.request_id}" if query.error and query.error.request_id
                            else "")
        return (f"{head}>\n      <failure type={_attr(category)} message={_attr(message)}>{_text(detail)}"
                f"</failure>{system_out}\n    </testcase>\n", 1, 0)
    reason = "interrupted: `vqr run --resume` continues it" if query.status == "interrupted" else \
        "not run: the run stopped before this query started"
    return f"{head}>\n      <skipped message={_attr(reason)}/>{system_out}\n    </testcase>\n", 0, 1


def _expectation_case(query: QueryRun, index: int, outcome: Expectation) -> tuple[str, int, int]:
    name = f"{query.name} / expect {index}: {outcome.metric}"
    head = f'    <testcase classname={_attr("vqr." + query.name)} name={_attr(name)} time="0.000"'
    if outcome.outcome == "skipped":
        return f"{head}>\n      <skipped message={_attr(outcome.message)}/>\n    </testcase>\n", 0, 1
    if outcome.failed and outcome.severity == "error":
        return (f"{head}>\n      <failure type=\"expectation\" message={_attr(outcome.message)}>"
                f"{_text(outcome.message)}</failure>\n    </testcase>\n", 1, 0)
    if outcome.failed:
        warning = _text("warning: " + outcome.message)
        return f"{head}>\n      <system-out>{warning}</system-out>\n    </testcase>\n", 0, 0
    return f"{head}/>\n", 0, 0


def render_junit(run: RunArtifact) -> str:
    cases: list[str] = []
    failures = skipped = 0
    for query in run.queries:
        for text, failed, skip in (_query_case(query), *(_expectation_case(query, i, o)
                                                         for i, o in enumerate(query.expectations, start=1))):
            cases.append(text)
            failures += failed
            skipped += skip
    suite = f"vqr run {run.run_id}"
    totals = f'tests="{len(cases)}" failures="{failures}" errors="0"'
    time = f'time="{_time(run.seconds)}"'
    properties = "".join(f"      <property name={_attr(k)} value={_attr(v)}/>\n" for k, v in (
        ("run_id", run.run_id), ("env", run.env), ("target", run.target), ("status", run.status),
        ("exit_code", run.exit_code)))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<testsuites name=\"vqr\" {totals} {time}>\n"  # junit-10.xsd: `skipped` only on <testsuite>
            f"  <testsuite name={_attr(suite)} {totals} skipped=\"{skipped}\" {time} "
            f"timestamp={_attr(run.started_at.removesuffix('Z'))}>\n"
            f"    <properties>\n{properties}    </properties>\n"
            f"{''.join(cases)}  </testsuite>\n</testsuites>\n")
