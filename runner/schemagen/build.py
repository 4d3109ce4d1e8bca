"""`vqr schema build`: the generated schema files, built in memory, written atomically, or checked for staleness.

Inputs: an OpenAPI document (default: the subset in `<schemas>/openapi/`) and our own sources in `<schemas>/src/`
(both bundled with vqr when the directory lacks them).
Output: `{relative path: bytes}` for the 2020-12 schemas and their draft-07 copies. Reads files; only
`write_schema_files` writes. Unreadable or malformed inputs raise `ProjectError` naming the file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from runner.errors import ProjectError
from runner.files import write_atomically
from runner.resources import (
    CREATE_BODY_FILE,
    EXCEPTIONS_FILE,
    PROJECT_FILE,
    QUERY_FILE_FILE,
    QUERY_SPEC_FILE,
    SCHEMA_BASE_URL,
    TEMPLATE_EXPRESSION,
    bundled_schemas_dir,
)
from runner.schemagen.convert import DIALECT_2020_12, OpenAPIDocument, convert_document, dumps_schema
from runner.schemagen.variants import TEMPLATE_SCHEMA, templated_defs, to_draft07

DRAFT_07_DIR = "draft-07"
DEFAULT_OPENAPI = Path("openapi") / "veza-query-api.yaml"
# The placeholder our query-file source refers to, whatever the vendor calls its spec component.
QUERY_SPEC_DEF = "QuerySpec"

# (file, path suffix of the POST whose request body is the root, component name to fall back on, title)
_API_ROOTS = (
    (QUERY_SPEC_FILE, "query_spec:nodes", "AssessmentQuerySpec", "Veza AssessmentQuerySpec (a query SPEC)"),
    (CREATE_BODY_FILE, "query_spec:nodes_async_create", "NodesAsyncCreateRequest",
     "Veza query_spec:nodes_async_create request body"),
)


def load_trusted_yaml(file: Path) -> Any:
    """Parse one of our own (or the user's OpenAPI) files; JSON files are read as JSON."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProjectError(f"{file}: cannot read: {exc}") from None
    try:
        if file.suffix == ".json":
            return json.loads(text)
        return YAML(typ="safe").load(text)
    except json.JSONDecodeError as exc:
        raise ProjectError(f"{file}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ProjectError(f"{file}{where}: invalid YAML: {problem}") from None


def _source_dirs(sources_dir: Path) -> tuple[Path, Path]:
    """(schemas dir, src dir): `sources_dir` is the schemas directory, or its `src/` directory itself.

    A query repository made by `vqr init` holds only the generated files: it builds from the bundled sources.
    """
    if (sources_dir / "src").is_dir():
        return sources_dir, sources_dir / "src"
    if (sources_dir / "query-file.yaml").is_file():
        return sources_dir.parent, sources_dir
    return bundled_schemas_dir(), bundled_schemas_dir() / "src"


def _mapping(value: Any, file: Path) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ProjectError(f"{file}: expected a mapping at the top level")
    return value


def _api_root(doc: OpenAPIDocument, path_suffix: str, component: str) -> dict[str, Any]:
    found = doc.request_schema(path_suffix)
    if found:
        return found
    name = doc.find_component(component)
    if name is None:
        raise ProjectError(f"{doc.name}: found neither a POST ...{path_suffix} request body nor a component "
                           f"named {component}")
    return {"$ref": doc.prefix + name.replace("~", "~0").replace("/", "~1")}


def _own_schema(source: dict[str, Any], file_name: str) -> dict[str, Any]:
    out: dict[str, Any] = {"$schema": DIALECT_2020_12, "$id": SCHEMA_BASE_URL + file_name}
    out.update({k: v for k, v in source.items() if k not in ("$schema", "$id")})
    return out


def _query_file_schema(source: dict[str, Any], spec: Mapping[str, Any], file: Path) -> dict[str, Any]:
    out = _own_schema(source, QUERY_FILE_FILE)
    own_defs = dict(out.get("$defs") or {})
    spec_defs = templated_defs(spec.get("$defs") or {})
    clashes = sorted((set(own_defs) & set(spec_defs)) | ({QUERY_SPEC_DEF, TEMPLATE_EXPRESSION} & set(spec_defs)))
    if clashes:
        raise ProjectError(f"{file}: definitions {', '.join(clashes)} clash with the OpenAPI document's components")
    root = {k: v for k, v in spec.items() if k not in ("$schema", "$id", "title", "$defs")}
    # A whole spec may itself be one template (`spec: "{{ fragments.x }}"`): template the root like any value.
    own_defs[QUERY_SPEC_DEF] = templated_defs({QUERY_SPEC_DEF: root})[QUERY_SPEC_DEF]
    own_defs[TEMPLATE_EXPRESSION] = dict(TEMPLATE_SCHEMA)
    out["$defs"] = {**own_defs, **spec_defs}
    return out


def build_schema_files(openapi: Path | None, sources_dir: Path) -> dict[str, bytes]:
    """Every generated schema file, `{path relative to the schemas dir: content}`; deterministic bytes."""
    schemas_dir, src_dir = _source_dirs(sources_dir)
    openapi_file = openapi if openapi is not None else schemas_dir / DEFAULT_OPENAPI
    if openapi is None and not openapi_file.is_file():
        openapi_file = bundled_schemas_dir() / DEFAULT_OPENAPI
    doc = OpenAPIDocument(_mapping(load_trusted_yaml(openapi_file), openapi_file), name=str(openapi_file))
    schemas: dict[str, dict[str, Any]] = {}
    for file_name, suffix, component, title in _API_ROOTS:
        root = _api_root(doc, suffix, component)
        schemas[file_name] = dict(convert_document(doc, root, schema_id=SCHEMA_BASE_URL + file_name, title=title))
    query_source_file = src_dir / "query-file.yaml"
    query_source = _mapping(load_trusted_yaml(query_source_file), query_source_file)
    schemas[QUERY_FILE_FILE] = _query_file_schema(query_source, schemas[QUERY_SPEC_FILE], query_source_file)
    project_source_file = src_dir / "project.yaml"
    schemas[PROJECT_FILE] = _own_schema(_mapping(load_trusted_yaml(project_source_file), project_source_file),
                                        PROJECT_FILE)
    exceptions_source_file = src_dir / "exceptions.yaml"
    if not exceptions_source_file.is_file():  # a project's sources from before exceptions existed: the bundled one
        exceptions_source_file = bundled_schemas_dir() / "src" / "exceptions.yaml"
    schemas[EXCEPTIONS_FILE] = _own_schema(_mapping(load_trusted_yaml(exceptions_source_file),
                                                    exceptions_source_file), EXCEPTIONS_FILE)
    files: dict[str, bytes] = {}
    for file_name, schema in sorted(schemas.items()):
        files[file_name] = dumps_schema(schema)
        draft07_name = f"{DRAFT_07_DIR}/{file_name}"
        files[draft07_name] = dumps_schema(to_draft07(schema, schema_id=SCHEMA_BASE_URL + draft07_name))
    return files


def stale_schema_files(schemas_dir: Path, files: Mapping[str, bytes]) -> list[str]:
    """The files whose committed bytes differ from `files` (missing ones included): what `--check` reports."""
    stale = []
    for name, content in sorted(files.items()):
        try:
            current = (schemas_dir / name).read_bytes()
        except OSError:
            current = None
        if current != content:
            stale.append(name)
    return stale


def write_schema_files(schemas_dir: Path, files: Mapping[str, bytes]) -> list[str]:
    """Write the files that changed, each atomically; returns their names."""
    changed = stale_schema_files(schemas_dir, files)
    for name in changed:
        target = schemas_dir / name
        try:
            write_atomically(target, files[name], mode=0o644)  # committed files, as git checks them out
        except OSError as exc:
            raise ProjectError(f"{target}: cannot write: {exc}") from None
    return changed

