"""Turn jsonschema's `ValidationError`s into `Problem`s: one clear sentence each, a kind, and the path to blame.

Input: an error from a validator over one of our generated schemas (see `runner.schemagen`), and that schema's root (to
resolve local `#/$defs/` refs). Output: `Problem` values, not yet anchored in a file. Pure, no I/O. `anyOf`/`oneOf`
failures are rewritten: the template-expression branch is ignored, and branches that do not apply to this kind of
value are skipped, so the user reads the error of the branch they meant.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runner.model import JSONPath, Severity
from runner.resources import INT64_PATTERN, TEMPLATE_REF, UINT64_PATTERN
from runner.suggest import did_you_mean

if TYPE_CHECKING:  # jsonschema loads only once a schema check has found an error (validate/schemas.py Validator)
    from jsonschema.exceptions import ValidationError

_RANGE = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minItems",
                    "maxItems", "minLength", "maxLength", "minProperties", "maxProperties"})
_TYPE_NAMES = {"object": "a mapping", "array": "a list", "string": "a string", "integer": "an integer",
               "number": "a number", "boolean": "a boolean (true or false)", "null": "null"}
_MAX_LISTED = 12


@dataclass(frozen=True, kw_only=True, slots=True)
class Problem:
    path: JSONPath
    kind: str  # the rule id's second half: unknown-key, enum, type, required, one-of, pattern, range, ...
    message: str
    key: bool = False  # anchor at the mapping key rather than its value
    severity: Severity = Severity.ERROR
    rule: str = ""  # a full rule id that overrides `<prefix>/<kind>` (a rule of its own, whichever stage finds it)
    missing: str = ""  # a `required` problem's absent key: the value a rule reading it cannot trust is that key's


def resolve(root: Mapping[str, Any], schema: Any) -> Any:
    """Follow a local `#/$defs/X` ref (our generated schemas use no other kind)."""
    ref = schema.get("$ref") if isinstance(schema, Mapping) else None
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return (root.get("$defs") or {}).get(ref[len("#/$defs/"):].replace("~1", "/").replace("~0", "~"), {})
    return schema


def in_place(root: Mapping[str, Any], schema: Any, depth: int = 0) -> Iterator[Mapping[str, Any]]:
    """The schema and every subschema applying to the same value: $ref targets and allOf/anyOf/oneOf members."""
    if not isinstance(schema, Mapping) or depth > 16:
        return
    yield schema
    if "$ref" in schema:
        yield from in_place(root, resolve(root, schema), depth + 1)
    for keyword in ("allOf", "anyOf", "oneOf"):
        for member in schema.get(keyword) or ():
            yield from in_place(root, member, depth + 1)


def show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def describe(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return f"the string {show(value)}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if value is None:
        return "null"
    return "a mapping" if isinstance(value, dict) else "a list"


def _listing(values: Sequence[Any]) -> str:
    shown = ", ".join(v if isinstance(v, str) else json.dumps(v) for v in values[:_MAX_LISTED])
    return shown + (", ..." if len(values) > _MAX_LISTED else "")


def explain(error: ValidationError, root: Mapping[str, Any]) -> Iterator[Problem]:
    """The problems one validation error stands for (usually one; one per unknown key or missing key)."""
    kind = error.validator
    value: Any = error.validator_value
    path: JSONPath = tuple(error.absolute_path)
    instance: Any = error.instance
    schema: Any = error.schema if isinstance(error.schema, Mapping) else {}
    if kind in ("additionalProperties", "unevaluatedProperties") and isinstance(instance, dict):
        yield from _unknown_keys(path, instance, schema, root)
    elif kind == "enum":
        names = [v for v in value if isinstance(v, str)] or list(value)
        hint = did_you_mean(instance, [str(n) for n in names]) if isinstance(instance, str) else ""
        yield Problem(path=path, kind="enum", message=f"{show(instance)} is not one of {_listing(names)}{hint}")
    elif kind == "const":
        yield Problem(path=path, kind="enum", message=f"{show(instance)} must be {show(value)}")
    elif kind == "type":
        yield Problem(path=path, kind="type", message=f"expected {_expected(schema)}, got {describe(instance)}")
    elif kind == "required" and isinstance(instance, dict):
        for name in value:
            if name not in instance:
                yield Problem(path=path, kind="required", message=f"missing required key '{name}'", missing=name)
    elif kind == "pattern":
        yield _pattern(error, path, instance, schema)
    elif kind in _RANGE:
        yield Problem(path=path, kind="range", message=error.message)
    elif kind in ("anyOf", "oneOf"):
        yield from _alternatives(error, path, instance, schema, root)
    elif kind == "not" and isinstance(schema.get("description"), str):
        # A key the schema refuses on purpose (`url: {not: {}}` under notify): its description says why.
        yield Problem(path=path, kind="refused", key=True, message=" ".join(schema["description"].split()))
    else:
        yield Problem(path=path, kind="invalid", message=error.message)


def _unknown_keys(path: JSONPath, instance: dict[str, Any], schema: Mapping[str, Any],
                  root: Mapping[str, Any]) -> Iterator[Problem]:
    known: list[str] = []
    patterns: list[str] = []
    for part in in_place(root, schema):
        known.extend(k for k in part.get("properties") or {} if k not in known)
        patterns.extend(part.get("patternProperties") or {})
    for key in instance:
        if key in known or any(re.search(p, key) for p in patterns):
            continue
        yield Problem(path=(*path, key), kind="unknown-key", key=True,
                      message=f"unknown key '{key}'{did_you_mean(key, known)}")


def _expected(schema: Mapping[str, Any]) -> str:
    if schema.get("pattern") in (INT64_PATTERN, UINT64_PATTERN):
        return 'an int64 (digits, best as a string such as "0")'
    kinds = schema.get("type")
    names = [kinds] if isinstance(kinds, str) else list(kinds or [])
    return " or ".join(_TYPE_NAMES.get(k, k) for k in _without_null(names))


def _without_null(names: list[str]) -> list[str]:
    # The protojson null (schemagen/nulls.py) is "unset", not a shape anyone means to write: name the real ones.
    real = [n for n in names if n != "null"]
    return real or names


def _pattern(error: ValidationError, path: JSONPath, instance: Any, schema: Mapping[str, Any]) -> Problem:
    pattern = error.validator_value
    if "propertyNames" in error.schema_path:
        return Problem(path=(*path, instance), kind="pattern", key=True,
                       message=f"key {show(instance)} is not a valid name here (it must match {pattern})")
    if pattern in (INT64_PATTERN, UINT64_PATTERN):
        message = f'{show(instance)} is not an int64: use digits only, such as "0"'
    elif isinstance(schema.get("description"), str):
        wanted = schema["description"].rstrip(".")
        message = f"{show(instance)} is not valid: expected {wanted[:1].lower()}{wanted[1:]}"
    else:
        message = f"{show(instance)} does not match {pattern}"
    return Problem(path=path, kind="pattern", message=message)


def _is_template_branch(branch: Any) -> bool:
    return isinstance(branch, Mapping) and branch.get("$ref") == TEMPLATE_REF


def _required_only(branches: Sequence[Any]) -> bool:
    return all(isinstance(b, Mapping) and set(b) == {"required"} and len(b["required"]) == 1 for b in branches)


def _alternatives(error: ValidationError, path: JSONPath, instance: Any, schema: Mapping[str, Any],
                  root: Mapping[str, Any]) -> Iterator[Problem]:
    branches: Any = error.validator_value
    if error.validator == "oneOf" and _required_only(branches):
        if isinstance(instance, dict):  # otherwise a type error elsewhere says it all
            yield _exactly_one(path, instance, branches, schema)
        return
    if not error.context:
        yield Problem(path=path, kind="one-of", message=f"{show(instance)} matches more than one allowed shape")
        return
    by_branch: dict[int, list[ValidationError]] = {}
    for sub in error.context:
        by_branch.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
    candidates = [i for i, branch in enumerate(branches) if not _is_template_branch(branch)]
    # A branch failing only on `type` at this very value was not what the user meant (e.g. the null of a nullable).
    applicable = [i for i in candidates
                  if not all(e.validator == "type" and not e.relative_path for e in by_branch.get(i, []))]
    if len(applicable) == 1 or (not applicable and len(candidates) == 1):
        for sub in by_branch.get((applicable or candidates)[0], []):
            yield from explain(sub, root)
        return
    if not applicable:
        expected = [_expected(e.schema) for i in candidates for e in by_branch.get(i, []) if e.validator == "type"
                    and isinstance(e.schema, Mapping)]
        yield Problem(path=path, kind="type",
                      message=f"expected {' or '.join(_without_null(list(dict.fromkeys(expected))))}, "
                              f"got {describe(instance)}")
        return
    from jsonschema.exceptions import best_match  # loaded already: an error is being explained

    best = best_match(e for i in applicable for e in by_branch.get(i, []))
    if best is None:
        yield Problem(path=path, kind="one-of", message=error.message)
        return
    yield from explain(best, root)


def _exactly_one(path: JSONPath, instance: dict[str, Any], branches: Sequence[Any],
                 schema: Mapping[str, Any]) -> Problem:
    names = [b["required"][0] for b in branches]
    props = schema.get("properties") or {}
    listed = [n for n in names if not (isinstance(props.get(n), Mapping) and props[n].get("deprecated") is True)]
    found = [n for n in names if n in instance]
    found_text = f"found {len(found)}: {', '.join(found)}" if found else "found none"
    return Problem(path=path, kind="one-of", message=f"set exactly one of {', '.join(listed)} ({found_text})")
