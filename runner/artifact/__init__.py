"""The run directory: result files streamed and committed atomically, run.json built (`runjson`) and published
last, `reports/latest`, the run lock (`runlock`), and retention of old runs. Filesystem I/O only.
"""

from __future__ import annotations

from runner.artifact.retention import latest_start, prune_runs
from runner.artifact.rundir import (
    LATEST,
    RUN_FILE,
    ResultWriter,
    RunDir,
    UnwritableRow,
    latest_target,
    link_verified,
    new_run_id,
)
from runner.artifact.runjson import RunInfo, build_artifact
from runner.artifact.runlock import Holder, RunLive, RunLock, holder

__all__ = [
    "LATEST",
    "RUN_FILE",
    "Holder",
    "ResultWriter",
    "RunDir",
    "RunInfo",
    "RunLive",
    "RunLock",
    "UnwritableRow",
    "build_artifact",
    "holder",
    "latest_start",
    "latest_target",
    "link_verified",
    "new_run_id",
    "prune_runs",
]
