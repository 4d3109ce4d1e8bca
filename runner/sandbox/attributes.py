"""Deterministic node attributes of the generated company: properties and tags from (seed, type, ordinal).

Pure functions, no I/O, no stored state per node: each attribute comes from a 64-bit hash of (seed, salt,
ordinal), so a million nodes cost no memory until a property is read. Timestamps are RFC 3339 strings relative to
the graph's `now`. Linked accounts (Snowflake, Azure AD...) share the name of the Okta user they belong to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from runner.model import JSONValue
from runner.sandbox.graph import Tag
from runner.sandbox.vocab import (
    AZURE_GROUPS,
    AZURE_SKUS,
    CLASSIFICATIONS,
    DEPARTMENTS,
    OKTA_APPS,
    OKTA_STATUSES,
    RISK_LEVELS,
    ROLE_NAMES,
    SANDBOX_ACCOUNTS,
    SF_ROLE_NAMES,
    TITLES,
    WORDS,
    Person,
    person,
)

_M64 = (1 << 64) - 1


def mix(seed: int, salt: int, ordinal: int) -> int:
    """A well-spread 64-bit hash (splitmix64 finaliser) of three ints."""
    x = (ordinal * 0x9E3779B97F4A7C15 + seed * 0xD1B54A32D192ED03 + salt * 0x8CB92BA72F3D8DD7 + 1) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


def weighted(choices: tuple[tuple[str, int], ...], draw: int) -> str:
    total = sum(weight for _, weight in choices)
    point = draw % total
    for value, weight in choices:
        if point < weight:
            return value
        point -= weight
    return choices[-1][0]


@dataclass(frozen=True, kw_only=True)
class Company:
    """Derives the attributes of every node of a generated company; `counts` is the size of each type's block."""

    seed: int
    now: datetime
    counts: Mapping[str, int]
    link_shift: Mapping[str, int]  # system type -> shift of its Okta link (see `okta_ordinal_of`)

    # --- shared structure (the generator uses these too, so edges and properties agree) -------------------------
    def okta_status(self, ordinal: int) -> str:
        return weighted(OKTA_STATUSES, mix(self.seed, 1, ordinal))

    def department(self, ordinal: int) -> int:
        return mix(self.seed, 2, ordinal) % len(DEPARTMENTS)

    def linked_count(self, system: str) -> int:
        n = self.counts.get(system, 0)
        share = n - n // 10 if system == "AzureADUser" else n  # the last tenth of Azure AD users are guests
        return min(share, self.counts.get("OktaUser", 0))

    def okta_ordinal_of(self, system: str, ordinal: int) -> int | None:
        """The Okta user a system account is linked to (None: a local or guest account)."""
        if ordinal >= self.linked_count(system):
            return None
        return (ordinal + self.link_shift[system]) % self.counts["OktaUser"]

    def account_of(self, ordinal: int) -> int:
        return ordinal % max(1, self.counts.get("AwsAccount", 1))

    def account_id(self, account: int) -> str:
        if account < len(SANDBOX_ACCOUNTS):
            return SANDBOX_ACCOUNTS[account]
        return f"{300000000000 + (account * 7919 + self.seed * 104729) % 600000000000:012d}"

    def full_admin(self, ordinal: int) -> bool:
        return mix(self.seed, 3, ordinal) % 100 < 3

    # --- timestamps ----------------------------------------------------------------------------------------------
    def ago(self, days: float) -> str:
        # isoformat is much faster than strftime; `now` is whole seconds in UTC and offsets are whole minutes.
        return (self.now - timedelta(days=days)).isoformat()[:19] + "Z"

    def _days(self, salt: int, ordinal: int, low: int, high: int) -> float:
        return low + (mix(self.seed, salt, ordinal) % ((high - low) * 1440)) / 1440

    # --- properties ----------------------------------------------------------------------------------------------
    def properties(self, type_name: str, ordinal: int) -> dict[str, JSONValue]:
        h = mix(self.seed, 10 + len(type_name), ordinal)
        props: dict[str, JSONValue] = {
            "datasource_id": f"ds-{type_name.split('.')[0].lower()}-{self.seed}",
            "provider_id": f"prov-{type_name.lower()}",
            "created_at": self.ago(self._days(4, ordinal, 30, 2000)),
            "risk_level": weighted(RISK_LEVELS, h >> 20),
        }
        derive = getattr(self, "_" + type_name.replace(".", "_").lower(), None)
        if derive is not None:
            derive(props, ordinal, h)
        props.setdefault("native_id", props.get("name"))
        props.setdefault("idp_unique_id", None)
        return props

    def _person_of(self, system: str, ordinal: int, salt: int) -> Person:
        okta = self.okta_ordinal_of(system, ordinal) if system in self.link_shift else None
        if okta is not None:
            return person(okta)
        return person(self.counts.get("OktaUser", 0) + ordinal * 3 + salt)

    def _oktauser(self, p: dict[str, JSONValue], o: int, h: int) -> None:
        who, status = person(o), self.okta_status(o)
        p.update(name=who.name, email=who.email, login=who.email, status=status, is_active=status == "ACTIVE",
                 department=DEPARTMENTS[self.department(o)], title=TITLES[(h >> 8) % len(TITLES)],
                 idp_unique_id=who.email)
        if status == "STAGED":
            p["last_login_at"] = None
        elif status == "ACTIVE":
            stale = (h >> 12) % 100 < 15
            p["last_login_at"] = self.ago(self._days(5, o, 91, 400) if stale else self._days(5, o, 0, 60))
        else:
            p["last_login_at"] = self.ago(self._days(5, o, 60, 700))

    def _oktagroup(self, p: dict[str, JSONValue], o: int, h: int) -> None:
        name = group_name(o)
        p.update(name=name, description=f"{name} members", group_type="OKTA_GROUP" if h % 5 else "APP_GROUP",
                 member_count=(h >> 8) % 200)

    def _oktaapp(self, p: dict[str, JSONValue], o: int, h: int) -> None:
        label = OKTA_APPS[o % len(OKTA_APPS)] + (f" {o // len(OKTA_APPS)}" if o >= len(OKTA_APPS) else "")
        p.update(name=label, label=label, status="ACTIVE" if h % 10 else "INACTIVE",
                 sign_on_mode="SAML_2_0" if h % 3 else "OPENID_CONNECT")

    def _awsaccount(self, p: dict[str, JSONValue], o: int, h: int) -> None:
        p.update(name=f"acme-{WORDS[o % len(WORDS)]}-{o}", account_id=self.account_id(o), is_active=True)

    def _awsiamuser(self, p: dict[str, JSONValue], o: int, h: int) -> None:
        account = self.account_id(self.account_of(o))
        name = self._person_of("AwsIamUser", o, 1).handle if h % 4 else f"svc-{WORDS[(h >> 4) % len(WORDS)]}-{o}"
        admin = self.full_admin(o)
        p.update(name=name, aws_account_id=account, arn=f"arn:aws:iam::{account}:user/{name}", full_admin=admin,
                 root=o < self.counts.get("AwsAccount", 0), is_active=(h >> 8) % 100 < 90,
                 risk_score=(h >> 16) % 100, mfa_enabled=(h >> 24) % 100 < 75,
                 last_used_at=self.ago(self._days(6, o, 0, 365)))
        if admin:
            p["risk_level"] = "CRITICAL"

    def _awsiamrole(self, p: dict[str, JSONValue], o: int, h: int) -> None:
        account = self.account_id(self.account_of(o))
        name = f"{ROLE_NAMES[o % len(ROLE_NAMES)]}-{o}"
        p.update(name=name, aws_account_id=account, arn=f"arn:aws:iam::{account}:role/{name}",
                 trusted_identities=["arn:aws:iam::saml-provider/Okta"] if h % 3 else [f"arn:aws:iam::{account}:root"],
                 last_used_at=self.ago(self._days(7, o, 0, 300)))

    def _awsiamgroup(self, p: dict[str, JSONValue], o: int, h: int) -> None:
        account = self.account_id(self.account_of(o))
        name = f"{DEPARTMENTS[o % len(DEPARTMENTS)].lower()}-{o}"
        p.update(name=name, aws_account_id=account, arn=f"arn:aws:iam::{account}:group/{name}")

    def _awsiampolicy(self, p: dict[str, JSONValue], o: int, h: int) -> None:
        admin = o < self.counts.get("AwsAccount", 0)
        name = "AdministratorAccess" if admin else f"{WORDS[o % len(WORDS)]}-access-{o}"
        account = self.account_id(self.account_of(o))
        p.update(name=name, arn=f"arn:aws:iam::{account}:policy/{name}-{o}", is_aws_managed=admin,
                 policy_type="MANAGED" if admin or h % 3 else "INLINE")

    def _s3bucket(self, p: dict[str, JSONValue], o: int, h: int) -> None:
        name = bucket_name(o)
        blocked = (h >> 8) % 100 < 80
        p.update(name=name, aws_account_id=self.account_id(self.account_of(o)), block_public_acls=blocked,
                 block_public_access_enabled=blocked and (h >> 16) % 100 < 90,
                 object_lock_enabled=(h >> 24) % 100 < 20, data_classification=weighted(CLASSIFICATIONS, h >> 32),
                 region=("us-east-1", "us-west-2", "eu-west-1", "eu-central-1")[(h >> 40) % 4])

    def _s3bucketpolicystatement(self, p: dict[str, JSONValue], o: int, h: int) -> None:
        buckets = max(1, self.counts.get("S3Bucket", 1))
        p.update(name=f"stmt-{o}", effect="Allow" if h % 10 else "Deny", bucket_name=bucket_name(o % buckets))

    def _snowflakeuser(self, p: dict[str, JSONValue], o: int, h: int) -> None:
        who = self._person_of("SnowflakeUser", o, 2)
        p.update(name=who.handle.upper(), login_name=who.handle.upper(), email=who.email,
                 disabled=(h >> 8) % 100 < 8, has_password=(h >> 16) % 100 < 35, ext_authn_duo=(h >> 24) % 100 < 50,
                 last_login_at=self.ago(self._days(8, o, 0, 200)))

    def _snowflakerole(self, p: dict[str, JSONValue], o: int, h: int) -> None:
        base = SF_ROLE_NAMES[o % len(SF_ROLE_NAMES)]
        p.update(name=base if o < len(SF_ROLE_NAMES) else f"{base}_{o}", is_default=o < 3, owner="SECURITYADMIN")

    def _snowflaketable(self, p: dict[str, JSONValue], o: int, h: int) -> None:
        database = ("PROD", "ANALYTICS", "RAW", "FINANCE")[h % 4]
        schema = ("PUBLIC", "CORE", "STAGING", "REPORTING")[(h >> 4) % 4]
        table = f"{WORDS[(h >> 8) % len(WORDS)].upper()}_{o}"
        p.update(name=table, database=database, schema=schema, row_count=(h >> 16) % 10_000_000,
                 data_classification=weighted(CLASSIFICATIONS, h >> 40))

    def _azureaduser(self, p: dict[str, JSONValue], o: int, h: int) -> None:
        total = self.counts.get("AzureADUser", 0)
        guest = o >= total - total // 10
        who = self._person_of("AzureADUser", o, 3)
        upn = f"{who.handle}_partner.example#EXT#@acme.onmicrosoft.com" if guest else who.email
        p.update(name=who.name, email=who.email if not guest else f"{who.handle}@partner.example",
                 user_principal_name=upn, account_enabled=(h >> 8) % 100 < 88, user_type="Guest" if guest else "Member",
                 last_login_at=self.ago(self._days(9, o, 0, 250)))

    def _azureadgroup(self, p: dict[str, JSONValue], o: int, h: int) -> None:
        name = AZURE_GROUPS[o] if o < len(AZURE_GROUPS) else f"{DEPARTMENTS[o % len(DEPARTMENTS)]} Team {o}"
        p.update(name=name, description=f"{name} (Azure AD)", security_enabled=h % 4 != 0, mail_enabled=h % 3 == 0)

    def _azureadlicense(self, p: dict[str, JSONValue], o: int, h: int) -> None:
        sku = AZURE_SKUS[o % len(AZURE_SKUS)]
        p.update(name=sku if o < len(AZURE_SKUS) else f"{sku}_{o}", sku_part_number=sku)

    def _activedirectoryuser(self, p: dict[str, JSONValue], o: int, h: int) -> None:
        who = self._person_of("ActiveDirectoryUser", o, 4)
        p.update(name=who.name, email=who.email, account_enabled=(h >> 8) % 100 < 90,
                 last_logon_at=self.ago(self._days(10, o, 0, 300)))

    def _activedirectorygroup(self, p: dict[str, JSONValue], o: int, h: int) -> None:
        p.update(name=f"GG-{DEPARTMENTS[o % len(DEPARTMENTS)]}-{o}", description="Global security group")

    def _googleworkspaceuser(self, p: dict[str, JSONValue], o: int, h: int) -> None:
        who = self._person_of("GoogleWorkspaceUser", o, 5)
        p.update(name=who.name, email=who.email, is_admin=(h >> 8) % 100 < 3, suspended=(h >> 16) % 100 < 7,
                 last_login_at=self.ago(self._days(11, o, 0, 120)))

    # OAA entities carry `application_type` (and resources `resource_type`): what legacy Custom* types filter on.
    def _oaa_github_user(self, p: dict[str, JSONValue], o: int, h: int) -> None:
        who = self._person_of("OAA.Github.User", o, 6)
        p.update(name=who.handle.replace(".", "-"), email=who.email, is_active=(h >> 8) % 100 < 92,
                 customprop_site_admin=(h >> 16) % 100 < 4, application_type="Github")

    def _oaa_github_repository_resource(self, p: dict[str, JSONValue], o: int, h: int) -> None:
        p.update(name=f"acme/{WORDS[o % len(WORDS)]}-{o}", visibility=("private", "internal", "public")[h % 3],
                 customprop_default_branch="main" if h % 5 else "master", application_type="Github",
                 resource_type="repository")

    def _oaa_jira_user(self, p: dict[str, JSONValue], o: int, h: int) -> None:
        who = self._person_of("OAA.Jira.User", o, 7)
        p.update(name=who.name, email=who.email, is_active=(h >> 8) % 100 < 90, application_type="Jira")

    def _oaa_jira_project_resource(self, p: dict[str, JSONValue], o: int, h: int) -> None:
        key = f"{WORDS[o % len(WORDS)][:3].upper()}{o}"
        p.update(name=f"{WORDS[o % len(WORDS)].title()} {o}", customprop_project_key=key, application_type="Jira",
                 resource_type="project")

    # --- tags ----------------------------------------------------------------------------------------------------
    def tags(self, type_name: str, ordinal: int) -> tuple[Tag, ...]:
        if type_name == "S3Bucket":
            h = mix(self.seed, 10 + len(type_name), ordinal)
            return (Tag(type="AWS", key="env", value=("prod", "staging", "dev")[(h >> 48) % 3]),
                    Tag(type="AWS", key="data_classification", value=weighted(CLASSIFICATIONS, h >> 32)))
        if type_name == "SnowflakeTable":
            h = mix(self.seed, 10 + len(type_name), ordinal)
            category = ("PII", "FINANCIAL", "NONE", "NONE", "PII", "OPERATIONAL")[(h >> 52) % 6]
            return (Tag(type="SNOWFLAKE", key="data_category", value=category),
                    Tag(type="SNOWFLAKE", key="data_classification", value=weighted(CLASSIFICATIONS, h >> 40)))
        if type_name == "AwsIamRole" and ordinal % len(ROLE_NAMES) == 0:
            return (Tag(type="VEZA", key="privileged", value="true"),)
        return ()


OKTA_GROUPS = ("Everyone", "aws-prod-admins", "aws-data-engineers", "aws-readonly", "snowflake-analysts",
               "snowflake-accountadmins", "github-maintainers", "contractors")


def group_name(ordinal: int) -> str:
    """Okta group names: the department groups first, then named groups, then numbered teams."""
    if ordinal < len(DEPARTMENTS):
        return DEPARTMENTS[ordinal]
    if ordinal < len(DEPARTMENTS) + len(OKTA_GROUPS):
        return OKTA_GROUPS[ordinal - len(DEPARTMENTS)]
    return f"team-{WORDS[ordinal % len(WORDS)]}-{ordinal}"


def bucket_name(ordinal: int) -> str:
    return f"acme-{WORDS[ordinal % len(WORDS)]}-{('prod', 'staging', 'dev')[ordinal % 3]}-{ordinal}"
