"""The SARIF log names where vqr is documented (tool.driver.informationUri), valid against the official schema."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema

from runner.findings import format_findings
from runner.findings.sarif import INFORMATION_URI
from runner.model.values import Finding, Severity

TESTS = Path(__file__).parents[2]
SARIF_SCHEMA = json.loads((TESTS / "sarif-2.1.0.schema.json").read_text(encoding="utf-8"))
FINDING = Finding(path="queries/a.yaml", line=2, column=7, severity=Severity.ERROR, rule="query/unsafe-name",
                  message="query name 'A B' is not safe as a file name.")


def test_the_driver_has_an_absolute_information_uri_and_the_log_stays_valid() -> None:
    log = json.loads(format_findings([FINDING], fmt="sarif", root=Path("/repo"), files_checked=1,
                                     tool_version="0.1.0"))
    jsonschema.validators.validator_for(SARIF_SCHEMA)(SARIF_SCHEMA).validate(log)
    driver = log["runs"][0]["tool"]["driver"]
    parts = urlsplit(driver["informationUri"])
    assert parts.scheme == "https" and parts.netloc and driver["informationUri"] == INFORMATION_URI


def test_the_information_uri_is_the_projects_homepage() -> None:
    pyproject = tomllib.loads((TESTS.parent / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["urls"]["Homepage"] == INFORMATION_URI
