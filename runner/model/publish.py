"""vqr.yaml's `publish:` section (issue 16): which project id marks the saved queries vqr manages, and whether a
query file publishes when it does not say. Pure values, no I/O; `from_section` reads the schema-checked mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from runner.model.values import JSONValue

MARKER_PREFIX = "vqr:"  # a managed saved query's marker label: "vqr:<project>/<query name>"
HASH_PREFIX = "vqr-sha:"  # its applied-state hash label: "vqr-sha:<16 hex>"
PLAN_FORMATS = ("text", "md", "json")  # `vqr publish plan --format` (here, so `vqr --help` loads no stage)


@dataclass(frozen=True, kw_only=True)
class PublishReport:
    name: str
    select: str
    description: str = ""


@dataclass(frozen=True, kw_only=True)
class PublishSettings:
    project: str | None = None  # None: nothing may be published (`vqr publish` says so)
    default: bool = False
    reports: tuple[PublishReport, ...] = ()

    def publishes(self, own: bool | None) -> bool:
        """Whether a query whose file says `publish: own` (None: says nothing) is published."""
        return self.default if own is None else own

    def marker(self, query_name: str) -> str:
        return f"{MARKER_PREFIX}{self.project}/{query_name}"

    @property
    def marker_prefix(self) -> str:
        return f"{MARKER_PREFIX}{self.project}/"

    @classmethod
    def from_section(cls, raw: Mapping[str, JSONValue]) -> PublishSettings:
        project = raw.get("project")
        reports = raw.get("reports")
        return cls(project=project if isinstance(project, str) and project else None,
                   default=raw.get("default") is True,
                   reports=tuple(PublishReport(name=str(r.get("name", "")), select=str(r.get("select", "")),
                                               description=str(r.get("description", "")))
                                 for r in (reports if isinstance(reports, list) else []) if isinstance(r, dict)))
