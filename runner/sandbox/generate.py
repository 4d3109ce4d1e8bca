"""Builds the sandbox's deterministic company graph, and drifts it (`advance_graph`) so runs can see change.

`generate_graph(nodes=, seed=, oaa=)` is a pure function of its arguments (timestamps are relative to `now`): type
sizes follow fixed proportions, ids and attributes come from `attributes.Company`, edges from one seeded random
stream; the OAA apps named by `oaa` are appended after it (`oaa.py`). No I/O. The shape: README, "The embedded sandbox".
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from runner.sandbox import permissions as perms
from runner.sandbox.attributes import OKTA_GROUPS, Company, bucket_name, mix
from runner.sandbox.drift import AdvanceSummary, advance_graph
from runner.sandbox.graph import AttributeSource, EdgeKind, Graph, encode_edge
from runner.sandbox.oaa import MAX_TYPES, OaaAttributes, app_counts, build_app_edges, plan_apps
from runner.sandbox.vocab import AZURE_GROUPS, DEPARTMENTS, ROLE_NAMES

__all__ = ["AdvanceSummary", "advance_graph", "generate_graph", "node_id", "plan_counts"]

# Relative sizes of the blocks (per ~9,400 nodes); every type gets at least its minimum.
WEIGHTS: dict[str, tuple[int, int]] = {  # type -> (weight, minimum)
    "OktaUser": (2200, 20), "OktaGroup": (150, 20), "OktaApp": (30, 10),
    "AwsAccount": (6, 2), "AwsIamUser": (400, 6), "AwsIamRole": (350, 12), "AwsIamGroup": (60, 3),
    "AwsIamPolicy": (300, 8), "S3Bucket": (400, 6), "S3BucketPolicyStatement": (300, 6),
    "SnowflakeUser": (700, 6), "SnowflakeRole": (120, 10), "SnowflakeTable": (1200, 10),
    "AzureADUser": (1300, 10), "AzureADGroup": (150, 8), "AzureADLicense": (10, 8),
    "ActiveDirectoryUser": (300, 4), "ActiveDirectoryGroup": (40, 2), "GoogleWorkspaceUser": (300, 4),
    "OAA.Github.User": (400, 4), "OAA.Github.repository.Resource": (400, 4), "OAA.Jira.User": (250, 4),
    "OAA.Jira.project.Resource": (50, 2),
}
LINKED = ("SnowflakeUser", "AzureADUser", "ActiveDirectoryUser", "GoogleWorkspaceUser", "OAA.Github.User",
          "OAA.Jira.User")
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_M64 = (1 << 64) - 1


def plan_counts(nodes: int) -> dict[str, int]:
    """Block sizes: proportional to WEIGHTS, at least each minimum, Okta users absorbing the rounding."""
    total_weight = sum(weight for weight, _ in WEIGHTS.values())
    counts = {name: max(minimum, nodes * weight // total_weight) for name, (weight, minimum) in WEIGHTS.items()}
    counts["OktaUser"] = max(WEIGHTS["OktaUser"][1], counts["OktaUser"] + nodes - sum(counts.values()))
    return counts


def _okta_id(prefix: str, seed: int, ordinal: int) -> str:
    x = (ordinal * 0x9E3779B97F4A7C15 + seed * 0x632BE59BD9B4E019) & _M64  # a bijection of the ordinal
    code = []
    for _ in range(11):
        x, digit = divmod(x, 62)
        code.append(_B62[digit])
    return prefix + "".join(code) + "697"


def _guid(seed: int, salt: int, ordinal: int) -> str:
    h = mix(seed, salt, ordinal)
    return f"{h >> 32:08x}-{salt:04x}-4{(h >> 20) & 0xFFF:03x}-a{(h >> 8) & 0xFFF:03x}-{ordinal:012x}"


def node_id(company: Company, type_name: str, o: int) -> str:
    """The id of a node as Veza shows it: Okta ids, ARNs, GUIDs, SIDs... unique across the graph."""
    seed = company.seed
    simple: dict[str, Callable[[], str]] = {
        "OktaUser": lambda: _okta_id("00u", seed, o), "OktaGroup": lambda: _okta_id("00g", seed, o),
        "OktaApp": lambda: _okta_id("0oa", seed, o), "AwsAccount": lambda: company.account_id(o),
        "S3Bucket": lambda: f"arn:aws:s3:::{bucket_name(o)}",
        "AzureADUser": lambda: _guid(seed, 1, o), "AzureADGroup": lambda: _guid(seed, 2, o),
        "AzureADLicense": lambda: _guid(seed, 3, o),
        "ActiveDirectoryUser": lambda: f"S-1-5-21-{seed}-{1000 + 2 * o}",
        "ActiveDirectoryGroup": lambda: f"S-1-5-21-{seed}-{1001 + 2 * o}",
        "GoogleWorkspaceUser": lambda: f"1{(o * 7919 + seed) % 10**20:020d}",
    }
    if type_name in simple:
        return simple[type_name]()
    props = company.properties(type_name, o)
    if type_name.startswith("AwsIam"):
        return str(props["arn"])
    if type_name == "S3BucketPolicyStatement":
        return f"arn:aws:s3:::{props['bucket_name']}/statement/{o}"
    if type_name.startswith("Snowflake"):
        kind = type_name.removeprefix("Snowflake").lower()
        if kind == "table":
            return f"acme.snowflakecomputing.com/table/{props['database']}.{props['schema']}.{props['name']}"
        return f"acme.snowflakecomputing.com/{kind}/{props['name']}"
    if type_name == "OAA.Jira.project.Resource":
        return f"jira:project:{props['customprop_project_key']}"
    return f"{type_name.removeprefix('OAA.').removesuffix('.Resource').lower().replace('.', ':')}:{props['name']}"


def generate_graph(*, nodes: int = 5000, seed: int = 7, now: datetime | None = None,
                   oaa: Iterable[str] = ()) -> Graph:
    """A company of about `nodes` nodes (exactly, from a few hundred up); same arguments, same graph.

    `oaa` names OAA types (`OAA.Acme.User`, `OAA.Acme.document.Resource`...): each app they mention, other than the
    built-in Github and Jira, is generated on top of the `nodes` (its size follows `nodes`), without changing them.
    """
    moment = (now or datetime.now(UTC)).replace(microsecond=0)
    counts = plan_counts(nodes)
    blocks: dict[str, range] = {}
    start = 0
    for name in WEIGHTS:
        blocks[name] = range(start, start + counts[name])
        start += counts[name]
    shifts = {system: counts["OktaUser"] * (k + 1) // (len(LINKED) + 1) for k, system in enumerate(LINKED)}
    company = Company(seed=seed, now=moment, counts=counts, link_shift=shifts)
    ids = [node_id(company, name, o) for name in WEIGHTS for o in range(counts[name])]
    apps = plan_apps(oaa)
    extra = {name: size for plan in apps for name, size in app_counts(plan, nodes).items()}
    if len(WEIGHTS) + len(extra) > MAX_TYPES:
        raise ValueError(f"too many OAA types to generate ({len(extra)}; at most {MAX_TYPES - len(WEIGHTS)})")
    attributes = OaaAttributes(company, apps, extra)
    for name, size in extra.items():
        blocks[name] = range(start, start + size)
        ids.extend(attributes.node_id(name, o) for o in range(size))
        start += size
    out: list[list[int]] = [[] for _ in range(start)]
    rng = random.Random(f"vqr-graph:{seed}:{nodes}")  # noqa: S311  (reproducible, not secret)
    _Builder(company, blocks, out, rng).build()
    for plan in apps:  # after the company, each with its own random stream: the company is the same with or without
        build_app_edges(plan, attributes=attributes, blocks=blocks, out=out, seed=seed, nodes=nodes)
    source: AttributeSource = attributes if apps else company
    return Graph(seed=seed, now=moment, blocks=blocks, ids=ids, out=out, attributes=source)


class _Builder:
    """Appends every edge to `out`; one random stream in a fixed order keeps the result deterministic."""

    def __init__(self, company: Company, blocks: dict[str, range], out: list[list[int]], rng: random.Random):
        self.c, self.b, self.out, self.rng = company, blocks, out, rng

    def pick(self, name: str) -> int:
        block = self.b[name]
        return block.start + int(self.rng.random() * len(block))

    def link(self, source: int, target: int, kind: EdgeKind, bundle: int = perms.NO_PERMISSION) -> None:
        self.out[source].append(encode_edge(target, kind, bundle))

    def bundle(self, choices: tuple[int, ...], weights: tuple[int, ...]) -> int:
        return self.rng.choices(choices, weights)[0]

    def role_named(self, base: int) -> int | None:
        """A random AWS IAM role whose name starts with ROLE_NAMES[base] (roles cycle through the names)."""
        roles = self.b["AwsIamRole"]
        slots = (len(roles) - base + len(ROLE_NAMES) - 1) // len(ROLE_NAMES)
        return roles.start + base + len(ROLE_NAMES) * int(self.rng.random() * slots) if slots > 0 else None

    def build(self) -> None:
        self.okta()
        self.aws()
        self.snowflake()
        self.azure()
        self.custom()

    def okta(self) -> None:
        users, groups, apps, c = self.b["OktaUser"], self.b["OktaGroup"], self.b["OktaApp"], self.c
        n_okta = len(users)
        linked = [(self.b[s].start, c.link_shift[s], c.linked_count(s)) for s in LINKED]
        for o, i in enumerate(users):
            self.link(i, groups.start + c.department(o) % len(groups), EdgeKind.MEMBER)
            self.link(i, groups.start + len(DEPARTMENTS), EdgeKind.MEMBER)  # "Everyone"
            for _ in range(self.rng.choices((0, 1, 2, 3), (30, 40, 20, 10))[0]):
                self.link(i, self.pick("OktaGroup"), EdgeKind.MEMBER)
            if self.rng.random() < 0.3:
                self.link(i, self.pick("OktaApp"), EdgeKind.GRANT, perms.OKTA_APP_BUNDLE)
            for start, shift, count in linked:
                k = (o - shift) % n_okta
                if k < count:
                    self.link(i, start + k, EdgeKind.IDENTITY)
        # Department and named groups federate into AWS roles with matching names (see ROLE_NAMES).
        role_for = {"Engineering": 3, "Data": 2, "Security": 5, "Finance": 6, "IT": 9, "Support": 8,
                    "aws-prod-admins": 0, "aws-data-engineers": 2, "aws-readonly": 1}
        named = (*DEPARTMENTS, *OKTA_GROUPS)
        for o, g in enumerate(groups):
            for _ in range(1 + int(self.rng.random() * 2)):
                self.link(g, apps.start + int(self.rng.random() * len(apps)), EdgeKind.GRANT, perms.OKTA_APP_BUNDLE)
            base = role_for.get(named[o]) if o < len(named) else None
            if base is None and o >= len(named) and self.rng.random() < 0.4:
                base = int(self.rng.random() * len(ROLE_NAMES))
            for _ in range(1 + int(self.rng.random() * 2) if base is not None else 0):
                role = self.role_named(base or 0)
                if role is not None:
                    self.link(g, role, EdgeKind.ASSUME)

    def aws(self) -> None:
        b, c, rng = self.b, self.c, self.rng
        accounts, n_acc = b["AwsAccount"], len(b["AwsAccount"])
        policies, buckets = b["AwsIamPolicy"], b["S3Bucket"]
        admin_policies = min(n_acc, len(policies))
        for name in ("AwsIamUser", "AwsIamRole", "S3Bucket"):
            for o, i in enumerate(b[name]):
                self.link(accounts.start + c.account_of(o), i, EdgeKind.CONTAINS)
        s3_weights = (40, 25, 10, 5, 10, 10)
        for o, p in enumerate(policies):
            if o < admin_policies:  # AdministratorAccess of account o: everything in that account
                for bucket in range(buckets.start + o, buckets.stop, n_acc):
                    self.link(p, bucket, EdgeKind.GRANT, 3)
                continue
            for _ in range(1 + int(rng.random() * 4)):
                self.link(p, self.pick("S3Bucket"), EdgeKind.GRANT, self.bundle(perms.S3_BUNDLES, s3_weights))

        def ordinary_policy() -> int:
            return policies.start + admin_policies + int(rng.random() * (len(policies) - admin_policies))

        for o, r in enumerate(b["AwsIamRole"]):
            if o % len(ROLE_NAMES) == 0 and c.account_of(o) < admin_policies:
                self.link(r, policies.start + c.account_of(o), EdgeKind.ATTACH)
            for _ in range(1 + int(rng.random() * 3)):
                self.link(r, ordinary_policy(), EdgeKind.ATTACH)
            if rng.random() < 0.05:
                self.link(r, self.pick("AwsIamRole"), EdgeKind.ASSUME)
        for o, u in enumerate(b["AwsIamUser"]):
            for _ in range(rng.choices((0, 1, 2), (30, 50, 20))[0]):
                self.link(u, self.pick("AwsIamGroup"), EdgeKind.MEMBER)
            if c.full_admin(o) and c.account_of(o) < admin_policies:
                self.link(u, policies.start + c.account_of(o), EdgeKind.ATTACH)
            if rng.random() < 0.4:
                self.link(u, ordinary_policy(), EdgeKind.ATTACH)
            if rng.random() < 0.2:
                self.link(u, self.pick("AwsIamRole"), EdgeKind.ASSUME)
        for g in b["AwsIamGroup"]:
            for _ in range(1 + int(rng.random() * 2)):
                self.link(g, ordinary_policy(), EdgeKind.ATTACH)
        for o, s in enumerate(b["S3BucketPolicyStatement"]):
            self.link(s, buckets.start + o % len(buckets), EdgeKind.GRANT, self.bundle(perms.S3_BUNDLES, s3_weights))
            principal = self.pick("AwsIamRole") if rng.random() < 0.7 else self.pick("AwsIamUser")
            self.link(principal, s, EdgeKind.ATTACH)

    def snowflake(self) -> None:
        # The first 40% of roles are functional roles: no grants of their own, they inherit access roles (later in
        # the block, so the hierarchy is acyclic); access roles hold the table grants, popular ones most.
        roles, rng = self.b["SnowflakeRole"], self.rng
        functional = roles.start + len(roles) * 2 // 5

        def access_role() -> int:
            return functional + int(rng.random() ** 2 * (roles.stop - functional))

        for r in range(roles.start, functional):
            if rng.random() < 0.5:
                for _ in range(1 + int(rng.random() * 2)):
                    self.link(r, access_role(), EdgeKind.MEMBER)
        for t in self.b["SnowflakeTable"]:
            self.link(access_role(), t, EdgeKind.GRANT, 9)
            for _ in range(int(rng.random() * 3)):
                bundle = self.bundle((*perms.SNOWFLAKE_BUNDLES[:3], 10), (50, 25, 10, 15))
                self.link(access_role(), t, EdgeKind.GRANT, bundle)
        for u in self.b["SnowflakeUser"]:
            if rng.random() < 0.03:
                self.link(u, roles.start, EdgeKind.MEMBER)  # ACCOUNTADMIN
            for _ in range(1 + int(rng.random() * 3)):
                self.link(u, self.pick("SnowflakeRole"), EdgeKind.MEMBER)

    def azure(self) -> None:
        users, groups, rng = self.b["AzureADUser"], self.b["AzureADGroup"], self.rng
        privileged = min(4, len(groups))
        guests_from = users.stop - len(users) // 10
        for u in users:
            guest = u >= guests_from
            if not guest:
                self.link(u, groups.start + 4 % len(groups), EdgeKind.MEMBER)  # All Employees
                for _ in range(int(rng.random() * 1.5)):
                    self.link(u, self.pick("AzureADLicense"), EdgeKind.GRANT, perms.AZURE_LICENSE_BUNDLE)
                self.link(u, self.pick("AzureADLicense"), EdgeKind.GRANT, perms.AZURE_LICENSE_BUNDLE)
            else:
                self.link(u, groups.start + len(AZURE_GROUPS) - 1, EdgeKind.MEMBER)  # All Guests
            if rng.random() < (0.06 if guest else 0.02):
                self.link(u, groups.start + int(rng.random() * privileged), EdgeKind.MEMBER)
            for _ in range(int(rng.random() * 3)):
                self.link(u, groups.start + len(AZURE_GROUPS) + int(rng.random() * max(1, len(groups) - 6)),
                          EdgeKind.MEMBER)
        for g in groups:
            if rng.random() < 0.3:
                self.link(g, self.pick("AzureADLicense"), EdgeKind.GRANT, perms.AZURE_LICENSE_BUNDLE)

    def custom(self) -> None:
        rng = self.rng
        for u in self.b["ActiveDirectoryUser"]:
            for _ in range(1 + int(rng.random() * 2)):
                self.link(u, self.pick("ActiveDirectoryGroup"), EdgeKind.MEMBER)
        for u in self.b["OAA.Github.User"]:
            for _ in range(1 + int(rng.random() * 5)):
                bundle = self.bundle(perms.GITHUB_BUNDLES, (45, 35, 12, 8))
                self.link(u, self.pick("OAA.Github.repository.Resource"), EdgeKind.GRANT, bundle)
        for u in self.b["OAA.Jira.User"]:
            for _ in range(1 + int(rng.random() * 3)):
                bundle = self.bundle(perms.JIRA_BUNDLES, (60, 35, 5))
                self.link(u, self.pick("OAA.Jira.project.Resource"), EdgeKind.GRANT, bundle)
