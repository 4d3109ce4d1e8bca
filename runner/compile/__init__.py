"""Query files → rendered `QueryUnit`s, typed `Query` values and findings: load → template per matrix row →
validate → rules, with the signed per-file lint cache. Reads the query repository.
"""

from __future__ import annotations

from runner.compile.repository import Compiled, compile_repository, discover_query_files

__all__ = [
    "Compiled",
    "compile_repository",
    "discover_query_files",
]
