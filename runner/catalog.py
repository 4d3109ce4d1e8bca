"""The node-type catalog: names the linter accepts without a warning, and the sandbox's universe of types.

Pure data, no I/O. Sources: Veza's public documentation and SDK (veza-api.md §7) and the embedded sandbox's
generated graph. A project extends it with a `node_types:` list in `vqr.yaml`. Veza has many more types than this;
an unknown type is therefore a warning with the closest known name, never an error.
"""

from __future__ import annotations

# Groupings Veza accepts wherever a node type is expected (veza-api.md §7).
GROUPINGS: frozenset[str] = frozenset({"User", "Resource", "Identity", "ServiceAccount"})

# Concrete types, with the properties the sandbox generates and the linter knows (veza-api.md §7, [doc]/[seen]).
COMMON_PROPERTIES: tuple[str, ...] = ("id", "name", "datasource_id", "provider_id", "native_id", "idp_unique_id",
                                      "created_at", "risk_level")

NODE_TYPES: dict[str, tuple[str, ...]] = {
    "OktaUser": ("email", "login", "status", "is_active", "last_login_at", "department", "title"),
    "OktaGroup": ("description", "group_type", "member_count"),
    "OktaApp": ("label", "status", "sign_on_mode"),
    "AwsAccount": ("account_id", "is_active"),
    "AwsIamUser": ("aws_account_id", "arn", "full_admin", "root", "is_active", "risk_score", "last_used_at",
                   "mfa_enabled"),
    "AwsIamRole": ("arn", "aws_account_id", "trusted_identities", "last_used_at"),
    "AwsIamGroup": ("arn", "aws_account_id"),
    "AwsIamPolicy": ("arn", "policy_type", "is_aws_managed"),
    "S3Bucket": ("aws_account_id", "block_public_acls", "block_public_access_enabled", "object_lock_enabled",
                 "data_classification", "region"),
    "S3BucketPolicyStatement": ("effect", "bucket_name"),
    "SnowflakeUser": ("email", "login_name", "disabled", "last_login_at", "has_password", "ext_authn_duo"),
    "SnowflakeRole": ("is_default", "owner"),
    "SnowflakeTable": ("database", "schema", "row_count", "data_classification"),
    "AzureADUser": ("email", "user_principal_name", "account_enabled", "user_type", "last_login_at"),
    "AzureADGroup": ("description", "security_enabled", "mail_enabled"),
    "AzureADLicense": ("sku_part_number",),
    "ActiveDirectoryUser": ("email", "account_enabled", "last_logon_at"),
    "ActiveDirectoryGroup": ("description",),
    "GoogleWorkspaceUser": ("email", "is_admin", "suspended", "last_login_at"),
    "OAA.Github.User": ("email", "is_active", "customprop_site_admin"),
    "OAA.Github.Repository": ("visibility", "customprop_default_branch"),
    "OAA.Jira.User": ("email", "is_active"),
    "OAA.Jira.Project": ("customprop_project_key",),
}

# Which concrete types each grouping stands for (sandbox semantics; Veza's exact membership is [assumed]).
GROUPING_MEMBERS: dict[str, frozenset[str]] = {
    "User": frozenset({"OktaUser", "AwsIamUser", "SnowflakeUser", "AzureADUser", "ActiveDirectoryUser",
                       "GoogleWorkspaceUser", "OAA.Github.User", "OAA.Jira.User"}),
    "Identity": frozenset({"OktaUser", "AwsIamUser", "AwsIamRole", "SnowflakeUser", "AzureADUser",
                           "ActiveDirectoryUser", "GoogleWorkspaceUser", "OAA.Github.User", "OAA.Jira.User"}),
    "ServiceAccount": frozenset({"AwsIamRole"}),
    "Resource": frozenset({"S3Bucket", "SnowflakeTable", "OAA.Github.Repository", "OAA.Jira.Project", "OktaApp"}),
}

EFFECTIVE_PERMISSIONS: tuple[str, ...] = (
    "DATA_READ", "DATA_WRITE", "DATA_CREATE", "DATA_DELETE",
    "METADATA_READ", "METADATA_WRITE", "METADATA_CREATE", "METADATA_DELETE",
    "NON_DATA", "UNCATEGORIZED",
)


def known_node_types(extra: frozenset[str] = frozenset()) -> frozenset[str]:
    """Every name accepted as a `node_type` without a warning: concrete types, groupings, and project extras."""
    return frozenset(NODE_TYPES) | GROUPINGS | extra


def properties_of(node_type: str) -> frozenset[str]:
    """The properties known for a concrete type (common ones included); empty for unknown types."""
    own = NODE_TYPES.get(node_type)
    if own is None:
        return frozenset()
    return frozenset(own) | frozenset(COMMON_PROPERTIES)
