"""`vqr ls`, `vqr render` and the selection `vqr lint` narrows to, with every selector including `state:` ones.

`ls(common, select=, exclude=, fmt=)` lists the selected queries (with a baseline, their state, and the base's
removed queries that a `state:removed` selector picks); `render(common, query=, select=, exclude=)` prints the
exact create bodies; `lint_paths(...)` turns a selection into the files `vqr lint` reports on. The baseline
(`--base REF` / `--state DIR`, on `Common`) is computed only when asked for. Reads the repository; sends nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from runner.app.common import Common, compile_queries, project_of, report_invalid
from runner.app.impact import Baseline, baseline, select_with_state
from runner.errors import ExitCode, UsageError
from runner.model import JSONObject, JSONValue, Query
from runner.model.impact import Change
from runner.plan.select import create_body, uses_state
from runner.sanitize import json_text, terminal_line
from runner.settings import Project


def wanted_baseline(common: Common, project: Project, selectors: Sequence[str]) -> Baseline | None:
    """The baseline when `--base`/`--state` is given (any command given one shows states); a `state:` selector
    without one is refused before anything is compiled twice (exit 2)."""
    if common.base is None and common.state is None:
        if uses_state(selectors):
            raise UsageError("a state: selector needs a base to compare with: --base REF (a git ref) or "
                             "--state DIR (a run directory)")
        return None
    return baseline(common, project, base=common.base, state=common.state)


def ls(common: Common, *, select: Sequence[str], exclude: Sequence[str], fmt: str) -> int:
    project = project_of(common)
    compiled = compile_queries(common, project, use_cache=True)
    base = wanted_baseline(common, project, [*select, *exclude])
    queries, removed = select_with_state(compiled.queries, select=select, exclude=exclude, baseline=base)
    states = base.states if base is not None else {}

    def state(query: Query, gone: bool = False) -> str:
        return Change.REMOVED.value if gone else states.get(query.name, Change.UNCHANGED).value

    listed = [(q, False) for q in queries] + [(q, True) for q in removed]
    if fmt == "json":
        rows: list[JSONValue] = []
        for q, gone in listed:
            entry: JSONObject = {"name": q.name, "file": q.file, "owner": q.owner, "tags": list(q.tags),
                                 "cache": q.cache.mode}
            if base is not None:
                entry["state"] = state(q, gone)
            rows.append(entry)
        common.out.write(json_text(json.dumps(rows, indent=2, ensure_ascii=False)) + "\n")
    else:
        # Owners, tags and names come from query files: one escaped line per cell, so no cell drives the terminal.
        t = terminal_line
        head = ("NAME", "CACHE", "OWNER", "FILE", *(("STATE",) if base is not None else ()), "TAGS")
        table = [head] + [(t(q.name), q.cache.mode, t(q.owner or "-"), t(q.file),
                           *((state(q, gone),) if base is not None else ()), t(",".join(q.tags)))
                          for q, gone in listed]
        widths = [max(len(row[i]) for row in table) for i in range(len(head) - 1)]
        for row in table:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            common.out.write("  ".join([*cells, row[-1]]) + "\n")
    if compiled.errors:
        files = len({f.path for f in compiled.errors})
        common.err.write(f"warning: {files} file(s) have errors and are not listed; run `vqr lint`\n")
    for note in base.notes if base is not None else ():
        common.err.write(f"note: {terminal_line(note)}\n")
    return ExitCode.OK


def render(common: Common, *, query: str | None, select: Sequence[str] = (), exclude: Sequence[str] = ()) -> int:
    """Print the exact create-request body (or bodies) `vqr run` would send for QUERY, or for the selected queries;
    nothing is sent."""
    if (query is None) == (not select):
        raise UsageError("give QUERY (a name, glob or file) or --select, not both" if query is not None
                         else "give QUERY (a name, glob or file) or --select")
    project = project_of(common)
    by_file = query is not None and Path(query).suffix in {".yaml", ".yml"}
    compiled = compile_queries(common, project, [Path(query)] if by_file and query is not None else (), use_cache=True)
    if query is None:
        chosen, _ = select_with_state(compiled.queries, select=select, exclude=exclude,
                                      baseline=wanted_baseline(common, project, [*select, *exclude]))
    elif by_file:
        chosen = list(compiled.queries)
    else:
        chosen, _ = select_with_state(compiled.queries, select=[query], exclude=exclude, baseline=None)
    if compiled.errors and (not chosen or {f.path for f in compiled.errors} & {q.file for q in chosen}):
        return report_invalid(common, compiled.errors)
    if not chosen:
        if query is None:
            common.err.write("no query selected: nothing to render\n")
            return ExitCode.OK
        raise UsageError(f"no query named {query!r} (see `vqr ls`)")
    bodies = {q.name: create_body(q.spec, q.cache) for q in chosen}
    shown = bodies[chosen[0].name] if len(bodies) == 1 and query is not None else bodies
    common.out.write(json_text(json.dumps(shown, indent=2, ensure_ascii=False)) + "\n")
    if any(body.get("cached_result_context") for body in bodies.values()):
        common.err.write("note: cache_id 'previous' is resolved from the journal when the query runs\n")
    return ExitCode.OK


def lint_paths(common: Common, project: Project, *, select: Sequence[str], exclude: Sequence[str]) -> list[Path]:
    """The query files holding the selected queries, and with a baseline also the changed files that do not
    compile at the head (a broken file has no queries to select, yet it is the first thing to report)."""
    compiled = compile_queries(common, project, use_cache=True)
    base = wanted_baseline(common, project, [*select, *exclude])
    chosen, _ = select_with_state(compiled.queries, select=select, exclude=exclude, baseline=base)
    files = {q.file for q in chosen}
    if base is not None and uses_state(select):
        files |= set(base.comparison.head.error_files)
    return [project.root / name for name in sorted(files)]
