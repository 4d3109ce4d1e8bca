"""What a finished result means: drift against the previous run's result file (keyed by entity) and the
`expect:` outcomes. Reads result files; no network.
"""

from __future__ import annotations

from runner.assess.drift import Scalar, compare_results, flatten_row
from runner.assess.expectations import evaluate_expectations

__all__ = [
    "Scalar",
    "compare_results",
    "evaluate_expectations",
    "flatten_row",
]
