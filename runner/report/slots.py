"""Where other packages' report fragments go: the layout (html.py, markdown.py, owners.py) calls these hooks, and
each returns the fragment to place there, already escaped (empty when the run has nothing to show there).

- `lifecycle_html(run)` / `lifecycle_markdown(run)`: the block every report leads with, right after the summary:
  "new since last run", "resolved", "oldest open" (the lifecycle package, from `runner/report/lifecycle_view.py`).
- `exceptions_html(query)` / `exceptions_markdown(query)`: a query's accepted-exception marks ("accepted until …",
  expired exceptions), placed in its section after its facts (the exceptions package, from
  `runner/report/exceptions_view.py`).

An owner's part (`owners/<owner>.md`) is rendered from the run cut down to that owner's queries, so the same hooks
fill it too. Pure functions of the loaded run artifact; no I/O.
"""

from __future__ import annotations

from runner.report.exceptions_view import exceptions_html as _exceptions_html
from runner.report.exceptions_view import exceptions_markdown as _exceptions_markdown
from runner.report.lifecycle_view import lifecycle_html as _lifecycle_html
from runner.report.lifecycle_view import lifecycle_markdown as _lifecycle_markdown
from runner.report.load import QueryRun, RunArtifact


def lifecycle_html(run: RunArtifact) -> str:
    """HTML placed at the top of report.html, before "Needs attention" (`lifecycle_view`)."""
    return _lifecycle_html(run)


def lifecycle_markdown(run: RunArtifact) -> list[str]:
    """Markdown lines placed after report.md's summary line (`lifecycle_view`)."""
    return _lifecycle_markdown(run)


def exceptions_html(query: QueryRun) -> str:
    """HTML placed in a query's section, after its facts and error; "" renders nothing (`exceptions_view`)."""
    return _exceptions_html(query)


def exceptions_markdown(query: QueryRun) -> list[str]:
    """Markdown lines placed in a query's details in report.md and in its owner's part; [] renders nothing."""
    return _exceptions_markdown(query)
