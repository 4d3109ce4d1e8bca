"""Findings merged across environments (`compile/environments.merge_findings`) in every lint output format.

A finding of some environments names them in its message and in a field of its own (json `environments`, SARIF
`properties.environments`); one of every environment is reported once, unchanged. SARIF is validated against the
official 2.1.0 schema; JUnit is parsed as XML.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema

from runner.compile.environments import merge_findings
from runner.findings import format_findings
from runner.model.values import Finding, Severity

SARIF_SCHEMA = json.loads((Path(__file__).parents[2] / "sarif-2.1.0.schema.json").read_text(encoding="utf-8"))
ENVS = ("sandbox", "staging", "prod")


def f(path: str, line: int, rule: str, message: str, severity: Severity = Severity.ERROR) -> Finding:
    return Finding(path=path, line=line, column=3, severity=severity, rule=rule, message=message)


EVERYWHERE = f("queries/a.yaml", 4, "spec/unknown-node-type", "'OktaUsr' is not a known node type",
               Severity.WARNING)
PROD_ONLY = f("queries/b.yaml", 2, "template/undefined", "undefined variable 'x'")
TWO = f("queries/c.yaml", 9, "cache/bad-duration", "'12 hours' is not a duration")
MERGED = merge_findings({"sandbox": [EVERYWHERE, TWO], "staging": [EVERYWHERE], "prod": [EVERYWHERE, PROD_ONLY, TWO]})


def render(fmt: str) -> str:
    return format_findings(list(MERGED), fmt=fmt, root=Path("/repo"), files_checked=3, tool_version="0.1.0")


def test_merge_names_only_the_environments_a_finding_holds_in() -> None:
    by_path = {x.path: x for x in MERGED}
    assert len(MERGED) == 3
    assert by_path["queries/a.yaml"].message == EVERYWHERE.message
    assert by_path["queries/a.yaml"].environments == ENVS
    assert by_path["queries/b.yaml"].message == "undefined variable 'x' [env: prod]"
    assert by_path["queries/b.yaml"].environments == ("prod",)
    # Named in the project's order, not the order found.
    assert by_path["queries/c.yaml"].message == "'12 hours' is not a duration [env: sandbox, prod]"


def test_merge_of_one_environment_adds_no_suffix() -> None:
    merged = merge_findings({"prod": [PROD_ONLY, PROD_ONLY]})
    assert [(x.message, x.environments) for x in merged] == [(PROD_ONLY.message, ("prod",))]


def test_text_carries_the_environments() -> None:
    lines = render("text").splitlines()
    assert lines[0] == ("queries/a.yaml:4:3: warning: 'OktaUsr' is not a known node type "
                        "[spec/unknown-node-type]")
    assert lines[1] == "queries/b.yaml:2:3: error: undefined variable 'x' [env: prod] [template/undefined]"


def test_json_has_an_environments_list_per_finding() -> None:
    findings = json.loads(render("json"))["findings"]
    assert [x["environments"] for x in findings] == [list(ENVS), ["prod"], ["sandbox", "prod"]]
    assert findings[1]["message"] == "undefined variable 'x' [env: prod]"


def test_sarif_has_an_environments_property_and_stays_valid() -> None:
    log: dict[str, Any] = json.loads(render("sarif"))
    jsonschema.validators.validator_for(SARIF_SCHEMA)(SARIF_SCHEMA).validate(log)
    results = log["runs"][0]["results"]
    assert [r["properties"]["environments"] for r in results] == [list(ENVS), ["prod"], ["sandbox", "prod"]]
    assert results[2]["message"]["text"].endswith("[env: sandbox, prod]")
    # A finding outside lint (no environments) has no property bag.
    plain = json.loads(format_findings([PROD_ONLY], fmt="sarif", root=Path("/repo"), files_checked=1,
                                       tool_version="0.1.0"))
    assert "properties" not in plain["runs"][0]["results"][0]


def test_github_annotations_name_the_environments() -> None:
    lines = render("github").splitlines()
    assert ("::error file=queries/b.yaml,line=2,col=3,title=template/undefined::undefined variable 'x' "
            "[env: prod]") in lines


def test_junit_failures_name_the_environments() -> None:
    root = ET.fromstring(render("junit").split("\n", 1)[1])
    failures = {case.get("name"): case.find("failure") for case in root.iter("testcase")}
    failure = failures["queries/c.yaml"]
    assert failure is not None and failure.text is not None
    assert "[env: sandbox, prod]" in (failure.get("message") or "") + failure.text
    assert failures["queries/a.yaml"] is None  # a warning everywhere passes
