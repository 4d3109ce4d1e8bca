"""Veza's built-in saved queries, as a tenant shows them beside its users' own (`--builtin-queries N`).

`builtin_queries(count, epoch)` returns the first `count` of a fixed list as `Saved` objects: `query_type`
SYSTEM_CREATED (which Veza's SDK skips when it matches names [SDK]), fixed ids (uuid5 of the name), and
`created_at == updated_at` at the sandbox's epoch, which veza-cli-tools reads as "an unedited built-in" [VZ]. Their
names and specs are [assumed]: Veza does not publish its catalogue. Pure.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from runner.sandbox.saved_store import Saved

_NAMESPACE = uuid.UUID("6f3c1a52-9d4e-4b7a-8c21-5e0f7a9b3d10")
# (name, description, source node type, related node type or None)
_CATALOGUE = (
    ("Okta Users", "All Okta users.", "OktaUser", None),
    ("AWS IAM Roles with access to S3 Buckets", "IAM roles that can reach an S3 bucket.", "AwsIamRole", "S3Bucket"),
    ("Snowflake Users", "All Snowflake users.", "SnowflakeUser", None),
    ("Azure AD Users", "All Azure AD users.", "AzureADUser", None),
    ("AWS IAM Users with access to S3 Buckets", "IAM users that can reach an S3 bucket.", "AwsIamUser", "S3Bucket"),
    ("Okta Groups", "All Okta groups.", "OktaGroup", None),
)
MAX_BUILTIN_QUERIES = len(_CATALOGUE)


def builtin_queries(count: int, epoch: datetime) -> list[Saved]:
    stamp = epoch.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    out: list[Saved] = []
    for seq, (name, description, source, related) in enumerate(_CATALOGUE[:count], start=1):
        body = {"name": name, "description": description, "labels": [], "query_type": "SYSTEM_CREATED",
                "source_node_types": {"nodes": [{"node_type": source}]}, "result_value_type": "SOURCE_NODES"}
        if related:
            body["relates_to_exp"] = {"specs": [{"node_types": {"nodes": [{"node_type": related}]}}]}
        out.append(Saved(id=str(uuid.uuid5(_NAMESPACE, name)), seq=seq, body=body, created_at=stamp,
                         updated_at=stamp))
    return out
