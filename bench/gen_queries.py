"""Generate a realistic, deterministic query repository for benchmarks: `vqr.yaml`, fragments, vars, N query files.

`generate_project(root, count, seed=...)` writes the project under `root` (which must be empty or absent) and returns
a `GeneratedProject` naming the query files. Files are about 40 lines, like the example repository: most are literal,
some use fragments (~30%), environment variables (~20%) or a two-way matrix (~5%). The same seed gives the same bytes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

MODELINE = "# yaml-language-server: $schema=../../schemas/query-file.schema.json\n"

PROJECT_FILE = """\
# yaml-language-server: $schema=schemas/project.schema.json
queries: queries/
reports: reports/
defaults:
  cache: {mode: if_available, max_staleness: 24h}
  concurrency: 8
  timeout: 15m
environments:
  sandbox:
    url: embedded
    vars_files: [queries/vars/sandbox.yaml]
vars:
  lookback_days: 90
node_types: []
rules:
  disable: []
"""

FRAGMENTS = {
    "active_okta_user": "operator: AND\nspecs:\n  - {fn: EQ, property: status, value: ACTIVE}\n"
                        "  - {fn: EQ, property: is_active, value: true}\n",
    "deactivated_okta_user": "operator: OR\nspecs:\n  - {fn: IN, property: status, value: [SUSPENDED, DEPROVISIONED]}\n"
                             "  - {fn: EQ, property: is_active, value: false}\n",
    "restricted_data": "specs:\n  - {fn: IN, property: data_classification, value: [CONFIDENTIAL, RESTRICTED]}\n",
}

VARS_FILE = """\
aws_account_ids: ["111111111111", "222222222222"]
privileged_groups:
  - Global Administrators
  - Privileged Role Administrators
