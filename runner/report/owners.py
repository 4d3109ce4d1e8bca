"""Each owner's part of a run: who owns which query, a safe file name per owner, and the section per owner that
report.md and report.html show.

A query's owners are those run.json recorded (`owners`: its `owner:`, else its file's CODEOWNERS owners when the run
was planned); a run.json from before that falls back to `owner`. A query with several owners is in each part;
one with none is in the "unowned" part. `parts(run) -> list[Part]` orders owners by name, unowned last, and gives
each a file name `owners/<slug>.md` that is safe whatever the owner string (`@org/team` -> `org-team.md`; no
separators, no leading dot, bounded length; collisions, even ones only a case-insensitive file system sees, get
`-2`, `-3`). Pure; `publish` writes the files.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from dataclasses import dataclass

from runner.report.figures import STATUS_WORDS
from runner.report.load import QueryRun, RunArtifact

OWNERS_DIR = "owners"
UNOWNED = "unowned"
_SLUG_UNSAFE = re.compile(r"[^a-z0-9._-]+")
_MAX_SLUG = 64


def owners_of(query: QueryRun) -> tuple[str, ...]:
    if query.owners is not None:
        return query.owners
    return (query.owner,) if query.owner else ()


def slug(owner: str) -> str:
    """A file name stem from an owner string: ASCII letters, digits, `.`, `_` and `-`, never empty, never starting
    with a dot (no hidden file, no `..`)."""
    ascii_text = unicodedata.normalize("NFKD", owner).encode("ascii", "ignore").decode().lower()
    text = _SLUG_UNSAFE.sub("-", ascii_text.lstrip("@")).strip("-.")
    text = re.sub(r"-{2,}", "-", text)[:_MAX_SLUG].strip("-.")
    return text or "owner"


@dataclass(frozen=True)
class Part:
    owner: str | None  # None: the queries nobody owns
    file: str  # relative to the run directory: owners/<slug>.md
    queries: tuple[QueryRun, ...]

    def needing_attention(self) -> tuple[QueryRun, ...]:
        return tuple(q for q in self.queries if q.status != "succeeded" or q.failed_expectations)

    @property
    def title(self) -> str:
        return self.owner if self.owner is not None else UNOWNED

    def failed(self) -> int:
        return sum(1 for q in self.queries if q.status != "succeeded")

    def errors(self) -> int:
        return sum(1 for q in self.queries for e in q.failed_expectations if e.severity == "error")

    def warnings(self) -> int:
        return sum(1 for q in self.queries for e in q.failed_expectations if e.severity != "error")

    def counts_text(self) -> str:
        """`3 queries: 1 did not succeed, 2 failed expectations, 1 warning` (only the non-zero problems)."""
        words = [(self.failed(), "did not succeed", "did not succeed"),
                 (self.errors(), "failed expectation", "failed expectations"), (self.warnings(), "warning", "warnings")]
        problems = [f"{count} {one if count == 1 else many}" for count, one, many in words if count]
        head = f"{len(self.queries)} quer{'y' if len(self.queries) == 1 else 'ies'}"
        return head + (": " + ", ".join(problems) if problems else ": all clear")


def parts(run: RunArtifact) -> list[Part]:
    """One part per owner (by name), then the unowned part if any query has no owner."""
    members: dict[str, list[QueryRun]] = {}
    unowned: list[QueryRun] = []
    for query in run.queries:
        owners = owners_of(query)
        for owner in dict.fromkeys(owners):
            members.setdefault(owner, []).append(query)
        if not owners:
            unowned.append(query)
    taken = {UNOWNED}  # the unowned part's name is reserved even when every query has an owner
    out = []
    for owner in sorted(members, key=lambda o: (o.casefold(), o)):
        stem = base = slug(owner)
        number = 1
        while stem in taken:
            number += 1
            stem = f"{base}-{number}"
        taken.add(stem)
        out.append(Part(owner=owner, file=f"{OWNERS_DIR}/{stem}.md", queries=tuple(members[owner])))
    if unowned:
        out.append(Part(owner=None, file=f"{OWNERS_DIR}/{UNOWNED}.md", queries=tuple(unowned)))
    return out


def part_run(run: RunArtifact, part: Part) -> RunArtifact:
    """The run cut down to one owner's queries, for rendering that owner's part with the report's own layout."""
    return dataclasses.replace(run, queries=part.queries)


def status_word(query: QueryRun) -> str:
    return STATUS_WORDS.get(query.status, query.status)
