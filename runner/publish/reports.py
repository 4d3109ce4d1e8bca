"""The reports of vqr.yaml's `publish.reports`, planned against the tenant's reports.

`desired_reports(settings, queries, published)` gives each declared report the published queries its `select`
picks (the selector language of `vqr run --select`: a name or glob, `tag:T`, `path:DIR`, `owner:O`, terms joined by
`,` intersect), and names the picked queries that are not published (a report can hold saved queries only).
`plan_reports(desired, listed, ids_by_name, creating, marker)` compares them with the tenant's reports: `create` (no
report has the name), `add` (the report lacks some of its queries), `noop`, and `clash` (a report vqr did not create
holds the name: reported, never touched). Pure, no I/O.

What vqr owns of a report [assumed, veza-api.md §9 gives reports no labels]: the report it created, known by its
description, which ends with the report's marker `vqr:<project>/<report name>` (the marker a saved query carries
as a label). vqr only ever creates a report or adds queries to it. It never removes a query from a report nor
deletes one: a report's other queries may be anybody's, and they are listed as left alone.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace

from runner.errors import UsageError
from runner.model import JSONObject, JSONValue, Query
from runner.model.publish import PublishSettings
from runner.plan import select_queries
from runner.plan.select import uses_state


class ReportAction(enum.StrEnum):
    CREATE = "create"
    ADD = "add"
    NOOP = "noop"
    CLASH = "clash"


def marked_description(description: str, marker: str) -> str:
    """What a report vqr creates says of itself: its description, then its marker on a line of its own."""
    return f"{description}\n\n{marker}" if description else marker


def is_marked(report: Mapping[str, JSONValue], marker: str) -> bool:
    # The end, not the last line: a tenant that folds line breaks keeps the marker last all the same [assumed].
    description = report.get("description")
    return isinstance(description, str) and description.rstrip().endswith(marker)


@dataclass(frozen=True, kw_only=True)
class DesiredReport:
    name: str
    description: str
    queries: tuple[str, ...]  # published query names, sorted
    unpublished: tuple[str, ...] = ()  # picked by `select` but not published: left out


@dataclass(frozen=True, kw_only=True)
class ReportChange:
    action: ReportAction
    name: str
    description: str = ""
    report_id: str | None = None
    queries: tuple[str, ...] = ()  # create: every query of the report; add: the missing ones
    foreign: tuple[str, ...] = ()  # ids (or names, when known) of queries in the report vqr did not put there
    unpublished: tuple[str, ...] = ()

    def to_json(self) -> JSONObject:
        return {"action": self.action.value, "name": self.name, "description": self.description,
                "id": self.report_id, "queries": [*self.queries], "left_alone": [*self.foreign],
                "unpublished": [*self.unpublished]}

    @classmethod
    def from_json(cls, raw: Mapping[str, JSONValue]) -> ReportChange:
        def names(key: str) -> tuple[str, ...]:
            value = raw.get(key)
            return tuple(str(item) for item in value) if isinstance(value, list) else ()

        return cls(action=ReportAction(str(raw["action"])), name=str(raw["name"]),
                   description=str(raw.get("description") or ""),
                   report_id=None if raw.get("id") is None else str(raw["id"]), queries=names("queries"),
                   foreign=names("left_alone"), unpublished=names("unpublished"))


def desired_reports(settings: PublishSettings, queries: Sequence[Query],
                    published: Mapping[str, object]) -> list[DesiredReport]:
    out = []
    names = [report.name for report in settings.reports]
    if twice := sorted({name for name in names if names.count(name) > 1}):
        raise UsageError(f"vqr.yaml publish.reports names {', '.join(map(repr, twice))} more than once: a report "
                         "is known by its name")
    for report in settings.reports:
        if uses_state([report.select]):
            raise UsageError(f"vqr.yaml publish.reports {report.name!r}: a state: selector needs a base; a "
                             "report selects by name, tag, path or owner")
        picked = sorted({q.name for q in select_queries(queries, select=[report.select])})
        out.append(DesiredReport(name=report.name, description=report.description,
                                 queries=tuple(n for n in picked if n in published),
                                 unpublished=tuple(n for n in picked if n not in published)))
    return out


def plan_reports(desired: Sequence[DesiredReport], listed: Sequence[Mapping[str, JSONValue]],
                 ids_by_name: Mapping[str, str], creating: Collection[str],
                 marker: Callable[[str], str]) -> list[ReportChange]:
    """`ids_by_name`: the tenant's id of each managed saved query that exists; `creating`: the names apply creates;
    `marker(name)`: a report's marker. A selected query that is neither (its name clashes with an unmanaged query)
    cannot be in the report: the query plan reports the clash."""
    by_name: dict[str, Mapping[str, JSONValue]] = {}
    for held_report in listed:
        by_name.setdefault(str(held_report.get("name")), held_report)  # [assumed] names are unique; the first is used
    names_by_id = {saved_id: name for name, saved_id in ids_by_name.items()}
    changes = []
    for wanted in desired:
        report = replace(wanted, queries=tuple(n for n in wanted.queries if n in ids_by_name or n in creating))
        found = by_name.get(report.name)
        if found is None:
            changes.append(ReportChange(action=ReportAction.CREATE, name=report.name,
                                        description=marked_description(report.description, marker(report.name)),
                                        queries=report.queries, unpublished=report.unpublished))
            continue
        if not is_marked(found, marker(report.name)):  # the SDK's builder or a person made it: not vqr's to change
            changes.append(ReportChange(action=ReportAction.CLASH, name=report.name, description=report.description,
                                        report_id=str(found.get("id", "")), unpublished=report.unpublished))
            continue
        held = _query_ids(found)
        missing = tuple(n for n in report.queries if ids_by_name.get(n) not in held)
        foreign = tuple(sorted(names_by_id.get(i, i) for i in held if names_by_id.get(i) not in report.queries))
        changes.append(ReportChange(action=ReportAction.ADD if missing else ReportAction.NOOP, name=report.name,
                                    description=report.description, report_id=str(found.get("id", "")),
                                    queries=missing, foreign=foreign, unpublished=report.unpublished))
    return changes


def _query_ids(report: Mapping[str, JSONValue]) -> set[str]:
    entries = report.get("queries")
    return {str(entry.get("query")) for entry in (entries if isinstance(entries, list) else [])
            if isinstance(entry, dict) and entry.get("query") is not None}
