"""Where the files that ship with vqr live: the bundled schemas (OpenAPI subset, generated JSON Schemas).

No I/O beyond path checks. In a wheel the top-level `schemas/` directory is installed as `runner/bundled_schemas`
(pyproject's package-dir mapping); in a source checkout or editable install it is the repository's own `schemas/`.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def bundled_schemas_dir() -> Path:
    installed = _PACKAGE_DIR / "bundled_schemas"
    if installed.is_dir():
        return installed
    return _PACKAGE_DIR.parent / "schemas"


def bundled_openapi_file() -> Path:
    return bundled_schemas_dir() / "openapi" / "veza-query-api.yaml"
