"""The run directory: result files streamed and committed atomically, run.json built (`runjson`) and published
last, `reports/latest`, and retention of old runs. Filesystem I/O only.
"""

from __future__ import annotations

from runner.artifact.retention import latest_start, prune_runs
from runner.artifact.rundir import (
    LATEST,
    RUN_FILE,
    ResultWriter,
    RunDir,
    UnwritableRow,
    link_verified,
    new_run_id,
)
from runner.artifact.runjson import RunInfo, build_artifact

__all__ = [
    "LATEST",
    "RUN_FILE",
    "ResultWriter",
    "RunDir",
    "RunInfo",
    "UnwritableRow",
    "build_artifact",
    "latest_start",
    "link_verified",
    "new_run_id",
    "prune_runs",
]
