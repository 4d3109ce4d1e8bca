"""Where the files that ship with vqr live, and the names and shapes they share: the bundled schemas (OpenAPI
subset, generated JSON Schemas), their file names, and the patterns generated schemas use (int64, templates).

No I/O beyond path checks. `schemagen` writes these files and `validate` reads them; both take the names from here.
In a wheel the top-level `schemas/` directory is installed as `runner/bundled_schemas`
(pyproject's package-dir mapping); in a source checkout or editable install it is the repository's own `schemas/`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_PACKAGE_DIR = Path(__file__).resolve().parent

# The generated schemas (`vqr schema build` writes them, lint and the sandbox validate with them).
SCHEMA_BASE_URL = "https://vqr.dev/schemas/"
QUERY_SPEC_FILE = "query-spec.schema.json"
CREATE_BODY_FILE = "nodes-async-create.schema.json"
QUERY_FILE_FILE = "query-file.schema.json"
PROJECT_FILE = "project.schema.json"
EXCEPTIONS_FILE = "exceptions.schema.json"
RUN_SCHEMA_FILE = "run.schema.json"

# Shapes inside the generated schemas: Veza's int64-as-string, and a `{{ expr }}` that templating replaces.
INT64_PATTERN = "^-?[0-9]+$"
UINT64_PATTERN = "^[0-9]+$"
TEMPLATE_EXPRESSION = "TemplateExpression"
TEMPLATE_REF = "#/$defs/" + TEMPLATE_EXPRESSION
TEMPLATE_PATTERN = r"^\s*\{\{.*\}\}\s*$"

# A deprecated field's replacement, in published schemas: a sentence of its `description` (editors show it on
# hover), not a vendor keyword (`x-replacement` in the OpenAPI subset), which strict validators such as ajv reject.
_REPLACEMENT = re.compile(r"Deprecated: use '([^']+)' instead\.$")


def deprecation_note(description: object, replacement: str | None) -> str:
    note = f"Deprecated: use '{replacement}' instead." if replacement else "Deprecated."
    return f"{description} {note}" if isinstance(description, str) and description else note


def replacement_of(schema: Mapping[str, Any]) -> str | None:
    """The replacement named by a deprecated field's schema (older generated schemas: `x-replacement`)."""
    legacy = schema.get("x-replacement")
    if isinstance(legacy, str):
        return legacy
    found = _REPLACEMENT.search(schema["description"]) if isinstance(schema.get("description"), str) else None
    return found.group(1) if found else None


def bundled_schemas_dir() -> Path:
    installed = _PACKAGE_DIR / "bundled_schemas"
    if installed.is_dir():
        return installed
    return _PACKAGE_DIR.parent / "schemas"


def bundled_openapi_file() -> Path:
    return bundled_schemas_dir() / "openapi" / "veza-query-api.yaml"
