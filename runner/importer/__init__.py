"""`vqr import`: Veza's own JSON (a spec, a create request, a saved query, a report file) → lint-clean query files.

`read_inputs` reads and decodes the inputs, `plan_import` turns them into checked `Planned` files (nothing written),
`write_planned` writes them. Every refusal is an `ImportRefused` with a one-line message (exit 2 at the app).
"""

from __future__ import annotations

from runner.importer.batch import ImportOptions, Planned, plan_import, write_planned
from runner.importer.inputs import MAX_INPUT_BYTES, Input, read_inputs
from runner.importer.modernize import Modernized, modernize
from runner.importer.shapes import Candidate, ImportRefused, detect

__all__ = [
    "MAX_INPUT_BYTES",
    "Candidate",
    "ImportOptions",
    "ImportRefused",
    "Input",
    "Modernized",
    "Planned",
    "detect",
    "modernize",
    "plan_import",
    "read_inputs",
    "write_planned",
]
