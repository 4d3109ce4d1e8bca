"""The `text` finding format: one `path:line:col: severity: message [rule]` line per finding, then a summary;
and the same lines, without the summary, for a command that findings stop (`format_abort`).

Pure: findings in, string out.
"""

from __future__ import annotations

from collections.abc import Sequence

from runner.findings.summary import Summary, one_line, summary_line
from runner.model import Finding


def _line(finding: Finding) -> str:
    # Paths and messages quote user data (a key name, a template): escaped, so no control character reaches a
    # terminal or a CI log.
    return (f"{one_line(finding.path)}:{finding.line}:{finding.column}: {finding.severity}: "
            f"{one_line(finding.message)} [{finding.rule}]")


def format_text(findings: Sequence[Finding], summary: Summary) -> str:
    return "\n".join([*(_line(f) for f in findings), summary_line(summary)]) + "\n"


def format_abort(findings: Sequence[Finding]) -> str:
    """The lines a command prints when findings stop it (`vqr run`, `vqr render`, a bad project or vars file):
    the text format's lines, in the order given, without the summary."""
    return "\n".join(_line(f) for f in findings)
