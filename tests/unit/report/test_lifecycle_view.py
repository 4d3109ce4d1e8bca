"""The lifecycle fragments reports lead with (report/lifecycle_view.py), on the golden run.json given lifecycles:
counts, names and ages shown, hostile names escaped in each channel, first runs and absent lifecycles handled."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from runner.report.html import render_html
from runner.report.lifecycle_view import ENTITIES_SHOWN, lifecycle_html, lifecycle_markdown
from runner.report.load import RunArtifact, load_run
from runner.report.markdown import render_markdown
from runner.state import EMPTY_HISTORY

FIXTURE = Path(__file__).resolve().parents[2] / "golden" / "run-fixture"
HOSTILE = "<img src=x onerror=alert(1)> **bold** @team \x1b[31m"


def entity(key: str, name: str | None = None) -> dict[str, Any]:
    return {"id": key, "name": name}


def with_lifecycles(tmp_path: Path, lifecycles: dict[str, dict[str, Any]]) -> RunArtifact:
    run_dir = tmp_path / "run"
    shutil.copytree(FIXTURE, run_dir)
    data = json.loads((run_dir / "run.json").read_text())
    for query in data["queries"]:
        if query["name"] in lifecycles:
            query["lifecycle"] = lifecycles[query["name"]]
    (run_dir / "run.json").write_text(json.dumps(data))
    return load_run(run_dir)  # validated: the lifecycle objects must match run.schema.json


LIVE = {"previous_run": "20260501T000000Z-aaaa", "new": 7, "persisting": 40, "resolved": 2,
        "new_sample": [entity(f"n{i}", f"new user {i}") for i in range(7)],
        "resolved_sample": [entity("gone-1", HOSTILE), entity("gone-2")],
        "oldest": [{"id": "old-1", "name": "Ada", "first_seen": "2026-04-01T02:00:00Z", "age_days": 31}]}
FIRST = {"previous_run": None, "new": 12, "persisting": 0, "resolved": 0, "new_sample": [entity("a")],
         "resolved_sample": [], "oldest": [{"id": "a", "name": None, "first_seen": "2026-05-02T02:00:00Z",
                                            "age_days": 0}]}


def test_markdown_leads_with_counts_names_and_ages_escaped(tmp_path: Path) -> None:
    run = with_lifecycles(tmp_path, {"admin-roles": LIVE, "okta-users-with-s3-write": FIRST})
    lines = lifecycle_markdown(run)
    text = "\n".join(lines)
    assert lines[1] == "### New since last run: 7 · resolved: 2"  # a first run's entities are not "new since"
    assert "| admin-roles | 7 | 2 | 40 | 31 |" in text and "| okta-users-with-s3-write | 12 (first run) |" in text
    assert "new user 0 (n0)" in text and f"…{7 - ENTITIES_SHOWN} more" in text and "new user 6" not in text
    assert "- oldest open: Ada (old-1): 31 d, since 2026-04-01" in text
    assert "<img" not in text and "**bold**" not in text and "\x1b" not in text and "&lt;img" in text
    report = render_markdown(run)
    assert report.index("### New since last run") < report.index("### Failed expectations")


def test_html_section_escapes_every_datum_and_comes_first(tmp_path: Path) -> None:
    run = with_lifecycles(tmp_path, {"admin-roles": LIVE})
    section = lifecycle_html(run)
    assert section.startswith('<section id="lifecycle">') and "<img" not in section and "\x1b" not in section
    assert "&lt;img src=x onerror=alert(1)&gt;" in section and "<code>gone-2</code>" in section
    assert "31 d, since 2026-04-01" in section and "7 new since the last run · 2 resolved" in section
    page = render_html(run, EMPTY_HISTORY)
    assert page.index('id="lifecycle"') < page.index('id="drift"')


def test_nothing_is_shown_without_lifecycles(tmp_path: Path) -> None:
    run = with_lifecycles(tmp_path, {})
    assert lifecycle_markdown(run) == [] and lifecycle_html(run) == ""
    assert "New since last run" not in render_markdown(run)