"""


@dataclass(frozen=True, kw_only=True)
class _Source:
    provider: str
    node_type: str
    properties: tuple[str, ...]
    conditions: tuple[str, ...]  # inline condition specs, one flow mapping each
    fragment: str | None  # a fragment that fits this source's condition


@dataclass(frozen=True, kw_only=True)
class _Target:
    provider: str
    node_type: str
    properties: tuple[str, ...]
    condition: str  # one inline condition spec
    uses_accounts: bool  # the condition can take the `aws_account_ids` variable instead


SOURCES = (
    _Source(provider="okta", node_type="OktaUser", properties=("email", "login", "department"),
            conditions=("{fn: EQ, property: status, value: ACTIVE}", "{fn: EQ, property: is_active, value: true}"),
            fragment="active_okta_user"),
    _Source(provider="okta", node_type="OktaUser", properties=("email", "status", "last_login_at"),
            conditions=("{fn: IN, property: status, value: [SUSPENDED, DEPROVISIONED]}",),
            fragment="deactivated_okta_user"),
    _Source(provider="azure", node_type="AzureADUser", properties=("email", "user_principal_name"),
            conditions=("{fn: EQ, property: user_type, value: Guest}",
                        "{fn: EQ, property: account_enabled, value: true}"), fragment=None),
    _Source(provider="snowflake", node_type="SnowflakeUser", properties=("email", "login_name"),
            conditions=("{fn: EQ, property: disabled, value: false}",), fragment=None),
    _Source(provider="aws", node_type="AwsIamUser", properties=("arn", "aws_account_id", "last_used_at"),
            conditions=("{fn: EQ, property: mfa_enabled, value: false}", "{fn: EQ, property: is_active, value: true}"),
            fragment=None),
)

TARGETS = (
    _Target(provider="s3", node_type="S3Bucket", properties=("aws_account_id", "data_classification"),
            condition="{fn: IN, property: data_classification, value: [CONFIDENTIAL, RESTRICTED]}", uses_accounts=True),
    _Target(provider="iam", node_type="AwsIamRole", properties=("arn", "aws_account_id"),
            condition="{fn: GT, property: last_used_at, value: \"2024-01-01T00:00:00Z\"}", uses_accounts=True),
    _Target(provider="snowflake", node_type="SnowflakeTable", properties=("database", "schema"),
            condition="{fn: IN, property: data_classification, value: [CONFIDENTIAL, RESTRICTED]}",
            uses_accounts=False),
    _Target(provider="azure", node_type="AzureADGroup", properties=("name", "description"),
            condition="{fn: EQ, property: security_enabled, value: true}", uses_accounts=False),
)

PERMISSIONS = ("DATA_READ", "DATA_WRITE", "DATA_DELETE", "METADATA_WRITE")
OWNERS = ("identity-team", "cloud-security", "data-platform", "platform-engineering")
CACHES = ("{mode: if_available, max_staleness: 12h}", "{mode: if_available, max_staleness: 2d}",
          "{mode: immediate}", "{mode: context, cache_id: previous, on_expired: run}")


@dataclass(frozen=True, kw_only=True)
class GeneratedProject:
    root: Path
    project_file: Path
    query_files: tuple[Path, ...]


def _query_text(index: int, rng: random.Random) -> tuple[str, str]:
    """One query file: its directory (the provider) and its text."""
    source = rng.choice(SOURCES)
    target = rng.choice(TARGETS)
    use_fragment = source.fragment is not None and rng.random() < 0.6
    use_vars = target.uses_accounts and rng.random() < 0.4
    use_matrix = rng.random() < 0.05
    permissions = rng.sample(PERMISSIONS, k=rng.choice((1, 2)))
    slug = f"{source.provider}-{source.node_type.lower()}-to-{target.provider}-{index:05d}"
    name = f"{slug}-{{{{ permission | lower }}}}" if use_matrix else slug
    lines = [MODELINE, f"# Generated benchmark query {index}: {source.node_type} reaching {target.node_type}.\n",
             f"name: {name}\n",
             f"description: {source.node_type} nodes that reach a {target.node_type} with "
             f"{'{{ permission }}' if use_matrix else ' or '.join(permissions)}\n",
             f"owner: {rng.choice(OWNERS)}\n",
             f"tags: [{source.provider}, {target.provider}, generated{', nightly' if index % 3 == 0 else ''}]\n"]
    if use_matrix:
        lines.append(f"matrix:\n  permission: [{', '.join(PERMISSIONS[:2])}]\n")
    lines += ["# Reviewed every quarter by the owning team; see the access review runbook.\n",
              f"cache: {rng.choice(CACHES)}\n", "spec:\n", "  query_type: SOURCE_TO_DESTINATION\n",
              "  source_node_types:\n", "    nodes:\n", f"      - node_type: {source.node_type}\n"]
    if use_fragment:
        lines.append(f'        condition_expression: "{{{{ fragments.{source.fragment} }}}}"\n')
    else:
        lines += ["        condition_expression:\n", "          operator: AND\n", "          specs:\n"]
        lines += [f"            - {condition}\n" for condition in source.conditions]
    lines.append(f"        properties_to_get: [{', '.join(source.properties)}]\n")
    lines += ["  relates_to_exp:\n", "    specs:\n", "      - node_types:\n", "          nodes:\n",
              f"            - node_type: {target.node_type}\n", "              condition_expression:\n"]
    if use_vars:
        lines.append('                specs: [{fn: IN, property: aws_account_id, value: "{{ aws_account_ids }}"}]\n')
    else:
        lines.append(f"                specs: [{target.condition}]\n")
    lines.append(f"              properties_to_get: [{', '.join(target.properties)}]\n")
    values = '"{{ permission }}"' if use_matrix else ", ".join(permissions)
    lines += [f"        effective_permissions: {{values: [{values}], operator: OR}}\n",
              "  node_relationship_type: EFFECTIVE_ACCESS\n",
              "  # Counts per source keep the result small enough for the nightly report.\n",
              "  result_value_type: SOURCE_NODES_WITH_COUNTS\n",
              "  include_permissions_summary: true\n",
              "expect:\n", f"  - rows: {{max: {rng.randrange(0, 500)}}}\n",
              f"    severity: {rng.choice(('warn', 'error'))}\n",
              f"    message: more {source.node_type} rows than expected reach {target.node_type}; review access\n",
              "  - new_rows: {max: 0}\n", "    severity: warn\n",
              "    message: new access appeared since the last run\n",
              "# End of generated query.\n"]
    return source.provider, "".join(lines)


def generate_project(root: Path, count: int, *, seed: int = 20240601) -> GeneratedProject:
    """Write a project with `count` query files under `root`; deterministic for a given seed."""
    rng = random.Random(seed)
    queries = root / "queries"
    (queries / "_fragments").mkdir(parents=True, exist_ok=True)
    (queries / "vars").mkdir(parents=True, exist_ok=True)
    project_file = root / "vqr.yaml"
    project_file.write_text(PROJECT_FILE, encoding="utf-8")
    for name, text in FRAGMENTS.items():
        (queries / "_fragments" / f"{name}.yaml").write_text(text, encoding="utf-8")
    (queries / "vars" / "sandbox.yaml").write_text(VARS_FILE, encoding="utf-8")
    files = []
    for index in range(count):
        provider, text = _query_text(index, rng)
        directory = queries / provider
        directory.mkdir(exist_ok=True)
        file = directory / f"q{index:05d}.yaml"
        file.write_text(text, encoding="utf-8")
        files.append(file)
    return GeneratedProject(root=root, project_file=project_file, query_files=tuple(files))


if __name__ == "__main__":
    import sys

    made = generate_project(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 1000)
    print(f"wrote {len(made.query_files)} query files under {made.root}")
