"""Convert the schemas of an OpenAPI document (3.0, 3.1, or Swagger 2.0) into a JSON Schema 2020-12 document.

Input: the parsed OpenAPI document (plain dicts) and a root schema; output: a plain JSON-able dict holding the root
and, under `$defs`, only the components reachable from it. Pure: no I/O. Problems in the document (a dangling or
external `$ref`) raise `ProjectError`. Every message or list property also accepts null (the protojson policy,
`schemagen/nulls.py`). Variants of the output (templated, draft-07) live in `schemagen/variants.py`.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator, Mapping
from typing import Any

from runner.errors import ProjectError
from runner.model import JSONValue
from runner.resources import INT64_PATTERN, UINT64_PATTERN, deprecation_note
from runner.schemagen.nulls import is_message_or_list, with_null

DIALECT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
# No `x-*` key reaches a published schema: strict validators (ajv's default) reject unknown keywords. The evidence
# (`x-assumed`) stays in the OpenAPI subset; a deprecated field's replacement becomes a sentence of its description,
# which the linter reads back (`runner.resources.replacement_of`); `x-enum-integers` widens the enum.
REPLACEMENT = "x-replacement"
ENUM_INTEGERS = "x-enum-integers"
# OpenAPI-only keywords with no JSON Schema meaning.
_DROPPED = frozenset({"nullable", "discriminator", "xml", "externalDocs", "example", "x-nullable"})
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_VALUES = ("additionalProperties", "items", "not", "if", "then", "else", "contains", "propertyNames",
                  "unevaluatedProperties", "unevaluatedItems", "additionalItems")

Schema = dict[str, Any]


def dumps_schema(schema: Mapping[str, Any]) -> bytes:
    """The canonical bytes of a generated schema file: byte-for-byte deterministic."""
    return (json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


class OpenAPIDocument:
    """A parsed OpenAPI document: where its component schemas live and how refs to them are spelled."""

    def __init__(self, raw: Mapping[str, Any], *, name: str) -> None:
        self.name = name
        self.raw = raw
        version = str(raw.get("openapi") or raw.get("swagger") or "")
        if version.startswith("2"):
            self.components: Mapping[str, Any] = raw.get("definitions") or {}
            self.prefix = "#/definitions/"
        elif version.startswith("3"):
            self.components = (raw.get("components") or {}).get("schemas") or {}
            self.prefix = "#/components/schemas/"
        else:
            raise ProjectError(f"{name}: not an OpenAPI document (no 'openapi: 3.x' or 'swagger: 2.0' field)")
        if not isinstance(self.components, Mapping):
            raise ProjectError(f"{name}: the component schemas are not a mapping")
        self.is_31 = version.startswith("3.1")

    def component_of(self, ref: str) -> str:
        if not ref.startswith(self.prefix):
            raise ProjectError(f"{self.name}: unsupported $ref '{ref}' (only local '{self.prefix}...' refs are)")
        target = ref[len(self.prefix):].replace("~1", "/").replace("~0", "~")
        if target not in self.components:
            raise ProjectError(f"{self.name}: $ref '{ref}' points at no component")
        return target

    def request_schema(self, path_suffix: str) -> Schema | None:
        """The JSON request-body schema of the POST operation whose path ends with `path_suffix`."""
        for path, item in sorted((self.raw.get("paths") or {}).items()):
            if not str(path).endswith(path_suffix) or not isinstance(item, Mapping):
                continue
            operation = item.get("post") or {}
            content = ((operation.get("requestBody") or {}).get("content") or {})
            for media, body in sorted(content.items()):
                if "json" in media and isinstance(body, Mapping) and isinstance(body.get("schema"), Mapping):
                    return dict(body["schema"])
            for parameter in operation.get("parameters") or []:  # Swagger 2.0 body parameter
                if isinstance(parameter, Mapping) and parameter.get("in") == "body":
                    return dict(parameter.get("schema") or {})
        return None

    def find_component(self, suffix: str) -> str | None:
        """The component named `suffix`, else the one whose name ends with it (vendor names carry prefixes)."""
        if suffix in self.components:
            return suffix
        matches = sorted(name for name in self.components if str(name).endswith(suffix))
        return matches[0] if matches else None


def def_ref(name: str) -> str:
    return "#/$defs/" + name.replace("~", "~0").replace("/", "~1")


def _iter_subschemas(schema: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """(keyword, subschema) for every direct subschema; keyword tells which applicator holds it."""
    for keyword in _SCHEMA_MAPS:
        value = schema.get(keyword)
        if isinstance(value, Mapping):
            for sub in value.values():
                yield keyword, sub
    for keyword in _SCHEMA_LISTS:
        value = schema.get(keyword)
        if isinstance(value, list):
            for sub in value:
                yield keyword, sub
    for keyword in _SCHEMA_VALUES:
        value = schema.get(keyword)
        if isinstance(value, Mapping):
            yield keyword, value
        elif keyword == "items" and isinstance(value, list):  # draft-04 style tuple items
            for sub in value:
                yield keyword, sub


def _is_composition(schema: Mapping[str, Any]) -> bool:
    """An allOf that merges several parts: its members must stay open or the merge rejects its own fields."""
    members = schema.get("allOf")
    return isinstance(members, list) and (len(members) > 1 or "properties" in schema)


def reachable(doc: OpenAPIDocument, root: Mapping[str, Any]) -> tuple[list[str], set[str]]:
    """Components reachable from `root` (sorted), and those used as parts of an allOf composition."""
    seen: set[str] = set()
    open_parts: set[str] = set()
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if not isinstance(node, Mapping):
            continue
        ref = node.get("$ref")
        if isinstance(ref, str):
            name = doc.component_of(ref)
            if name not in seen:
                seen.add(name)
                stack.append(doc.components[name])
        if _is_composition(node):
            for member in node["allOf"]:
                if isinstance(member, Mapping) and isinstance(member.get("$ref"), str):
                    open_parts.add(doc.component_of(member["$ref"]))
        stack.extend(sub for _, sub in _iter_subschemas(node))
    return sorted(seen), open_parts


def _jsonable(value: Any) -> JSONValue:
    """Literal values (enum, default, examples) as JSON: YAML dates become strings, keys become strings."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


