"""A run.json read back and checked against its schema: `read_run_json(path, checker=None) -> JSONObject`, or
`ArtifactError` (exit 2) naming what is wrong; `RunChecker(schema)`, one schema's check; `run_schema()`, a fresh
copy of the bundled `schemas/run.schema.json` (`vqr report merge` builds its own schema from it). Reads files.

Why a checker of its own: jsonschema walks a run.json in Python, 0.43 s for one of 200 queries. jsonschema-rs says
yes in C (`validate/fastcheck.py`, 0.02 s), with no node bound since a run.json is parsed from JSON text, which
shares no subtree; only a file it doubts is walked by jsonschema, which words every problem. The two are built from
the one schema they are given, so a fast yes always speaks for the schema that words the problems.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from runner.errors import UsageError
from runner.model import JSONObject
from runner.resources import RUN_SCHEMA_FILE, bundled_schemas_dir
from runner.validate.fastcheck import fast_checker

if TYPE_CHECKING:  # jsonschema loads only to word the problems of a run.json that the fast check doubts
    import jsonschema


class ArtifactError(UsageError):
    """The run directory has no readable, valid run.json (an unfinished run, or a file from elsewhere)."""


def run_schema() -> dict[str, Any]:
    """The bundled run.schema.json, a copy of its own for the caller to change."""
    return cast(dict[str, Any], json.loads((bundled_schemas_dir() / RUN_SCHEMA_FILE).read_text(encoding="utf-8")))


class RunChecker:
    """One run.json schema: jsonschema-rs's yes first, jsonschema (built on first need) for the problems."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self._schema = schema
        self._surely_valid = fast_checker(schema, max_nodes=None)
        self._validator: jsonschema.protocols.Validator | None = None

    def problems(self, data: Any) -> list[jsonschema.ValidationError]:
        """Every place where `data` breaks the schema, in path order; none when the fast check says yes."""
        if self._surely_valid is not None and self._surely_valid(data):
            return []
        return sorted(self._walker().iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))

    def _walker(self) -> jsonschema.protocols.Validator:
        if self._validator is None:
            import jsonschema

            self._validator = jsonschema.validators.validator_for(self._schema)(self._schema)
        return self._validator


@cache
def _bundled() -> RunChecker:
    return RunChecker(run_schema())


def read_run_json(path: Path, checker: RunChecker | None = None) -> JSONObject:
    """The run.json at `path`, parsed and checked by `checker` (default: run.schema.json as it is); `ArtifactError`
    when it is missing or unreadable, or naming the first five places where it breaks the schema."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArtifactError(f"{path} does not exist: not a run directory, or the run never finished") from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ArtifactError(f"cannot read {path}: {error}") from None
    problems = (checker or _bundled()).problems(data)
    if problems:
        shown = "; ".join(f"at /{'/'.join(map(str, p.absolute_path))}: {p.message}" for p in problems[:5])
        raise ArtifactError(f"{path} does not match {RUN_SCHEMA_FILE}: {shown}")
    return cast(JSONObject, data)
