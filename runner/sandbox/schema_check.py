"""Checks request bodies against the generated schemas (create body, bare spec), so the sandbox keeps clients honest.

Loads the bundled schemas once through `runner.validate.schemas.load_schema_set` (file I/O at construction); then pure.
Strict mode refuses a body with a 400 listing every problem as a `google.rpc.BadRequest` field violation; lenient
mode drops unknown fields silently (as Veza's gateway is believed to) and refuses only the rest. When the schema
files are missing, only the wire parser's structural checks apply.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from runner.errors import ProjectError
from runner.resources import bundled_schemas_dir
from runner.sandbox.wire import ApiError, field_violations, invalid_argument
from runner.validate import SchemaSet, Validator, load_schema_set, schema_problems

_MAX_VIOLATIONS = 20
_MAX_PRUNE_PASSES = 32


def field_path(path: Iterable[str | int]) -> str:
    """`("a", 0, "b")` as `a[0].b`, the way field violations name fields."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _drop(instance: Any, path: tuple[str | int, ...]) -> None:
    parent = instance
    for step in path[:-1]:
        parent = parent[step]
    if isinstance(parent, dict):
        parent.pop(path[-1], None)


class BodyChecker:
    """Validates create bodies and bare specs against the bundled schemas."""

    def __init__(self, *, lenient: bool, schemas_dir: Path | None = None) -> None:
        self.lenient = lenient
        self._schemas: SchemaSet | None
        try:
            self._schemas = load_schema_set(schemas_dir or bundled_schemas_dir())
        except ProjectError:
            self._schemas = None

    @property
    def active(self) -> bool:
        return self._schemas is not None

    def create_body(self, body: Any) -> Any:
        """The body to use (a pruned copy in lenient mode); refuses it with a 400 listing every problem."""
        return body if self._schemas is None else self._check(self._schemas.create_body, body)

    def spec(self, spec: Any) -> dict[str, Any]:
        """A bare spec, the body of the synchronous endpoints."""
        if not isinstance(spec, dict):
            raise invalid_argument("body", "expected the query spec (a JSON object)")
        checked = spec if self._schemas is None else self._check(self._schemas.query_spec, spec)
        assert isinstance(checked, dict)
        return checked

    def _check(self, validator: Validator, instance: Any) -> Any:
        if self.lenient:
            instance = copy.deepcopy(instance)
            for _ in range(_MAX_PRUNE_PASSES):
                unknown = [p.path for p in schema_problems(validator, instance) if p.kind == "unknown-key"]
                if not unknown:
                    break
                for path in unknown:
                    _drop(instance, path)
        problems = schema_problems(validator, instance)
        if not problems:
            return instance
        violations = [(field_path(p.path) or "body", p.message) for p in problems[:_MAX_VIOLATIONS]]
        first_field, first_text = violations[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ApiError("InvalidArgument", f"invalid request: {first_field}: {first_text}{more}",
                       details=[field_violations(violations)])
