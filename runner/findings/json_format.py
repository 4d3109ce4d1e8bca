"""The `json` finding format: `{"version": 1, "tool": ..., "findings": [...], "summary": {...}}`.

Version 1 is a stable contract for scripts: keys are only ever added (`environments`: where `vqr lint` found each
finding, in vqr.yaml's order). Pure: findings in, string out.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from runner.findings.summary import Summary
from runner.model import Finding
from runner.sanitize import json_text

FORMAT_VERSION = 1


def format_json(findings: Sequence[Finding], summary: Summary, *, tool_version: str) -> str:
    document = {
        "version": FORMAT_VERSION,
        "tool": {"name": "vqr", "version": tool_version},
        "findings": [{"path": finding.path, "line": finding.line, "column": finding.column,
                      "severity": finding.severity.value, "rule": finding.rule, "message": finding.message,
                      "environments": list(finding.environments)}
                     for finding in findings],
        "summary": {"errors": summary.errors, "warnings": summary.warnings, "files_checked": summary.files_checked,
                    "files_with_findings": summary.files_with_findings},
    }
    return json_text(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"
