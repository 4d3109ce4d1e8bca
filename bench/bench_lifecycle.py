"""Finding-lifecycle benchmark (issue 14): the journal's size and the time per run for 1,000,000 result rows over 30
nightly runs (quick: 10,000 rows over 5 runs).

Each run writes a result file of the current population (canonical JSON lines, `id` + a name, as `ResultWriter`
does), then times `assess.track_lifecycle` on a real journal: one pass over the file, the comparison with the
open entities, the journal's write. Between runs CHURN of the population is resolved and as many new entities
arrive. Every run's answer is checked (new, persisting, resolved, the oldest's age): a wrong count is an ERROR row.
Rows: `lifecycle-bytes-per-entity` (the journal file after the last run, closed so its WAL is checkpointed, per
open entity), `lifecycle-journal-mib` and `lifecycle-seconds-per-run` (median of the runs after the first).
In-process.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.harness import Benchmark, Config, Metric, Result, Target
from bench.measures import value_result
from runner.assess import track_lifecycle
from runner.model.lifecycle import LifecycleScope
from runner.state import open_journal

FULL_ROWS, FULL_RUNS = 1_000_000, 30
QUICK_ROWS, QUICK_RUNS = 10_000, 5
CHURN = 0.02  # share of the population resolved each night (and as many new): a busy tenant
# Targets: a digest (8 bytes) and two run numbers in a WITHOUT ROWID B-tree should stay well under 64 bytes an
# entity even at SQLite's page fill; 100 MiB keeps a million-row query's history a small file beside its results;
# 10 s a run is about 10 µs a row, a fraction of what paging the same million rows from Veza takes.
PER_ENTITY = Target(metric=Metric.VALUE, op="<=", bound=64.0, unit="B")
JOURNAL_MIB = Target(metric=Metric.VALUE, op="<=", bound=100.0, unit="MiB")
PER_RUN = Target(metric=Metric.VALUE, op="<=", bound=10.0, unit="s")
SCOPE = LifecycleScope(env="prod", target="https://bench.vezacloud.com", query="bench-users", spec_hash="b" * 64)
START = datetime(2026, 1, 1, 3, 0, tzinfo=UTC)


def _write(path: Path, population: list[int]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.writelines(f'{{"id":"user-{n:09d}","properties":{{"name":"User {n}"}}}}\n' for n in population)


def _bytes(journal: Path) -> int:
    return sum(p.stat().st_size for p in (journal, journal.with_name(journal.name + "-wal")) if p.exists())


def run_lifecycle(config: Config) -> list[Result]:
    rows, runs = (QUICK_ROWS, QUICK_RUNS) if config.quick else (FULL_ROWS, FULL_RUNS)
    rng = random.Random(14)  # a reproducible population
    population = list(range(rows))
    next_id = rows
    results = config.workdir / "result.jsonl"
    path = config.workdir / ".vqr" / "state.sqlite"
    seconds: list[float] = []
    churn = int(rows * CHURN)
    with open_journal(path) as journal:
        for night in range(runs):
            _write(results, population)
            as_of = START + timedelta(days=night)
            started = datetime.now(UTC)
            found = track_lifecycle(journal, SCOPE, results, run_id=f"run-{night:02d}", as_of=as_of, drift=None)
            seconds.append((datetime.now(UTC) - started).total_seconds())
            expected = (rows, 0, 0) if night == 0 else (churn, rows - churn, churn)
            if found is None or (found.new, found.persisting, found.resolved) != expected:
                raise RuntimeError(f"night {night}: lifecycle {found} does not match the churn {expected}")
            if night and found.max_age_days != night:  # never-churned entities date from the first night
                raise RuntimeError(f"night {night}: the oldest is {found.max_age_days} days old, not {night}")
            for at in rng.sample(range(len(population)), churn):
                population[at] = next_id
                next_id += 1
    size = _bytes(path)  # closing the last connection checkpoints the WAL into the file and removes it
    extra = {"rows": rows, "runs": runs, "churn_per_run": churn, "journal_bytes": size}
    timed = seconds[1:] or seconds
    return [value_result("lifecycle-bytes-per-entity", [size / rows], target=PER_ENTITY, unit="B", config=config,
                         extra=extra),
            value_result("lifecycle-journal-mib", [size / 2**20], target=JOURNAL_MIB, unit="MiB", config=config,
                         extra=extra),
            value_result("lifecycle-seconds-per-run", timed, target=PER_RUN, unit="s", config=config,
                         extra={**extra, "first_run_seconds": seconds[0]})]


BENCHMARKS = (Benchmark(name="lifecycle", rows=("lifecycle-bytes-per-entity", "lifecycle-journal-mib",
                                                "lifecycle-seconds-per-run"),
                        targets={"lifecycle-bytes-per-entity": PER_ENTITY, "lifecycle-journal-mib": JOURNAL_MIB,
                                 "lifecycle-seconds-per-run": PER_RUN}, run=run_lifecycle),)
