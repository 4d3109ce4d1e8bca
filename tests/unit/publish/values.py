"""A `Query` for the publish planner's tests: a fixed spec, any field overridden."""

from __future__ import annotations

from typing import Any

from runner.model import IfAvailable, JSONObject, Query


def query(name: str, **extra: Any) -> Query:
    spec: JSONObject = {"query_type": "SOURCE_TO_DESTINATION",
                        "source_node_types": {"nodes": [{"node_type": "OktaUser"}]}}
    return Query(name=name, file=f"queries/{name}.yaml", spec=spec, cache=IfAvailable(), **extra)