class _Converter:
    def __init__(self, doc: OpenAPIDocument, open_parts: set[str]) -> None:
        self.doc = doc
        self.open_parts = open_parts

    def convert(self, node: Any, *, closable: bool = True) -> Any:
        if isinstance(node, bool):
            return node
        if not isinstance(node, Mapping):
            raise ProjectError(f"{self.doc.name}: a schema must be a mapping, found {type(node).__name__}")
        out: Schema = {}
        for key, value in node.items():
            if key in _DROPPED or (key.startswith("x-") and key != ENUM_INTEGERS):
                continue
            if key == "$ref":
                out[key] = def_ref(self.doc.component_of(value))
            elif key == "properties" and isinstance(value, Mapping):
                out[key] = {str(k): self._property(v) for k, v in value.items()}
            elif key in _SCHEMA_MAPS and isinstance(value, Mapping):
                out["$defs" if key == "definitions" else key] = {str(k): self.convert(v) for k, v in value.items()}
            elif key in _SCHEMA_LISTS and isinstance(value, list):
                keep_open = key == "allOf" and _is_composition(node)
                out[key] = [self.convert(v, closable=not keep_open) for v in value]
            elif key in _SCHEMA_VALUES and isinstance(value, Mapping | bool):
                out[key] = self.convert(value)
            elif key == "items" and isinstance(value, list):
                out["prefixItems"] = [self.convert(v) for v in value]
            else:
                out[key] = _jsonable(value)
        if node.get("deprecated") is True:  # said in words too: draft-07 has no `deprecated` keyword
            replacement = node.get(REPLACEMENT)
            out["description"] = deprecation_note(out.get("description"),
                                                  replacement if isinstance(replacement, str) else None)
        if "example" in node and "examples" not in node and not self.doc.is_31:
            out["examples"] = [_jsonable(node["example"])]
        self._fix_numbers(node, out)
        self._fix_int64(out)
        self._fix_enum_integers(out)
        self._unwrap_single_allof(out)
        if closable:
            self._close(out)
        if node.get("nullable") is True or node.get("x-nullable") is True:
            out = with_null(out)
        return out

    def _property(self, node: Any) -> Any:
        # The protojson policy (schemagen/nulls.py): Veza writes an unset message or list as null, so every such
        # property accepts null, in our subset and in a vendor document alike; unknown keys stay rejected.
        out = self.convert(node)
        if isinstance(out, dict) and is_message_or_list(node, self.doc.components):
            return with_null(out)
        return out

    @staticmethod
    def _fix_numbers(node: Mapping[str, Any], out: Schema) -> None:
        # OpenAPI 3.0 (draft-04 style) spells exclusive bounds as booleans beside minimum/maximum.
        for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
            if isinstance(node.get(exclusive), bool):
                if node[exclusive] and bound in out:
                    out[exclusive] = out.pop(bound)
                else:
                    out.pop(exclusive, None)

    @staticmethod
    def _fix_int64(out: Schema) -> None:
        # The protobuf JSON mapping sends 64-bit integers as strings; accept both, insist on digits.
        fmt = out.get("format")
        if fmt in ("int64", "uint64", "fixed64", "sfixed64", "sint64") and out.get("type") in ("string", "integer"):
            out["type"] = ["string", "integer"]
            out["pattern"] = UINT64_PATTERN if fmt in ("uint64", "fixed64") else INT64_PATTERN
            del out["format"]

    @staticmethod
    def _fix_enum_integers(out: Schema) -> None:
        aliases = out.pop(ENUM_INTEGERS, None)
        if not isinstance(aliases, dict) or not isinstance(out.get("enum"), list):
            return
        integers = sorted({v for v in aliases.values() if isinstance(v, int) and not isinstance(v, bool)})
        out["enum"] = [*out["enum"], *(i for i in integers if i not in out["enum"])]
        # The enum alone says it all; a `type: [string, integer]` union beside it only makes ajv's strictTypes log.
        out.pop("type", None)

    @staticmethod
    def _unwrap_single_allof(out: Schema) -> None:
        # OpenAPI 3.0 ignores siblings of $ref, so documents write `allOf: [{$ref}]` to annotate a reference.
        members = out.get("allOf")
        if (isinstance(members, list) and len(members) == 1 and isinstance(members[0], dict)
                and set(members[0]) == {"$ref"} and "$ref" not in out):
            out["$ref"] = members[0]["$ref"]
            del out["allOf"]

    def _close(self, out: Schema) -> None:
        # A gRPC gateway drops unknown fields silently, so a typo would run another query: reject unknown keys.
        if "additionalProperties" in out or "unevaluatedProperties" in out:
            return
        composed = isinstance(out.get("allOf"), list) and len(out["allOf"]) > 1
        if "properties" not in out and not composed:
            return
        parts = [s for k in _SCHEMA_LISTS if isinstance(out.get(k), list) for s in out[k]]
        if "$ref" in out:
            parts.append({"$ref": out["$ref"]})
        if any(self._declares_properties(part) for part in parts):
            out["unevaluatedProperties"] = False
        elif "properties" in out:
            out["additionalProperties"] = False

    def _declares_properties(self, part: Any, depth: int = 0) -> bool:
        """Whether `part` (converted, or a raw component it refers to) defines properties, maybe via its parts."""
        if not isinstance(part, Mapping) or depth > 8:
            return False
        if "properties" in part:
            return True
        ref = part.get("$ref")
        if isinstance(ref, str):
            name = ref.rpartition("/")[2].replace("~1", "/").replace("~0", "~")
            if self._declares_properties(self.doc.components.get(name), depth + 1):
                return True
        return any(self._declares_properties(sub, depth + 1)
                   for key in _SCHEMA_LISTS if key != "prefixItems" for sub in part.get(key) or ())


def convert_document(doc: OpenAPIDocument, root: Mapping[str, Any], *, schema_id: str, title: str) -> Schema:
    """A self-contained 2020-12 schema: `root` converted, plus every component it reaches under `$defs`."""
    names, open_parts = reachable(doc, root)
    converter = _Converter(doc, open_parts)
    defs = {name: converter.convert(doc.components[name], closable=name not in open_parts) for name in names}
    out: Schema = {"$schema": DIALECT_2020_12, "$id": schema_id, "title": title}
    out.update(converter.convert(root))
    if defs:
        out["$defs"] = defs
    return out
