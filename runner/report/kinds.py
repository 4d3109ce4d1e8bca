"""The report formats `vqr report --format` offers and the file each is written to in the run directory.

Constants only: the CLI reads them for its choices without loading the renderers.
"""

from __future__ import annotations

REPORT_FORMATS: tuple[str, ...] = ("md", "html", "junit", "csv", "ocsf")
# csv: one file per query
REPORT_FILES = {"md": "report.md", "html": "report.html", "junit": "junit.xml", "ocsf": "findings.ocsf.jsonl"}
