"""`vqr schema build`: the OpenAPI subset → schemas/*.schema.json (2020-12 and draft-07 copies),
byte-deterministic. Reads and writes files.
"""

from __future__ import annotations

from runner.schemagen.build import build_schema_files, stale_schema_files, write_schema_files

__all__ = [
    "build_schema_files",
    "stale_schema_files",
    "write_schema_files",
]
