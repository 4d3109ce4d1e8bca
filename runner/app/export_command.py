"""`vqr export --report NAME`: one report of vqr.yaml's `publish.reports` as the report file Veza's SDK reads
(`oaaclient-report-builder report.json`, veza-api.md §9): `{"name", "version": 1, "queries": [...]}`.

The queries are those the report's `select` picks among the environment's enabled queries, published or not (a
team that pushes with the SDK may never run `vqr publish`), each as the saved-query body `vqr publish` would send
without vqr's marker: what the builder creates is the SDK's, and `vqr publish plan` lists it as unmanaged rather
than claiming it. Writes the file atomically (`--out`) or to stdout. Reads the project; no network.
"""

from __future__ import annotations

import json
from pathlib import Path

from runner.app.common import Common, compile_queries, project_of, report_invalid
from runner.errors import ExitCode, UsageError
from runner.files import write_atomically
from runner.model import JSONObject
from runner.plan import select_queries
from runner.publish.state import saved_body
from runner.sanitize import json_text, terminal_line

REPORT_FILE_VERSION = 1  # [SDK] written, never read by the builder


def export_report(common: Common, *, report: str, out_file: Path | None) -> int:
    project = project_of(common)
    declared = {r.name: r for r in project.publish.reports}
    if report not in declared:
        known = ", ".join(sorted(declared)) or "none"
        raise UsageError(terminal_line(f"no report named {report!r} in vqr.yaml's publish.reports "
                                       f"(declared: {known})"))
    compiled = compile_queries(common, project, use_cache=True)
    if compiled.errors:
        return report_invalid(common, compiled.errors)
    picked = [q for q in select_queries(compiled.queries, select=[declared[report].select]) if q.enabled]
    if not picked:
        raise UsageError(terminal_line(f"report {report!r} selects no enabled query ({declared[report].select})"))
    document: JSONObject = {"name": report, "version": REPORT_FILE_VERSION,
                            "queries": [saved_body(q, marker=None) for q in sorted(picked, key=lambda q: q.name)]}
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if out_file is None:
        common.out.write(json_text(text))
    else:
        write_atomically(out_file, text)
        common.err.write(terminal_line(f"vqr export: wrote {out_file} ({len(picked)} queries)") + "\n")
    return ExitCode.OK
