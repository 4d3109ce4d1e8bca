"""The `sarif` finding format: one SARIF 2.1.0 log (GitHub code scanning, IDE viewers).

Paths are relative to the repository root under `uriBaseId` SRCROOT; `partialFingerprints` hash the rule, path and
message (never line numbers), so a finding keeps its identity when lines move. Pure: findings in, string out.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from runner.model import Finding, Severity
from runner.rules import describe
from runner.sanitize import terminal_text

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "vqrFinding/v1"
# Where code scanning and SARIF viewers send a reader who asks "what is vqr?": the project's home, the domain its
# schema ids already use, and pyproject.toml's [project.urls] Homepage (a test holds the two together). No rule has
# its own documentation anchor yet, so rules carry no helpUri.
INFORMATION_URI = "https://vqr.dev/"


def _level(severity: Severity) -> str:
    return "error" if severity is Severity.ERROR else "warning"


def _rule_descriptor(rule_id: str) -> dict[str, Any]:
    info = describe(rule_id)
    return {
        "id": rule_id,
        "shortDescription": {"text": info.short_description},
        "fullDescription": {"text": info.help},
        "help": {"text": info.help},
        "defaultConfiguration": {"level": _level(info.default_severity)},
    }


def _fingerprints(findings: Sequence[Finding]) -> list[str]:
    # Identical (rule, path, message) triples get an occurrence counter, the way GitHub numbers its own hashes,
    # so two equal findings in one file stay two alerts.
    seen: dict[str, int] = {}
    prints = []
    for finding in findings:
        digest = hashlib.sha256("\x00".join((finding.rule, finding.path, finding.message)).encode()).hexdigest()
        seen[digest] = seen.get(digest, 0) + 1
        prints.append(f"{digest}:{seen[digest]}")
    return prints


def _root_uri(root: Path) -> str:
    uri = root.resolve().as_uri()
    return uri if uri.endswith("/") else uri + "/"


def format_sarif(findings: Sequence[Finding], *, root: Path, tool_version: str) -> str:
    rule_ids = sorted({finding.rule for finding in findings})
    index = {rule_id: position for position, rule_id in enumerate(rule_ids)}
    results = [
        {
            "ruleId": finding.rule,
            "ruleIndex": index[finding.rule],
            "level": _level(finding.severity),
            "message": {"text": terminal_text(finding.message)},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": {"uri": quote(finding.path), "uriBaseId": "SRCROOT"},
                    "region": {"startLine": max(finding.line, 1), "startColumn": max(finding.column, 1)},
                },
            }],
            "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
            # `vqr lint`'s environments where the finding holds (its message names them when not all do)
            **({"properties": {"environments": [terminal_text(name) for name in finding.environments]}}
               if finding.environments else {}),
        }
        for finding, fingerprint in zip(findings, _fingerprints(findings), strict=True)
    ]
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "vqr", "version": tool_version, "informationUri": INFORMATION_URI,
                                "rules": [_rule_descriptor(rule_id) for rule_id in rule_ids]}},
            "originalUriBaseIds": {"SRCROOT": {"uri": _root_uri(root)}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
