"""Native (raw) permissions of the sandbox's systems, their effective-permission meaning, and their bit encoding.

Pure data and pure functions, no I/O. A set of raw permissions travels as an int bitmask over `RAW_PERMISSIONS`;
an edge names a `BUNDLES` entry (a realistic grant such as "S3 read-write") by its index.
"""

from __future__ import annotations

from functools import lru_cache

from runner.catalog import EFFECTIVE_PERMISSIONS

_ALL_DATA = ("DATA_READ", "DATA_WRITE", "DATA_CREATE", "DATA_DELETE")
_ALL_METADATA = ("METADATA_READ", "METADATA_WRITE", "METADATA_CREATE", "METADATA_DELETE")

# Native permission -> effective permissions it confers (sandbox mapping; Veza's own tables are richer).
RAW_TO_EFFECTIVE: dict[str, tuple[str, ...]] = {
    "s3:GetObject": ("DATA_READ",),
    "s3:PutObject": ("DATA_WRITE", "DATA_CREATE"),
    "s3:DeleteObject": ("DATA_DELETE",),
    "s3:ListBucket": ("METADATA_READ",),
    "s3:GetBucketPolicy": ("METADATA_READ",),
    "s3:GetBucketAcl": ("METADATA_READ",),
    "s3:PutBucketAcl": ("METADATA_WRITE",),
    "s3:PutBucketPolicy": ("METADATA_WRITE",),
    "s3:CreateBucket": ("METADATA_CREATE",),
    "s3:DeleteBucket": ("METADATA_DELETE",),
    "s3:*": _ALL_DATA + _ALL_METADATA,
    "SELECT": ("DATA_READ",),
    "INSERT": ("DATA_WRITE", "DATA_CREATE"),
    "UPDATE": ("DATA_WRITE",),
    "DELETE": ("DATA_DELETE",),
    "TRUNCATE": ("DATA_DELETE",),
    "REFERENCES": ("METADATA_READ",),
    "OWNERSHIP": _ALL_DATA + _ALL_METADATA,
    "pull": ("DATA_READ", "METADATA_READ"),
    "push": ("DATA_WRITE", "DATA_CREATE"),
    "maintain": ("METADATA_WRITE",),
    "admin": _ALL_DATA + _ALL_METADATA,
    "BROWSE_PROJECTS": ("DATA_READ", "METADATA_READ"),
    "CREATE_ISSUES": ("DATA_CREATE", "DATA_WRITE"),
    "DELETE_ISSUES": ("DATA_DELETE",),
    "ADMINISTER_PROJECTS": _ALL_METADATA,
    "assigned": ("NON_DATA",),
    "license_assigned": ("NON_DATA",),
    # The permissions of the generic OAA apps a project declares (sandbox names; a connector defines its own).
    "Read": ("DATA_READ", "METADATA_READ"),
    "Write": ("DATA_WRITE", "DATA_CREATE"),
    "Delete": ("DATA_DELETE",),
    "Manage": ("METADATA_WRITE", "METADATA_CREATE", "METADATA_DELETE"),
}
RAW_PERMISSIONS: tuple[str, ...] = tuple(RAW_TO_EFFECTIVE)
RAW_BIT: dict[str, int] = {name: 1 << i for i, name in enumerate(RAW_PERMISSIONS)}
EFFECTIVE_BIT: dict[str, int] = {name: 1 << i for i, name in enumerate(EFFECTIVE_PERMISSIONS)}


def raw_mask(names: tuple[str, ...] | list[str]) -> int:
    """The bitmask of known raw permission names; unknown names contribute nothing."""
    mask = 0
    for name in names:
        mask |= RAW_BIT.get(name, 0)
    return mask


# Realistic grants, by system. Edges refer to them by index, so appending is safe and reordering is not.
BUNDLES: tuple[tuple[str, ...], ...] = (
    ("s3:GetObject", "s3:ListBucket"),                                   # 0 S3 read
    ("s3:GetObject", "s3:PutObject", "s3:ListBucket"),                   # 1 S3 read-write
    ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"),  # 2 S3 data owner
    ("s3:*",),                                                           # 3 S3 full
    ("s3:GetBucketPolicy", "s3:PutBucketAcl", "s3:PutBucketPolicy"),     # 4 S3 bucket admin
    ("s3:ListBucket", "s3:GetBucketAcl"),                                # 5 S3 list
    ("SELECT",),                                                         # 6 Snowflake read
    ("SELECT", "INSERT", "UPDATE"),                                      # 7 Snowflake write
    ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE"),                # 8 Snowflake full DML
    ("OWNERSHIP",),                                                      # 9 Snowflake owner
    ("REFERENCES",),                                                     # 10 Snowflake metadata
    ("pull",),                                                           # 11 GitHub read
    ("pull", "push"),                                                    # 12 GitHub write
    ("pull", "push", "maintain"),                                        # 13 GitHub maintain
    ("admin",),                                                          # 14 GitHub admin
    ("BROWSE_PROJECTS",),                                                # 15 Jira browse
    ("BROWSE_PROJECTS", "CREATE_ISSUES"),                                # 16 Jira contributor
    ("BROWSE_PROJECTS", "CREATE_ISSUES", "DELETE_ISSUES", "ADMINISTER_PROJECTS"),  # 17 Jira admin
    ("assigned",),                                                       # 18 Okta app assignment
    ("license_assigned",),                                               # 19 Azure AD license
    (),                                                                  # 20 no permission (structural edge)
    ("Read",),                                                           # 21 OAA Viewer role / Read permission
    ("Read", "Write"),                                                   # 22 OAA Contributor role
    ("Read", "Write", "Delete"),                                         # 23 OAA Maintainer role
    ("Read", "Write", "Delete", "Manage"),                               # 24 OAA Admin role
    ("Write",),                                                          # 25 OAA Write permission
    ("Delete",),                                                         # 26 OAA Delete permission
    ("Manage",),                                                         # 27 OAA Manage permission
)
NO_PERMISSION = 20
BUNDLE_MASKS: tuple[int, ...] = tuple(raw_mask(bundle) for bundle in BUNDLES)
S3_BUNDLES = (0, 1, 2, 3, 4, 5)
SNOWFLAKE_BUNDLES = (6, 7, 8, 9, 10)
GITHUB_BUNDLES = (11, 12, 13, 14)
JIRA_BUNDLES = (15, 16, 17)
OKTA_APP_BUNDLE = 18
AZURE_LICENSE_BUNDLE = 19
OAA_ROLE_BUNDLES = (21, 22, 23, 24)  # Viewer, Contributor, Maintainer, Admin
OAA_PERMISSION_BUNDLES = (21, 25, 26, 27)  # Read, Write, Delete, Manage


@lru_cache(maxsize=4096)
def effective_mask(raw: int) -> int:
    """The effective-permission bitmask conferred by a raw-permission bitmask."""
    mask = 0
    for name, bit in RAW_BIT.items():
        if raw & bit:
            for effective in RAW_TO_EFFECTIVE[name]:
                mask |= EFFECTIVE_BIT[effective]
    return mask


@lru_cache(maxsize=4096)
def raw_names(raw: int) -> tuple[str, ...]:
    """The raw permission names of a bitmask, in table order."""
    return tuple(name for name, bit in RAW_BIT.items() if raw & bit)


@lru_cache(maxsize=4096)
def effective_names(raw: int) -> tuple[str, ...]:
    """The effective permission names conferred by a raw bitmask, in catalog order."""
    mask = effective_mask(raw)
    return tuple(name for name, bit in EFFECTIVE_BIT.items() if mask & bit)
