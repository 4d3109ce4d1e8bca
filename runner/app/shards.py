"""Shards of `vqr run` (issue 15): `vqr plan --shards N` prints the split, `vqr run --shard I/N` runs one part of it
with its own journal (`.vqr/state-shard-I-of-N.sqlite`) and reports directory (`reports/shard-I-of-N/`), so shards
never share a file and `--resume` works per shard. The split itself is `plan/shard.py`'s (pure); this module
reads what it needs (the last run's durations) and writes `shard.json`, the shard's identity kept for `--resume`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from runner.app.options import RunOptions
from runner.errors import ExitCode, UsageError
from runner.files import write_atomically
from runner.model import JSONObject, JSONValue, QueryPlan, Shard
from runner.plan import assign, plan_hash

if TYPE_CHECKING:
    from runner.app.common import Common

SHARD_FILE = "shard.json"  # in a shard's run directory, from its start: what `--resume` continues


def shard_journal(root: Path, shard: Shard) -> Path:
    return root / ".vqr" / f"state-{shard.slug}.sqlite"


def shard_reports(reports: Path, shard: Shard) -> Path:
    return reports / shard.slug


def past_durations(reports: Path) -> dict[str, float]:
    """Each query's duration in the last complete run that `reports/latest` names (the last merged or unsharded
    run): what `--shard-by duration` balances. Empty when there is none, so the split falls back to equal weights."""
    from runner.report import resolve_run_dir
    from runner.report.load import ArtifactError, load_run

    try:
        run = load_run(resolve_run_dir(None, reports))
    except (ArtifactError, OSError):
        return {}
    return {q.name: q.seconds for q in run.queries if q.seconds is not None}


@dataclass(frozen=True, kw_only=True)
class Split:
    """The whole batch's split: each query's shard, and the split's identity."""

    count: int
    by: str
    assignment: dict[str, int]
    plan_hash: str

    def info(self, index: int) -> JSONObject:
        """run.json's `shard`."""
        return {"index": index, "count": self.count, "plan_hash": self.plan_hash, "by": self.by}

    def members(self, index: int) -> list[str]:
        return sorted(name for name, shard in self.assignment.items() if shard == index)


def split_batch(plans: Sequence[QueryPlan], count: int, *, by: str, reports: Path) -> Split:
    durations = past_durations(reports) if by == "duration" else None
    assignment = assign(plans, count, by=by, durations=durations)
    return Split(count=count, by=by, assignment=assignment, plan_hash=plan_hash(plans, count, by, assignment))


def write_shard_file(run_dir: Path, info: JSONObject) -> None:
    write_atomically(run_dir / SHARD_FILE, (json.dumps(info, indent=2) + "\n").encode())


def read_shard_file(run_dir: Path, shard: Shard) -> JSONObject:
    """The shard identity a resumed run started with; refused when it is missing or another shard's."""
    try:
        info = json.loads((run_dir / SHARD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise UsageError(f"cannot resume shard {shard.label}: {run_dir / SHARD_FILE} is missing or unreadable "
                         "(run without --resume)") from None
    if not isinstance(info, dict) or (info.get("index"), info.get("count")) != (shard.index, shard.count):
        raise UsageError(f"cannot resume shard {shard.label}: run {run_dir.name} is another shard's")
    return info


def matrix(count: int) -> JSONObject:
    """A GitHub Actions matrix (`strategy.matrix: ${{ fromJSON(needs.plan.outputs.matrix) }}`): one entry per
    shard, each `shard: "I/N"`, every shard listed even when empty (the merge expects all of them)."""
    return {"include": [{"shard": Shard(index=i, count=count).label} for i in range(count)]}


def plan_json(split: Split, *, snapshot_id: str | None = None) -> JSONObject:
    """`vqr plan --format json`: the split, and the snapshot every shard must be pinned to (`--snapshot-id`, part of
    the plan: a shard pinned otherwise has another plan_hash)."""
    return {"count": split.count, "by": split.by, "plan_hash": split.plan_hash, "snapshot_id": snapshot_id,
            "shards": [{"shard": Shard(index=i, count=split.count).label, "index": i,
                        "queries": list[JSONValue](split.members(i))} for i in range(split.count)]}


def plan(common: Common, *, options: RunOptions, shards: int, fmt: str) -> int:
    """`vqr plan --shards N`: the split `vqr run --shard I/N` will make, as JSON (each shard's queries and the
    plan_hash) or as a GitHub Actions matrix. Compiles and plans exactly as `vqr run` does; sends nothing."""
    from runner.app.clean import compile_clean
    from runner.app.listing import wanted_baseline
    from runner.compile.codeowners import read_codeowners
    from runner.plan import build_plans, check_count, select_queries

    check_count(shards)
    clean = compile_clean(common)
    if clean is None:
        return ExitCode.USAGE
    project, compiled = clean.project, clean.compiled
    base = wanted_baseline(common, project, [*options.select, *options.exclude])
    chosen = select_queries(compiled.queries, select=options.select, exclude=options.exclude,
                            state=base.states if base is not None else None)
    plans = build_plans(project, chosen, cache_override=options.cache, snapshot_id=options.snapshot_id,
                        query_timeout=None, codeowners=read_codeowners(project.root).owners_of)
    if not plans:
        raise UsageError("no query selected (see `vqr ls --select ...`)")
    split = split_batch(plans, shards, by=options.shard_by, reports=project.reports_dir)
    document = matrix(shards) if fmt == "github-matrix" else plan_json(split, snapshot_id=options.snapshot_id)
    # github-matrix on one line: `echo "matrix=$(vqr plan ...)" >> "$GITHUB_OUTPUT"` takes one line.
    common.out.write(json.dumps(document, separators=(",", ":")) + "\n" if fmt == "github-matrix"
                     else json.dumps(document, indent=2) + "\n")
    return ExitCode.OK
