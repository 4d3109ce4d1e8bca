"""The row model results share: a row's fields and its identity across runs.

`flatten_row(row)` names each field as the CSV and drift see it (nested objects dotted, lists whole as compact JSON;
it lives in `runner/flatten.py`, for the CSV worker, and is re-exported here); `entity_key(row)` /
`entity_name(row)` say which entity a row is, for people; `keyed(row)` adds the 64-bit digest drift and finding
lifecycles hold instead of the row. Pure.
"""

from __future__ import annotations

import hashlib

from runner.flatten import Scalar as Scalar
from runner.flatten import flatten_row as flatten_row
from runner.jsontext import canonical_str
from runner.model import JSONValue

_NAME_FIELDS = ("name", "display_name", "email", "login")


def entity_key(row: JSONValue) -> str:
    """What makes a row the same entity in two runs, as shown to people: `id`, or `source id -> destination id`.
    A row with neither (never seen from Veza) is keyed by its whole content."""
    if isinstance(row, dict):
        if isinstance(row.get("id"), str | int) and not isinstance(row.get("id"), bool):
            return str(row["id"])
        source, destination = row.get("source"), row.get("destination")
        if isinstance(source, dict) and isinstance(destination, dict):
            return f"{source.get('id')} -> {destination.get('id')}"
    return canonical_str(row)


def entity_name(row: JSONValue) -> str | None:
    """A human name for an entity row (or `source -> destination` names for a path row), if the row carries one."""
    if not isinstance(row, dict):
        return None
    source, destination = row.get("source"), row.get("destination")
    if "id" not in row and isinstance(source, dict) and isinstance(destination, dict):
        return f"{entity_name(source) or source.get('id')} -> {entity_name(destination) or destination.get('id')}"
    properties = row.get("properties")
    for holder in (properties, row):
        if isinstance(holder, dict):
            for field in _NAME_FIELDS:
                if isinstance(holder.get(field), str) and holder[field]:
                    return str(holder[field])
    return None


def digest(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def keyed(row: JSONValue) -> tuple[str, int]:
    """A row's entity key and its 64-bit digest, the one identity drift and finding lifecycles share."""
    # Tagged, so an entity whose id happens to read like "a -> b" never meets a path row's key.
    tag = "path" if isinstance(row, dict) and "id" not in row and "source" in row else "id"
    key = entity_key(row)
    return key, digest(f"{tag}\x00{key}")


def key_digest(row: JSONValue) -> int:
    return keyed(row)[1]
