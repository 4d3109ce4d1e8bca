"""`findings.ocsf.jsonl`: a finished run as OCSF 1.8.0 findings, one JSON object a line (what Amazon Security Lake,
Security Hub and Elastic ingest). Per result row an IAM Analysis Finding (class 2008: an identity and what it can
access); per query a Compliance Finding (class 2003: its expectations' pass or fail).

`write_ocsf(run, target) -> int` streams each query's `results/<query>.jsonl` one row at a time into the file
(written atomically) and returns the number of findings; `finding_uid(query, key)` is the stable finding id. Rows
an accepted exception of run.json matches stay, with OCSF's `status_id` 3 (Suppressed). Reads run.json and the
results files; writes one file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from runner.artifact import RUN_FILE
from runner.assess.rows import entity_key, entity_name
from runner.files import atomic_output
from runner.jsontext import parse_line
from runner.model import JSONObject, JSONValue
from runner.model.exceptions import ExceptionRule
from runner.report.load import QueryRun, RunArtifact

OCSF_VERSION = "1.8.0"
FINDINGS_CATEGORY = 2
IAM_ANALYSIS_FINDING = 2008
COMPLIANCE_FINDING = 2003
ACTIVITY_CREATE = 1
# OCSF severity_id: 1 Informational .. 5 Critical (0 Unknown, 6 Fatal, 99 Other are not a query's to claim)
SEVERITY_IDS = {"info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
SEVERITY_NAMES = {1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical"}
# OCSF finding status_id: 1 New, 3 Suppressed (an accepted exception), 4 Resolved (a query that passes)
STATUS_NEW, STATUS_SUPPRESSED, STATUS_RESOLVED = 1, 3, 4
STATUS_NAMES = {STATUS_NEW: "New", STATUS_SUPPRESSED: "Suppressed", STATUS_RESOLVED: "Resolved"}
# compliance.status_id and check.status_id: 0 Unknown, 1 Pass, 2 Warning, 3 Fail
CHECK_UNKNOWN, CHECK_PASS, CHECK_WARNING, CHECK_FAIL = 0, 1, 2, 3
CHECK_NAMES = {CHECK_UNKNOWN: "Unknown", CHECK_PASS: "Pass", CHECK_WARNING: "Warning", CHECK_FAIL: "Fail"}
MAX_TEXT = 4096  # characters of one string: a hostile row's megabyte name must not make a megabyte line per field


def finding_uid(query: str, key: str) -> str:
    """The same query and entity key give the same id in every run (and every vqr version)."""
    return "vqr-" + hashlib.sha256(f"{query}\0{key}".encode("utf-8", "surrogatepass")).hexdigest()[:32]


class _Clipper:
    """Cuts strings to MAX_TEXT and remembers whether it did (the event then says `metadata.is_truncated`)."""

    def __init__(self) -> None:
        self.cut = False

    def text(self, value: object) -> str:
        text = value if isinstance(value, str) else str(value)
        if len(text) <= MAX_TEXT:
            return text
        self.cut = True
        return text[:MAX_TEXT - 1] + "…"

    def tree(self, value: JSONValue) -> JSONValue:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(k): self.tree(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.tree(v) for v in value]
        return value


def _millis(stamp: str | None) -> int | None:
    if not stamp:
        return None
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp() * 1000)


def _base(class_uid: int, severity: str, time: int, run: RunArtifact) -> JSONObject:
    severity_id = SEVERITY_IDS.get(severity, SEVERITY_IDS["medium"])
    return {"class_uid": class_uid, "category_uid": FINDINGS_CATEGORY, "activity_id": ACTIVITY_CREATE,
            "type_uid": class_uid * 100 + ACTIVITY_CREATE, "severity_id": severity_id,
            "severity": SEVERITY_NAMES[severity_id], "time": time,
            "metadata": {"version": OCSF_VERSION, "correlation_uid": run.run_id, "log_name": "vqr",
                         "product": {"name": "vqr", "vendor_name": "vqr", "version": run.vqr_version or "unknown"}}}


def _status(event: JSONObject, status_id: int, detail: str | None = None) -> None:
    event["status_id"], event["status"] = status_id, STATUS_NAMES[status_id]
    if detail:
        event["status_detail"] = detail


def _identity(node: JSONValue, clip: _Clipper) -> JSONObject:
    """An OCSF `user`: the row's identity (or a path row's source). At least a uid: the schema wants name or uid."""
    node_dict = node if isinstance(node, dict) else {}
    uid = node_dict.get("id")
    user: JSONObject = {"uid": clip.text(uid if uid is not None else entity_key(node))}
    name = entity_name(node_dict)
    if name:
        user["name"] = clip.text(name)
    if isinstance(node_dict.get("type"), str):
        user["type"] = clip.text(node_dict["type"])
    return user


def _strings(value: JSONValue, clip: _Clipper) -> list[JSONValue]:
    return [clip.text(v) for v in value if v is not None] if isinstance(value, list) else []


def _row_finding(query: QueryRun, row: JSONValue, rules: list[ExceptionRule], head: JSONObject,
                 title: str) -> JSONObject:
    clip = _Clipper()
    key = entity_key(row)
    data = row if isinstance(row, dict) else {}
    source, destination = data.get("source"), data.get("destination")
    is_path = "id" not in data and isinstance(source, dict) and isinstance(destination, dict)
    user = _identity(source if is_path else row, clip)
    access: JSONObject = {"accessors": [user]}
    privileges = _strings(data.get("concrete_permissions"), clip)
    if privileges:
        access["granted_privileges"] = privileges
    levels = _strings(data.get("abstract_permissions"), clip)
    if levels:
        access["access_level"] = clip.text(", ".join(str(level) for level in levels))
    label = entity_name(data) or key
    event: JSONObject = {
        **head, "user": user, "access_analysis_result": access,
        "message": clip.text(f"{query.name}: {label}"),
        "finding_info": {"uid": finding_uid(query.name, key), "title": clip.text(f"{title}: {label}"),
                         "analytic": {"name": clip.text(query.name), "type_id": 1, "type": "Rule"},
                         "types": ["IAM Analysis"]},
        "unmapped": {"veza_row": clip.tree(row), "query": clip.text(query.name)},
    }
    if is_path and isinstance(destination, dict):
        resource = _identity(destination, clip)
        event["resources"] = [{**resource, "role_id": 1, "role": "Target"}]
    rule = next((r for r in rules if r.matches(row)), None)
    if rule is None:
        _status(event, STATUS_NEW)
    else:
        ticket = f" ({rule.ticket})" if rule.ticket else ""
        _status(event, STATUS_SUPPRESSED, clip.text(
            f"accepted until {rule.expires.isoformat()} by {rule.owner}: {rule.reason}{ticket} [{rule.id}]"))
    if clip.cut:
        event["metadata"] = {**_metadata(head), "is_truncated": True}
    return event


def _metadata(head: JSONObject) -> JSONObject:
    metadata = head["metadata"]
    assert isinstance(metadata, dict)
    return metadata


def _compliance(query: QueryRun, head: JSONObject, title: str, suppressed: int) -> JSONObject:
    clip = _Clipper()
    checks: list[JSONValue] = []
    statuses: list[int] = []
    for index, expectation in enumerate(query.expectations):
        status = (CHECK_UNKNOWN if expectation.outcome not in ("passed", "failed") else CHECK_PASS
                  if not expectation.failed else CHECK_FAIL if expectation.severity == "error" else CHECK_WARNING)
        statuses.append(status)
        checks.append({"uid": clip.text(f"{query.name}#{index}"), "name": clip.text(expectation.message or
                       expectation.metric), "status_id": status, "status": CHECK_NAMES[status]})
    # Fail outranks Warning outranks Pass; a query that did not succeed has no verdict
    overall = (CHECK_UNKNOWN if query.status != "succeeded"
               else max((s for s in statuses if s != CHECK_UNKNOWN), default=CHECK_PASS))
    compliance: JSONObject = {"control": clip.text(query.name), "standards": ["vqr"], "status_id": overall,
                              "status": CHECK_NAMES[overall]}
    if checks:
        compliance["checks"] = checks
    if query.error is not None:
        compliance["status_detail"] = clip.text(f"{query.error.category}: {query.error.message}")
    rows = f"{query.rows} rows" if query.rows is not None else f"not run ({query.status})"
    event: JSONObject = {
        **head, "compliance": compliance,
        "message": clip.text(f"{query.name}: {CHECK_NAMES[overall].lower()}, {rows}"
                             + (f", {suppressed} accepted" if suppressed else "")),
        "finding_info": {"uid": finding_uid(query.name, ""), "title": clip.text(title),
                         "analytic": {"name": clip.text(query.name), "type_id": 1, "type": "Rule"},
                         "types": ["Compliance"]},
    }
    if query.description:
        _finding_info(event)["desc"] = clip.text(query.description)
    if query.rows is not None:
        event["count"] = query.rows
    _status(event, STATUS_RESOLVED if overall == CHECK_PASS else STATUS_NEW)
    return event


def _finding_info(event: JSONObject) -> JSONObject:
    info = event["finding_info"]
    assert isinstance(info, dict)
    return info


def _rules(entry: JSONObject) -> list[ExceptionRule]:
    """The accepted exceptions run.json records as active for one query; a malformed one is left out."""
    block = entry.get("exceptions")
    active = block.get("active") if isinstance(block, dict) else None
    rules: list[ExceptionRule] = []
    for item in active if isinstance(active, list) else []:
        if isinstance(item, dict):
            try:
                rules.append(ExceptionRule.from_json(item))
            except (KeyError, TypeError, ValueError):
                continue
    return rules


def _rows(path: Path) -> Iterator[JSONValue]:
    with path.open("rb") as handle:
        for line in handle:
            if line.strip():
                yield parse_line(line)


def events(run: RunArtifact) -> Iterator[JSONObject]:
    """Every finding of the run, query by query: its rows' findings, then its Compliance Finding."""
    raw = json.loads((run.path / RUN_FILE).read_text(encoding="utf-8"))
    entries = {str(q.get("name")): q for q in raw.get("queries", []) if isinstance(q, dict)}
    as_of = raw.get("as_of") if isinstance(raw.get("as_of"), str) else None
    time = _millis(as_of) or _millis(run.finished_at) or _millis(run.started_at) or 0
    for query in run.queries:
        entry = entries.get(query.name, {})
        severity = entry.get("severity")
        head = _base(IAM_ANALYSIS_FINDING, str(severity or "medium"), time, run)
        title = query.description or query.name
        rules = _rules(entry)
        suppressed = 0
        results = run.path / query.results_file if query.results_file else None
        if query.status == "succeeded" and results is not None and results.is_file():
            for row in _rows(results):
                finding = _row_finding(query, row, rules, head, title)
                suppressed += finding["status_id"] == STATUS_SUPPRESSED
                yield finding
        yield _compliance(query, _base(COMPLIANCE_FINDING, str(severity or "medium"), time, run), title,
                          suppressed)


def write_ocsf(run: RunArtifact, target: Path) -> int:
    """Raises OSError or ValueError when a results file is unreadable or not JSON lines."""
    count = 0
    with atomic_output(target) as handle:
        for event in events(run):
            # ASCII escapes: a row's lone surrogate or control character is still one valid JSON line
            handle.write(json.dumps(event, ensure_ascii=True, separators=(",", ":")).encode() + b"\n")
            count += 1
    return count
