"""Every key of every published schema is a keyword of that schema's own draft (read from the draft's metaschema
and its vocabularies): no vendor `x-*` note, and no key born of a YAML slip such as `"as a string.": null`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema_specifications import REGISTRY  # type: ignore[import-untyped]
from ruamel.yaml import YAML

from runner.resources import bundled_schemas_dir
from runner.schemagen.build import build_schema_files
from runner.schemagen.convert import OpenAPIDocument, convert_document

PUBLISHED = sorted([*bundled_schemas_dir().glob("*.schema.json"), *bundled_schemas_dir().glob("draft-07/*.json")])
# Where a keyword's value is itself a schema (or a map or list of schemas); every other value is data.
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_VALUES = ("additionalProperties", "items", "not", "if", "then", "else", "contains", "propertyNames",
                  "unevaluatedProperties", "unevaluatedItems", "additionalItems", "contentSchema")


def draft_keywords(dialect: str) -> frozenset[str]:
    """The `properties` of the dialect's metaschema and of every vocabulary metaschema it composes."""
    names: set[str] = set()
    stack = [dialect.rstrip("#")]
    seen: set[str] = set()
    while stack:
        uri = stack.pop()
        if uri in seen:
            continue
        seen.add(uri)
        meta = REGISTRY.contents(uri)
        assert isinstance(meta, dict)
        names.update(meta.get("properties", {}))
        base = uri.rsplit("/", 1)[0]  # vocabulary refs are relative: "meta/core" beside ".../2020-12/schema"
        for part in meta.get("allOf", []):
            ref = part.get("$ref", "")
            stack.append(ref if "://" in ref else f"{base}/{ref}")
    return frozenset(names)


def subschemas(schema: Any, where: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    if not isinstance(schema, dict):
        return
    yield where, schema
    for key in _SCHEMA_MAPS:
        for name, sub in (schema.get(key) or {}).items():
            yield from subschemas(sub, f"{where}/{key}/{name}")
    for key in _SCHEMA_LISTS:
        for index, sub in enumerate(schema.get(key) or []):
            yield from subschemas(sub, f"{where}/{key}/{index}")
    for key in _SCHEMA_VALUES:
        value = schema.get(key)
        for index, sub in enumerate(value if isinstance(value, list) else [value]):
            yield from subschemas(sub, f"{where}/{key}/{index}")
    for name, sub in (schema.get("dependencies") or {}).items():  # draft-07: a schema, or a list of names
        yield from subschemas(sub, f"{where}/dependencies/{name}")


def unknown_keywords(schema: dict[str, Any]) -> list[str]:
    known = draft_keywords(schema["$schema"])
    return [f"{where}: {key}" for where, node in subschemas(schema) for key in node if key not in known]


def test_the_metaschemas_name_the_keywords_we_expect() -> None:
    draft07 = draft_keywords("http://json-schema.org/draft-07/schema#")
    latest = draft_keywords("https://json-schema.org/draft/2020-12/schema")
    assert {"definitions", "$comment", "readOnly", "if"} <= draft07 and "deprecated" not in draft07
    assert {"$defs", "deprecated", "unevaluatedProperties", "prefixItems", "$comment"} <= latest


@pytest.mark.parametrize("file", PUBLISHED, ids=lambda p: p.relative_to(bundled_schemas_dir()).as_posix())
def test_every_key_of_a_published_schema_is_a_keyword_of_its_draft(file: Path) -> None:
    assert unknown_keywords(json.loads(file.read_text(encoding="utf-8"))) == []


def test_the_generated_set_has_no_unknown_keyword_either() -> None:
    # What `vqr schema build` would write now, not only what is committed.
    for name, data in build_schema_files(None, bundled_schemas_dir()).items():
        assert unknown_keywords(json.loads(data)) == [], name


def test_an_unquoted_comma_in_the_openapi_source_is_caught() -> None:
    # The slip that once shipped: YAML reads `{description: The count, as a string.}` as two keys.
    raw = YAML(typ="safe").load("openapi: 3.0.3\ncomponents:\n  schemas:\n    Count:\n"
                                "      type: object\n      properties:\n"
                                "        value: {type: string, description: The count, as a string.}\n")
    doc = OpenAPIDocument(raw, name="subset.yaml")
    out = convert_document(doc, {"$ref": "#/components/schemas/Count"}, schema_id="urn:x", title="x")
    assert unknown_keywords(out) == ["#/$defs/Count/properties/value: as a string."]
