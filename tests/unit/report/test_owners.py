"""Owners: GitHub's CODEOWNERS rules (runner.compile.codeowners), safe and unique file names per owner, the
grouping of queries into owners' parts, the section per owner in report.md and report.html, and owners/<owner>.md
written beside them (re-rendered byte for byte, stale parts removed)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from runner.compile.codeowners import parse_codeowners, read_codeowners
from runner.report import render_report, write_reports
from runner.report.load import load_run
from runner.report.owners import parts, slug
from tests.support.report_fixture import EXAMPLE, FIXTURE

RULES = """\
# comment line
*                       @org/everyone
*.yaml                  @yaml-people        # inline comment
/queries/aws/           @org/cloud @alice
queries/okta/*          okta-owner@example.com
docs/**/deep.yaml       @deep
apps/                   @apps-anywhere
/queries/aws/legacy/
!queries/negated.yaml   @never
queries/[ab].yaml       @never
"""


@pytest.mark.parametrize(("path", "owners"), [
    ("README.md", ("@org/everyone",)),
    ("queries/x.yaml", ("@yaml-people",)),  # a later, more specific line wins
    ("queries/aws/s3.yaml", ("@org/cloud", "@alice")),  # several owners on a line
    ("queries/aws/iam/users.yaml", ("@org/cloud", "@alice")),  # a directory line covers everything below it
    ("queries/aws/legacy/old.yaml", ()),  # a line without owners leaves its matches unowned
    ("queries/okta/users.yaml", ("okta-owner@example.com",)),
    ("queries/okta/nested/users.yaml", ("@yaml-people",)),  # dir/* is the files directly in dir, not deeper
    ("docs/deep.yaml", ("@deep",)), ("docs/a/b/deep.yaml", ("@deep",)),
    ("x/apps/q.yaml", ("@apps-anywhere",)),  # unanchored trailing-slash pattern: any apps/ directory
    ("nested/queries/aws/s3.yaml", ("@yaml-people",)),  # /queries/aws/ is anchored at the root
    ("queries/negated.yaml", ("@yaml-people",)), ("queries/a.yaml", ("@yaml-people",)),  # unsupported: skipped
])
def test_codeowners_follows_githubs_rules(path: str, owners: tuple[str, ...]) -> None:
    from runner.compile.codeowners import CodeOwners

    assert CodeOwners(rules=parse_codeowners(RULES)).owners_of(path) == owners


def test_codeowners_is_read_from_githubs_locations_in_order(tmp_path: Path) -> None:
    assert read_codeowners(tmp_path).owners_of("q.yaml") == ()
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "CODEOWNERS").write_text("* @docs\n")
    assert read_codeowners(tmp_path).owners_of("q.yaml") == ("@docs",)
    (tmp_path / "CODEOWNERS").write_text("* @root\n")
    assert read_codeowners(tmp_path).owners_of("q.yaml") == ("@root",)
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "CODEOWNERS").write_text("* @github\n")
    found = read_codeowners(tmp_path)
    assert found.owners_of("q.yaml") == ("@github",) and found.source == ".github/CODEOWNERS"


@pytest.mark.parametrize(("owner", "stem"), [
    ("@org/team", "org-team"), ("@Alice", "alice"), ("dev@example.com", "dev-example.com"),
    ("../../etc/passwd", "etc-passwd"), ("..", "owner"), (".hidden", "hidden"), ("a\\b/c", "a-b-c"),
    ("Zoë Team", "zoe-team"), ("@" * 3, "owner"), ("x" * 200, "x" * 64), ("con\x00trol\n", "con-trol"),
])
def test_owner_file_names_are_safe(owner: str, stem: str) -> None:
    assert slug(owner) == stem


def run_with_owners(tmp_path: Path, owners: dict[str, list[str] | None]) -> Path:
    run_dir = tmp_path / "run"
    shutil.copytree(FIXTURE, run_dir)
    data = json.loads((run_dir / "run.json").read_text())
    for query in data["queries"]:
        if query["name"] in owners:
            if owners[query["name"]] is None:
                query.pop("owners", None)
            else:
                query["owners"] = owners[query["name"]]
    (run_dir / "run.json").write_text(json.dumps(data))
    return run_dir


def test_parts_group_queries_by_owner_with_unique_names_and_an_unowned_part(tmp_path: Path) -> None:
    run_dir = run_with_owners(tmp_path, {
        "okta-users-with-s3-write": ["@org/team", "@Org/Team"], "admin-roles": ["org-team", "@org/team"],
        "stale-access-keys": ["unowned"], "s3-write-paths": [], "inactive-admins": None,
        "snowflake-roles": ["../../x"]})
    found = {p.owner: (p.file, [q.name for q in p.queries]) for p in parts(load_run(run_dir))}
    assert found == {
        "../../x": ("owners/x.md", ["snowflake-roles"]),
        "@Org/Team": ("owners/org-team.md", ["okta-users-with-s3-write"]),
        "@org/team": ("owners/org-team-2.md", ["okta-users-with-s3-write", "admin-roles"]),  # differs in case only
        "org-team": ("owners/org-team-3.md", ["admin-roles"]),
        "unowned": ("owners/unowned-2.md", ["stale-access-keys"]),  # an owner named "unowned" is not the part
        # of the queries nobody owns (an empty `owners`, or no `owners` and no `owner:` in the run.json)
        None: ("owners/unowned.md", ["s3-write-paths", "inactive-admins"]),
    }
    assert [p.title for p in parts(load_run(run_dir))][-1] == "unowned"


def test_an_older_run_json_falls_back_to_the_owner_field() -> None:
    found = {p.title: [q.name for q in p.queries] for p in parts(load_run(FIXTURE))}
    assert found == {"cloud-team": ["admin-roles"], "identity-team": ["okta-users-with-s3-write"],
                     "unowned": ["stale-access-keys", "s3-write-paths", "inactive-admins", "snowflake-roles"]}


def test_each_owner_gets_a_section_and_a_file_and_rerendering_gives_the_same_bytes(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(EXAMPLE, run_dir)
    written = write_reports(run_dir)
    files = sorted(p.name for p in written if p.parent.name == "owners")
    assert files == ["cloud-security.md", "data-platform.md", "identity-team.md", "it-operations.md",
                     "platform-engineering.md"]
    identity = (run_dir / "owners" / "identity-team.md").read_text()
    assert identity.startswith("## 👤 identity-team: their part of vqr run 20261202T080905Z-8dd6")
    assert "okta-users-s3-data\\_write" in identity
    table = identity.split("### Queries")[1].split("\n\n")[1].splitlines()[2:]
    theirs = {q.name for q in load_run(run_dir).queries if q.owners == ("identity-team",)}
    assert len(theirs) == 6 and {row.split(" | ")[0][2:].replace("\\", "") for row in table} == theirs
    markdown, html = (run_dir / "report.md").read_text(), (run_dir / "report.html").read_text()
    assert "### By owner" in markdown and "`owners/identity-team.md`" in markdown
    assert '<section id="owners">' in html and html.count('<div class="panel owner') == 5
    first = {p: p.read_bytes() for p in written}
    (run_dir / "owners" / "gone.md").write_text("a part of an owner from an earlier rendering")
    again = {p: p.read_bytes() for p in write_reports(run_dir)}
    assert first == again and not (run_dir / "owners" / "gone.md").exists()
    assert render_report(run_dir, "md") == markdown


def test_owner_strings_are_escaped_in_every_report(tmp_path: Path) -> None:
    run_dir = run_with_owners(tmp_path, {"admin-roles": ["@evil <script>x</script> [a](http://x)"]})
    write_reports(run_dir)
    html, markdown = (run_dir / "report.html").read_text(), (run_dir / "report.md").read_text()
    assert "<script>x" not in html and "&lt;script&gt;x" in html
    assert "<script>" not in markdown and not re.search(r"(?<!\\)\]\(", markdown)  # no link can form
    names = sorted(p.name for p in (run_dir / "owners").iterdir())
    assert names == ["evil-script-x-script-a-http-x.md", "identity-team.md", "unowned.md"]
