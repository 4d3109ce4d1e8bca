"""What the sandbox accepts as a saved query, a report, a list filter and an id (veza-api.md §4, §6, §9).

`query_body(body, checker)` splits a create/update body into saved-query fields (type-checked here) and spec fields
(checked like every spec the sandbox runs: the bundled schema, then `specshape.spec_problems`) and returns the body to
store; `report_body` does the same for a report. `list_filter`, `flag` and `object_id` read query-string and path
values. Pure; every refusal is an `ApiError` with all its field violations.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from runner.protojson import normalise
from runner.sandbox.schema_check import BodyChecker
from runner.sandbox.wire import ApiError, field_violations, invalid_argument, normalize_enums
from runner.specshape import spec_problems

# Writable saved-query fields [D createassessmentquery]; `variables` is also a spec field and stays with the spec.
QUERY_FIELDS = ("name", "description", "labels", "visibility", "risk_level", "risk_explanation", "risk_remediation",
                "analysis_type", "risk_suppressed_constraints", "save_mode", "vql_query", "violation")
# What the sandbox itself writes on every saved query and report it returns.
SERVER_FIELDS = ("id", "created_at", "updated_at")
# Read-only or exported fields a body may carry (a GET sent back, an old report file's entry) [D][VZ]: dropped,
# never stored, and never returned [assumed: the sandbox does not compute result_type or source_type].
READ_ONLY_QUERY_FIELDS = (*SERVER_FIELDS, "result_type", "source_type", "integration_types", "category", "level")
# A report's writable fields: name, description, queries [SDK]; labels [assumed].
REPORT_FIELDS = ("name", "description", "queries", "labels")
MAX_NAME_CHARS = 512  # [assumed] Veza's limit is not published
# The code of a refused taken name: §9 says a field violation, not which code [assumed InvalidArgument, 400].
TAKEN_NAME_CODE = "InvalidArgument"
# Built-in queries are Veza's own (the SDK skips them, veza-cli-tools rewrites them) [SDK][VZ]: a client may not
# save one [assumed].
REFUSE_SYSTEM_CREATED = True

_ENUM_FIELDS = ("visibility", "risk_level", "analysis_type", "save_mode")  # names, or numbers as protojson allows
_TEXT_FIELDS = ("description", "risk_explanation", "risk_remediation", "vql_query")
_FILTER = re.compile(r'^\s*name\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.IGNORECASE)
_TRUE, _FALSE = ("true", "1"), ("false", "0", "")


def refused(violations: list[tuple[str, str]], *, code: str = "InvalidArgument") -> ApiError:
    first_field, first_text = violations[0]
    more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
    return ApiError(code, f"invalid request: {first_field}: {first_text}{more}",
                    details=[field_violations(violations)])


def _name_problem(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "required: a non-empty string"
    if len(value) > MAX_NAME_CHARS:
        return f"longer than {MAX_NAME_CHARS} characters"
    if not value.isprintable():
        return "must not contain control characters"
    return None


def _labels_problem(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(label, str) and label for label in value):
        return "expected a list of non-empty strings"
    return None


def _saved_field_problems(saved: dict[str, Any]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    checks = (("name", _name_problem(saved.get("name"))), ("labels", _labels_problem(saved.get("labels"))))
    found += [(field, problem) for field, problem in checks if problem]
    for field in _TEXT_FIELDS:
        if saved.get(field) is not None and not isinstance(saved[field], str):
            found.append((field, "expected a string"))
    for field in _ENUM_FIELDS:
        value = saved.get(field)
        if value is not None and (not isinstance(value, str | int) or isinstance(value, bool)):
            found.append((field, "expected an enum name (a string) or number"))
    if saved.get("violation") is not None and not isinstance(saved["violation"], bool):
        found.append(("violation", "expected a boolean"))
    return found


def query_body(body: Any, checker: BodyChecker, *, builtin: bool = False) -> dict[str, Any]:
    """The saved query to store: the writable fields and the spec, in the body's order, integer enums named (Veza
    replies with names); read-only fields dropped. Lenient mode stores the spec as the schema check pruned it. A
    `builtin` (an edit of one of Veza's queries) may keep SYSTEM_CREATED."""
    if not isinstance(body, dict):
        raise invalid_argument("body", "expected a saved query (a JSON object)")
    saved = {key: value for key, value in body.items() if key in QUERY_FIELDS}
    spec = {key: value for key, value in body.items() if key not in QUERY_FIELDS and key not in READ_ONLY_QUERY_FIELDS}
    violations = _saved_field_problems(saved)
    if REFUSE_SYSTEM_CREATED and not builtin and spec.get("query_type") in ("SYSTEM_CREATED", 0):
        violations.append(("query_type", "SYSTEM_CREATED queries are Veza's built-ins: save SOURCE_TO_DESTINATION"))
    if violations:
        raise refused(violations)
    named = normalize_enums(spec)
    assert isinstance(named, dict)
    checked = checker.spec(normalise(named))
    problems = spec_problems(checked)
    if problems:
        raise refused([(problem.field, problem.message) for problem in problems])
    kept = checked if checker.lenient else named
    return {key: saved[key] if key in saved else kept[key] for key in [*body, *kept] if key in saved or key in kept}


def report_body(body: Any, *, lenient: bool, is_query: Callable[[str], bool]) -> dict[str, Any]:
    """The report to store: `{name, description, queries: [{query: id}], labels}` as sent (read-only fields dropped;
    other keys refused, or dropped when lenient). Each `query` must be a saved query's id, once."""
    if not isinstance(body, dict):
        raise invalid_argument("body", "expected a report (a JSON object)")
    violations: list[tuple[str, str]] = []
    kept: dict[str, Any] = {}
    for key, value in body.items():
        if key in REPORT_FIELDS:
            kept[key] = value
        elif key not in SERVER_FIELDS and not lenient:
            violations.append((key, "unknown field of a report"))
    for field, problem in (("name", _name_problem(kept.get("name"))), ("labels", _labels_problem(kept.get("labels")))):
        if problem:
            violations.append((field, problem))
    if kept.get("description") is not None and not isinstance(kept["description"], str):
        violations.append(("description", "expected a string"))
    queries = kept.get("queries")
    if queries is not None and not isinstance(queries, list):
        violations.append(("queries", "expected a list of {\"query\": \"<saved query id>\"}"))
        queries = None
    seen: set[str] = set()
    kept_entries: list[Any] = []
    for index, entry in enumerate(queries or []):
        where = f"queries[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("query"), str):
            violations.append((where, "expected {\"query\": \"<saved query id>\"}"))
            continue
        extra = [key for key in entry if key != "query"]
        if extra and not lenient:
            violations.append((f"{where}.{extra[0]}", "unknown field of a report entry"))
        kept_entries.append({"query": entry["query"]} if extra else entry)
        if entry["query"] in seen:
            violations.append((f"{where}.query", "this query is already in the report"))
        elif not is_query(entry["query"]):
            violations.append((f"{where}.query", f"no saved query has the id {entry['query']!r}"))
        seen.add(entry["query"])
    if queries is not None:
        kept["queries"] = kept_entries
    if violations:
        raise refused(violations)
    return kept


def list_filter(raw: str | None) -> str | None:
    """The name a list `filter` asks for (`name eq "<name>"`, `\\"` and `\\\\` escaped [assumed]); None: no filter."""
    if raw is None or not raw.strip():
        return None
    match = _FILTER.match(raw)
    if not match:
        raise invalid_argument("filter", 'only name eq "<name>" is supported', message=f"unsupported filter {raw!r}",
                               resolution='Filter by exact name: filter=name eq "<name>".')
    return re.sub(r"\\(.)", r"\1", match.group(1))


def flag(raw: str | None, field: str) -> bool:
    """A boolean query parameter: true/false in any case (the SDK sends Python's `True`/`False`), 1/0, or absent."""
    text = (raw or "").strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise invalid_argument(field, f"expected true or false, got {raw!r}")


def object_id(raw: str, what: str) -> str:
    """A path id in canonical form (a UUID); anything else is a 400 [assumed: Veza's gateway checks the format]."""
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise invalid_argument("id", f"not a {what} id (a UUID): {raw!r}") from None
