"""Integer values of the spec's enums, one table for the wire layer and the engine. Pure data.

Only `query_type`'s numbering is documented [doc]; the others are [assumed]: the declaration order of
schemas/openapi/veza-query-api.yaml, with the sandbox's extra `NOT_IN` appended to `fn`. They only matter to
clients that send integers; replies always carry names.
"""

from __future__ import annotations

from runner.catalog import EFFECTIVE_PERMISSIONS

ENUM_NUMBERS: dict[str, tuple[str, ...]] = {
    "query_type": ("SYSTEM_CREATED", "SOURCE_TO_DESTINATION", "DESTINATION_NODES"),
    "node_relationship_type": ("EFFECTIVE_ACCESS", "CONFIGURED"),
    "result_value_type": ("SOURCE_NODES", "SOURCE_NODES_WITH_COUNTS", "DESTINATION_NODES",
                          "SOURCE_AND_DESTINATION_NODES"),
    "operator": ("AND", "OR"),
    "nodes_operator": ("AND", "OR"),
    "fn": ("EQ", "NEQ", "LT", "LTE", "GT", "GTE", "IN", "CONTAINS", "STARTS_WITH", "ENDS_WITH", "NOT_IN"),
    "direction": ("ANY_DIRECTION",),
}
# Inside a permissions object (`effective_permissions: {values: [...]}`), numbered in the catalog's order.
EFFECTIVE_PERMISSIONS_NUMBERS: tuple[str, ...] = EFFECTIVE_PERMISSIONS
