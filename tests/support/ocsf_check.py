"""OCSF events checked against the official OCSF 1.8.0 schema, as ocsf-lib loads it.

The schema is tests/fixtures/ocsf/schema-1.8.0.json.gz: the ocsf/ocsf-schema repository at tag 1.8.0 (commit
6fa6499a0f8c9f449d342816e90e5f687c224b0a) compiled by ocsf-lib's own compiler, `ocsf.util.get_schema(<checkout>)`
then `ocsf.schema.to_json` (what the OCSF server's export endpoint serves; ocsf-lib's download cache stops at 1.5.0,
which has no IAM Analysis Finding). Vendored so CI needs no network. ocsf-lib ships no event validator, so
`problems(event)` walks the event over ocsf-lib's `OcsfSchema` model: every attribute must be the class's or the
object's (profile attributes only with that profile in `metadata.profiles`), of its type (arrays, objects, the
primitive types with their max_len, range and regex), with an enum's value one of its members; every required
attribute present; `at_least_one` and `just_one` constraints hold; type_uid, category_uid and the enum captions
(`severity`, `status`, ...) agree with their ids.
"""

from __future__ import annotations

import gzip
import re
from functools import cache
from pathlib import Path
from typing import Any

from ocsf.schema import OcsfAttr, OcsfSchema, from_json

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "ocsf" / "schema-1.8.0.json.gz"
INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)


@cache
def schema() -> OcsfSchema:
    return from_json(gzip.decompress(SCHEMA_FILE.read_bytes()).decode("utf-8"))


def problems(event: Any) -> list[str]:
    """What makes `event` not a valid OCSF event of its class; empty when it is valid."""
    found: list[str] = []
    if not isinstance(event, dict):
        return ["the event is not a JSON object"]
    ocsf = schema()
    classes = {c.uid: c for c in ocsf.classes.values()}
    event_class = classes.get(event.get("class_uid"))
    if event_class is None:
        return [f"class_uid {event.get('class_uid')!r} is no class of OCSF {ocsf.version}"]
    metadata = event.get("metadata")
    profiles = set(metadata.get("profiles") or []) if isinstance(metadata, dict) else set()
    _record(event_class.attributes, event_class.constraints, event, "", profiles, found)
    activity = event.get("activity_id")
    if isinstance(activity, int) and event.get("type_uid") != (event_class.uid or 0) * 100 + activity:
        found.append(f"type_uid {event.get('type_uid')} is not class_uid * 100 + activity_id")
    categories = ocsf.categories or {}
    category = categories.get(event_class.category or "")
    if category is not None and event.get("category_uid") != category.uid:
        found.append(f"category_uid {event.get('category_uid')} is not {category.uid} ({category.name})")
    if isinstance(metadata, dict) and metadata.get("version") != ocsf.version:
        found.append(f"metadata.version {metadata.get('version')!r} is not {ocsf.version}")
    return found


def _profiled(attr: OcsfAttr) -> set[str]:
    if attr.profile is None:
        return set()
    return {attr.profile} if isinstance(attr.profile, str) else set(attr.profile)


def _record(attributes: dict[str, OcsfAttr], constraints: dict[str, list[str]] | None, value: dict[str, Any],
            path: str, profiles: set[str], found: list[str]) -> None:
    for name, item in value.items():
        attr = attributes.get(name)
        where = f"{path}{name}"
        if attr is None:
            found.append(f"{where}: no such attribute")
            continue
        if _profiled(attr) and not _profiled(attr) & profiles:
            found.append(f"{where}: belongs to profile {attr.profile}, not in metadata.profiles")
        if attr.is_array:
            if not isinstance(item, list):
                found.append(f"{where}: must be an array")
                continue
            for index, element in enumerate(item):
                _value(attr, element, f"{where}[{index}]", profiles, found)
        else:
            _value(attr, item, where, profiles, found)
        _caption(attributes, name, value, where, found)
    for name, attr in attributes.items():
        applies = not _profiled(attr) or bool(_profiled(attr) & profiles)
        if attr.requirement == "required" and applies and name not in value:
            found.append(f"{path}{name}: required, missing")
    for kind, names in (constraints or {}).items():
        present = [n for n in names if n in value]
        if kind == "at_least_one" and not present:
            found.append(f"{path.rstrip('.') or '/'}: needs at least one of {names}")
        if kind == "just_one" and len(present) != 1:
            found.append(f"{path.rstrip('.') or '/'}: needs exactly one of {names}, has {present}")


def _caption(attributes: dict[str, OcsfAttr], name: str, value: dict[str, Any], where: str,
             found: list[str]) -> None:
    """`severity` beside `severity_id` (and the like) must be the enum member's caption (or free text for 99)."""
    if not name.endswith("_id"):
        return
    sibling = attributes[name].sibling
    enum = attributes[name].enum
    if sibling and enum and sibling in value and str(value[name]) in enum and str(value[name]) != "99":
        caption = enum[str(value[name])].caption
        if value[sibling] != caption:
            found.append(f"{where}: {value[sibling]!r} beside it is not its caption {caption!r}")


def _value(attr: OcsfAttr, item: Any, where: str, profiles: set[str], found: list[str]) -> None:
    ocsf = schema()
    if attr.is_object():
        name = attr.object_type or attr.type
        if not isinstance(item, dict):
            found.append(f"{where}: must be an object ({name})")
        elif name != "object":  # `object` is OCSF's free-form JSON object (`unmapped`)
            target = ocsf.objects.get(name)
            if target is None:
                found.append(f"{where}: unknown object type {name}")
            else:
                _record(target.attributes, target.constraints, item, f"{where}.", profiles, found)
        return
    _primitive(attr.type, item, where, found)
    if attr.enum is not None and str(item) not in attr.enum:
        found.append(f"{where}: {item!r} is not one of the enum {sorted(attr.enum)}")


def _primitive(type_name: str, item: Any, where: str, found: list[str]) -> None:
    ocsf = schema()
    declared = ocsf.types.get(type_name)
    base = declared.type if declared is not None and declared.type else type_name
    if base == "json_t":
        return
    checks = {
        "string_t": isinstance(item, str),
        "boolean_t": isinstance(item, bool),
        "integer_t": isinstance(item, int) and not isinstance(item, bool) and INT32[0] <= item <= INT32[1],
        "long_t": isinstance(item, int) and not isinstance(item, bool) and INT64[0] <= item <= INT64[1],
        "float_t": isinstance(item, int | float) and not isinstance(item, bool),
    }
    if base not in checks:
        found.append(f"{where}: type {type_name} (base {base}) is not known to this checker")
        return
    if not checks[base]:
        found.append(f"{where}: {type(item).__name__} is not a {type_name}")
        return
    if declared is None:
        return
    if declared.max_len is not None and isinstance(item, str) and len(item) > declared.max_len:
        found.append(f"{where}: longer than {type_name}'s max_len {declared.max_len}")
    if declared.range is not None and not declared.range[0] <= item <= declared.range[1]:
        found.append(f"{where}: {item} outside {type_name}'s range {declared.range}")
    if declared.regex is not None and isinstance(item, str) and not re.fullmatch(declared.regex, item):
        found.append(f"{where}: {item!r} does not match {type_name}'s pattern")
    if declared.values is not None and item not in declared.values:
        found.append(f"{where}: {item!r} is not one of {type_name}'s values")
