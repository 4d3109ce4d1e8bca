"""The `text` finding format: one `path:line:col: severity: message [rule]` line per finding, then a summary.

Pure: findings in, string out.
"""

from __future__ import annotations

from collections.abc import Sequence

from runner.findings.summary import Summary, one_line, summary_line
from runner.model.values import Finding


def format_text(findings: Sequence[Finding], summary: Summary) -> str:
    lines = [f"{one_line(finding.path)}:{finding.line}:{finding.column}: {finding.severity}: "
             f"{one_line(finding.message)} [{finding.rule}]" for finding in findings]
    lines.append(summary_line(summary))
    return "\n".join(lines) + "\n"
