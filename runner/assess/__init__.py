"""What a finished result means: drift against the previous run's result file (keyed by entity), the finding
lifecycle (new, persisting, resolved entities and their ages, kept in the journal), the rows accepted exceptions
leave out, and the `expect:` outcomes.
Reads result files (the lifecycle also writes through the journal it is given); no network.
"""

from __future__ import annotations

from runner.assess.drift import compare_results
from runner.assess.exceptions import annotate, apply_exceptions, counted
from runner.assess.expectations import evaluate_expectations
from runner.assess.lifecycle import LifecycleScan, LifecycleStore, start_scan, track_lifecycle
from runner.assess.rows import Scalar, flatten_row

__all__ = [
    "LifecycleScan",
    "LifecycleStore",
    "Scalar",
    "annotate",
    "apply_exceptions",
    "compare_results",
    "counted",
    "evaluate_expectations",
    "flatten_row",
    "start_scan",
    "track_lifecycle",
]
