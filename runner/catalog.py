"""The node-type catalog: names the linter accepts without a warning, and the sandbox's universe of types.

Pure data and name parsing, no I/O. Sources: Veza's public documentation and SDK (veza-api.md §7) and the embedded
sandbox's generated graph. A project extends it with a `node_types:` list in `vqr.yaml`; listing any well-formed
`OAA.<App>.…` type there declares the app <App>. An unknown type is a warning with the closest name, never an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

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
    "OAA.Github.User": ("email", "is_active", "application_type", "customprop_site_admin"),
    "OAA.Github.repository.Resource": ("visibility", "application_type", "resource_type",
                                       "customprop_default_branch"),
    "OAA.Jira.User": ("email", "is_active", "application_type"),
    "OAA.Jira.project.Resource": ("application_type", "resource_type", "customprop_project_key"),
}

# Which concrete types each grouping stands for (sandbox semantics; Veza's exact membership is [assumed]). The
# sandbox adds the matching types of the OAA apps it generates (User, Identity: `.User`; Resource: resources).
GROUPING_MEMBERS: dict[str, frozenset[str]] = {
    "User": frozenset({"OktaUser", "AwsIamUser", "SnowflakeUser", "AzureADUser", "ActiveDirectoryUser",
                       "GoogleWorkspaceUser", "OAA.Github.User", "OAA.Jira.User"}),
    "Identity": frozenset({"OktaUser", "AwsIamUser", "AwsIamRole", "SnowflakeUser", "AzureADUser",
                           "ActiveDirectoryUser", "GoogleWorkspaceUser", "OAA.Github.User", "OAA.Jira.User"}),
    "ServiceAccount": frozenset({"AwsIamRole"}),
    "Resource": frozenset({"S3Bucket", "SnowflakeTable", "OAA.Github.repository.Resource",
                           "OAA.Jira.project.Resource", "OktaApp"}),
}

EFFECTIVE_PERMISSIONS: tuple[str, ...] = (
    "DATA_READ", "DATA_WRITE", "DATA_CREATE", "DATA_DELETE",
    "METADATA_READ", "METADATA_WRITE", "METADATA_CREATE", "METADATA_DELETE",
    "NON_DATA", "UNCATEGORIZED",
)

# --- OAA (Open Authorization API) types: veza-api.md §7 ------------------------------------------------------------
# `OAA.<App>.<kind>` for the app's own entities, `OAA.<App>.<resource_type>.<kind>` for its resources; the resource
# type keeps the connector's case (`OAA.Github.repository.Resource`, `OAA.Bitbucket.Repo.SubResource`) [VZ]. `.Role`
# is [assumed]. Segments are identifiers: letters, digits, `_` and `-` [assumed].
OAA_ENTITY_KINDS: tuple[str, ...] = ("User", "Group", "Role", "Permission", "Application")
OAA_RESOURCE_KINDS: tuple[str, ...] = ("Resource", "SubResource")
OAA_RULE = "OAA.<App>.User|Group|Role|Permission|Application or OAA.<App>.<resource_type>.Resource|SubResource"
_SEGMENT = r"[A-Za-z0-9][A-Za-z0-9_-]*"
_OAA = re.compile(rf"OAA\.({_SEGMENT})\.(?:({'|'.join(OAA_ENTITY_KINDS)})"
                  rf"|({_SEGMENT})\.({'|'.join(OAA_RESOURCE_KINDS)}))")

# Legacy types, before 2023-10 [VZ commit c61f880]: one type per kind for every app, narrowed by conditions on the
# `application_type` / `resource_type` properties. Name -> the OAA kind it stands for.
LEGACY_TYPES: dict[str, str] = {"CustomUser": "User", "CustomResource": "Resource",
                                "CustomSubResource": "SubResource", "CustomPermission": "Permission",
                                "CustomApplication": "Application"}


@dataclass(frozen=True, kw_only=True, slots=True)
class OaaName:
    """A well-formed OAA type name, parsed: `resource_type` is None for the app's own entities."""

    app: str
    kind: str
    resource_type: str | None = None

    @property
    def name(self) -> str:
        middle = f".{self.resource_type}" if self.resource_type is not None else ""
        return f"OAA.{self.app}{middle}.{self.kind}"


def parse_oaa(name: str) -> OaaName | None:
    """The parts of a well-formed OAA type name, or None (not an OAA name, or a malformed one)."""
    match = _OAA.fullmatch(name)
    if match is None:
        return None
    app, entity, resource_type, resource_kind = match.groups()
    if entity is not None:
        return OaaName(app=app, kind=entity)
    return OaaName(app=app, kind=resource_kind, resource_type=resource_type)


def is_oaa_like(name: str) -> bool:
    """Whether a name claims to be an OAA type (well-formed or not): it starts with `OAA.`."""
    return name.startswith("OAA.")


def oaa_apps(names: Iterable[str]) -> frozenset[str]:
    """The OAA apps declared by a list of type names: every app that one well-formed name mentions."""
    return frozenset(parsed.app for name in names if (parsed := parse_oaa(name)) is not None)


def legacy_replacement(name: str, application_type: str | None = None, resource_type: str | None = None) -> str:
    """The modern form of a legacy `Custom*` type, filled in with the spec's `application_type` / `resource_type`
    when it names them (placeholders otherwise)."""
    kind = LEGACY_TYPES[name]
    app = application_type or "<App>"
    if kind in OAA_RESOURCE_KINDS:
        return f"OAA.{app}.{resource_type or '<resource_type>'}.{kind}"
    return f"OAA.{app}.{kind}"


def known_node_types(extra: frozenset[str] = frozenset()) -> frozenset[str]:
    """Every name accepted as a `node_type` without a warning: concrete types, groupings, and project extras."""
    return frozenset(NODE_TYPES) | GROUPINGS | extra


def properties_of(node_type: str) -> frozenset[str]:
    """The properties known for a concrete type (common ones included); empty for unknown types."""
    own = NODE_TYPES.get(node_type)
    if own is None:
        return frozenset()
    return frozenset(own) | frozenset(COMMON_PROPERTIES)
