"""The `junit` finding format: JUnit XML for CI test dashboards, one testcase per checked file.

A file with error findings fails (one `<failure>` listing every finding); warnings alone pass, listed in
`<system-out>`. Clean files appear by name when the caller knows them, else as one passing aggregate testcase.
Characters XML 1.0 cannot carry are removed. Pure: findings in, string out.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from runner.findings.summary import Summary, plural
from runner.model import Finding, Severity
from runner.sanitize import terminal_text

_SUITE = "vqr lint"
# Everything outside XML 1.0's Char production: most C0 controls, surrogates, U+FFFE and U+FFFF.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """CI viewers and logs show these texts: terminal controls escaped, then what XML cannot carry removed."""
    return _NOT_XML.sub("", terminal_text(text))


def _line(finding: Finding) -> str:
    return f"{finding.line}:{finding.column}: {finding.severity}: {finding.message} [{finding.rule}]"


def _testcase(suite: ET.Element, path: str, findings: list[Finding]) -> bool:
    case = ET.SubElement(suite, "testcase", {"classname": _SUITE, "name": xml_text(path)})
    errors = [finding for finding in findings if finding.severity is Severity.ERROR]
    body = xml_text("\n".join(f"{path}:{_line(finding)}" for finding in findings))
    if errors:
        failure = ET.SubElement(case, "failure", {"type": "lint", "message": xml_text(
            f"{plural(len(errors), 'error')}: {errors[0].message} [{errors[0].rule}]"
            + (" ..." if len(errors) > 1 else ""))})
        failure.text = body
    elif findings:
        ET.SubElement(case, "system-out").text = body
    return bool(errors)


def format_junit(findings: Sequence[Finding], summary: Summary, *, checked_paths: Sequence[str] = ()) -> str:
    root = ET.Element("testsuites", {"name": _SUITE})
    suite = ET.SubElement(root, "testsuite", {"name": _SUITE})
    by_path: dict[str, list[Finding]] = {path: [] for path in checked_paths}
    for finding in findings:
        by_path.setdefault(finding.path, []).append(finding)
    failures = sum(_testcase(suite, path, by_path[path]) for path in sorted(by_path))
    tests = len(by_path)
    unnamed_clean = summary.files_checked - tests
    if unnamed_clean > 0:
        ET.SubElement(suite, "testcase", {"classname": _SUITE, "name": f"{plural(unnamed_clean, 'other file')} clean"})
        tests += 1
    for element in (root, suite):
        element.set("tests", str(tests))
        element.set("failures", str(failures))
        element.set("errors", "0")
    suite.set("skipped", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
