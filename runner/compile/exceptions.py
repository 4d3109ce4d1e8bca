"""Accepted exceptions (`exceptions/*.yaml`): load them hardened, check them, and lint what a file cannot say alone.

`load_exceptions(project, files=None) -> LoadedExceptions`: every file of vqr.yaml's `exceptions: {dir}` (or the given
ones), each loaded by `runner.load` (untrusted: a pull request brings them), checked against
schemas/exceptions.schema.json, its entries turned into `ExceptionRule`s with their file and line. Errors per entry:
a bad calendar date (`exceptions/bad-date`) and an entry that repeats another's query and entity
(`exceptions/duplicate`, on the later one). `exception_findings(loaded, queries=..., today=..., ...)` adds what needs
the repository and the last run: a query (name or glob) that matches no query (`exceptions/unknown-query`, an error),
an exception expiring within `warn_days` (`exceptions/expiring`) or already expired (`exceptions/expired`), and one
that matched nothing in the last run (`exceptions/unmatched`); those three are warnings. Reads files; sends nothing.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from runner.load import load_yaml_file
from runner.model import Document, Finding, JSONObject, JSONPath, Position, Severity
from runner.model.exceptions import ExceptionRule
from runner.rules import filter_disabled, register_rule
from runner.settings import Project
from runner.validate import exceptions_validator, schema_findings

SUFFIXES = (".yaml", ".yml")
UNKNOWN_QUERY = register_rule("exceptions/unknown-query", "An exception names a query that does not exist.",
                              help_text="Fix the query name or glob, or remove the exception: it would apply to "
                              "nothing.")
BAD_DATE = register_rule("exceptions/bad-date", "An exception's `expires` is not a calendar date.",
                         help_text="Write the last day it applies as YYYY-MM-DD (a real date, such as 2027-01-31).")
DUPLICATE = register_rule("exceptions/duplicate", "Two exceptions accept the same entity of the same query.",
                          help_text="Keep one entry: which reason, owner and date would hold is otherwise unclear.")
EXPIRING = register_rule("exceptions/expiring", "An exception expires soon.", Severity.WARNING,
                         help_text="Renew it (a new `expires`, with the owner's consent) or fix the finding; "
                         "vqr.yaml `exceptions: {warn_days}` sets how soon.")
EXPIRED = register_rule("exceptions/expired", "An exception has expired and no longer applies.", Severity.WARNING,
                        help_text="Its rows count again in the expectations: renew it or remove the entry.")
UNMATCHED = register_rule("exceptions/unmatched", "An exception matched no row in the last run.", Severity.WARNING,
                          help_text="The finding may be fixed (remove the entry) or the entity is misspelt.")


@dataclass(frozen=True, kw_only=True)
class LoadedExceptions:
    rules: tuple[ExceptionRule, ...]  # the entries that passed their checks, in file order
    findings: tuple[Finding, ...]
    files: tuple[str, ...]  # the files read, as displayed
    positions: dict[str, Position]  # rule id -> where its `query:` value is (for the repository-wide findings)
    disabled: dict[str, frozenset[str]]  # file -> its `# vqr: disable=...` rules


def exception_files(project: Project) -> list[Path]:
    """Every file with a YAML suffix under the exceptions directory (a FIFO or a link is kept, so that loading it
    reports why it is refused), sorted."""
    folder = project.root / project.exceptions.dir
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.rglob("*") if p.suffix in SUFFIXES and not p.is_dir()), key=lambda p: p.as_posix())


def is_exceptions_file(project: Project, file: Path) -> bool:
    folder = (project.root / project.exceptions.dir).resolve()
    try:
        file.resolve().relative_to(folder)
    except ValueError:
        return False
    return file.suffix in SUFFIXES


def load_exceptions(project: Project, files: Sequence[Path] | None = None) -> LoadedExceptions:
    chosen = exception_files(project) if files is None else list(files)
    rules: list[ExceptionRule] = []
    findings: list[Finding] = []
    positions: dict[str, Position] = {}
    disabled: dict[str, frozenset[str]] = {}
    seen: dict[str, str] = {}  # (query, entity) -> the first entry's id
    for file in chosen:
        shown = project.display(file)
        doc, loaded = load_yaml_file(file, path=shown, root=project.root)
        # Hardened like a query file: an unquoted `expires: 2027-01-31` is refused (yaml/unquoted-date), because
        # other YAML tools would read a date object where vqr reads a string; the schema's pattern wants YYYY-MM-DD.
        entries = doc.data.get("exceptions") if doc is not None and isinstance(doc.data, dict) else None
        if doc is None or any(f.severity is Severity.ERROR for f in loaded):
            findings += loaded
            continue
        problems = loaded + schema_findings(exceptions_validator(), doc.data, doc, rule_prefix="exceptions")
        if not any(f.severity is Severity.ERROR for f in problems) and isinstance(entries, list):
            for index, entry in enumerate(entries):
                rule, problem = _rule(doc, index, entry, shown)
                if problem is not None:
                    problems.append(problem)
                    continue
                assert rule is not None
                key = json.dumps([rule.query, rule.entity_id, rule.match], sort_keys=True)
                if key in seen:
                    problems.append(_at(doc, ("exceptions", index), DUPLICATE.id, Severity.ERROR,
                                        f"exception {rule.id} repeats {seen[key]}: the same query and entity"))
                    continue
                seen[key] = rule.id
                positions[rule.id] = doc.values.get(("exceptions", index, "query"), Position(line=rule.line, column=1))
                rules.append(rule)
        disabled[shown] = doc.disabled_rules
        findings += filter_disabled(problems, project_disabled=project.disabled_rules, doc_disabled=disabled)
    return LoadedExceptions(rules=tuple(rules), findings=tuple(findings), positions=positions, disabled=disabled,
                            files=tuple(project.display(f) for f in chosen))


def _rule(doc: Document, index: int, raw: object, shown: str) -> tuple[ExceptionRule | None, Finding | None]:
    """One schema-valid entry as a rule, or the finding for a date that does not exist (2027-02-30)."""
    assert isinstance(raw, dict)
    entry: JSONObject = raw
    where: JSONPath = ("exceptions", index)
    try:
        expires = date.fromisoformat(str(entry["expires"]))
    except ValueError:
        return None, _at(doc, (*where, "expires"), BAD_DATE.id, Severity.ERROR,
                         f"expires {str(entry['expires'])!r} is not a calendar date (YYYY-MM-DD)")
    entity = entry["entity"]
    assert isinstance(entity, dict)
    match = entity.get("match")
    ticket = entry.get("ticket")
    line = doc.values.get(where, Position(line=1, column=1)).line
    return ExceptionRule(id=f"{shown}#{index}", query=str(entry["query"]), reason=str(entry["reason"]),
                         owner=str(entry["owner"]), expires=expires,
                         entity_id=str(entity["id"]) if "id" in entity else None,
                         match=dict(match) if isinstance(match, dict) else {},
                         ticket=str(ticket) if isinstance(ticket, str) else None, file=shown, line=line), None


def _at(doc: Document, where: JSONPath, rule: str, severity: Severity, message: str) -> Finding:
    at = doc.values.get(where, Position(line=1, column=1))
    return Finding(path=doc.path, line=at.line, column=at.column, severity=severity, rule=rule, message=message)


def exception_findings(loaded: LoadedExceptions, *, queries: Iterable[str], today: date, warn_days: int,
                       unmatched: Sequence[ExceptionRule] = (), last_run: str | None = None,
                       disabled: frozenset[str] = frozenset()) -> list[Finding]:
    """The repository-wide findings of the loaded rules. `unmatched`: the rules the last run (`last_run`) recorded
    as matching nothing, recognised by file, query and entity (an entry moved within its file is still the same)."""
    names = sorted(set(queries))
    horizon = today + timedelta(days=warn_days)
    quiet = {(r.file, r.query, r.entity_id, json.dumps(r.match, sort_keys=True)) for r in unmatched}
    found: list[Finding] = []
    for rule in loaded.rules:
        at = loaded.positions.get(rule.id, Position(line=rule.line, column=1))

        def add(which: str, severity: Severity, message: str, at: Position = at, file: str = rule.file) -> None:
            found.append(Finding(path=file, line=at.line, column=at.column, severity=severity, rule=which,
                                 message=message))

        if not any(fnmatch.fnmatchcase(name, rule.query) for name in names):
            add(UNKNOWN_QUERY.id, Severity.ERROR, f"query {rule.query!r} matches no query of the repository")
        if not rule.active(today):
            add(EXPIRED.id, Severity.WARNING, f"exception {rule.id} ({rule.owner}) expired on "
                f"{rule.expires.isoformat()}: its rows count again; renew it or remove it")
        elif rule.expires <= horizon:
            days = (rule.expires - today).days
            add(EXPIRING.id, Severity.WARNING, f"exception {rule.id} ({rule.owner}) expires on "
                f"{rule.expires.isoformat()}, in {days} day(s)")
        if (rule.file, rule.query, rule.entity_id, json.dumps(rule.match, sort_keys=True)) in quiet:
            add(UNMATCHED.id, Severity.WARNING, f"exception {rule.id} matched no row in the last run"
                + (f" ({last_run})" if last_run else "") + ": the finding may be fixed (remove it) or the entity "
                "is misspelt")
    return filter_disabled(found, project_disabled=disabled, doc_disabled=loaded.disabled)
