"""The Kubernetes recipe (`deploy/kubernetes/`), checked as far as a machine without a cluster allows: every manifest
valid against Kubernetes 1.33's schemas in strict mode (kubernetes-validate, which rejects unknown fields), the shard
count the same everywhere, the CronJob running exactly the shards' Job, the key only where it is needed, non-root
pods with resource bounds, and each container's command line, with `$(VAR)` expanded as the kubelet does, parsed by
vqr's own CLI.
"""

from __future__ import annotations

import copy
import importlib
import re
from pathlib import Path
from typing import Any

import click
import kubernetes_validate
import pytest
from ruamel.yaml import YAML

from runner import cli

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "kubernetes"
KUBERNETES = "1.33.0"  # pinned: the oldest release where everything used here (backoffLimitPerIndex) is GA
MANIFESTS = sorted(DEPLOY.glob("*.yaml"))


def load(name: str) -> Any:
    return YAML(typ="safe", pure=True).load((DEPLOY / name).read_text(encoding="utf-8"))


def pod_spec(name: str) -> dict[str, Any]:
    document = load(name)
    job = document["spec"]["jobTemplate"]["spec"] if document["kind"] == "CronJob" else document["spec"]
    spec: dict[str, Any] = job["template"]["spec"]
    return spec


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


def test_there_are_the_four_manifests() -> None:
    assert [p.name for p in MANIFESTS] == ["cronjob.yaml", "merge-job.yaml", "pvc.yaml", "shards-job.yaml"]


@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda path: path.name)
def test_valid_against_the_pinned_kubernetes_in_strict_mode(manifest: Path) -> None:
    assert kubernetes_validate.validate(load(manifest.name), KUBERNETES, strict=True) is not None


def test_strict_validation_here_does_reject_a_misspelt_field() -> None:
    job = copy.deepcopy(load("shards-job.yaml"))
    job["spec"]["completionsMode"] = job["spec"].pop("completionMode")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(job, KUBERNETES, strict=True)


def test_one_shard_count_everywhere_and_the_cronjob_runs_the_shards_job() -> None:
    shards = load("shards-job.yaml")
    spec = shards["spec"]
    (container,) = spec["template"]["spec"]["containers"]
    count = int(env_of(container)["SHARDS"])
    assert spec["completionMode"] == "Indexed" and spec["completions"] == spec["parallelism"] == count
    assert load("cronjob.yaml")["spec"]["jobTemplate"]["spec"] == spec
    assert load("cronjob.yaml")["spec"]["concurrencyPolicy"] == "Forbid"
    (merge,) = pod_spec("merge-job.yaml")["containers"]
    named = [a for a in merge["args"] if a.startswith("reports/shard-")]
    assert named == [f"reports/shard-{i}-of-{count}" for i in range(count)]  # every shard, so a missing one fails


def test_the_key_comes_from_a_secret_and_only_to_the_shards() -> None:
    (shard,) = pod_spec("shards-job.yaml")["containers"]
    assert env_of(shard)["VEZA_API_KEY"] == {"secretKeyRef": {"name": "vqr-veza", "key": "api-key"}}
    (merge,) = pod_spec("merge-job.yaml")["containers"]
    assert "VEZA_API_KEY" not in env_of(merge)
    index = env_of(shard)["JOB_COMPLETION_INDEX"]
    assert index == {"fieldRef": {"fieldPath": "metadata.annotations['batch.kubernetes.io/job-completion-index']"}}


@pytest.mark.parametrize("manifest", ["shards-job.yaml", "merge-job.yaml", "cronjob.yaml"])
def test_pods_run_as_non_root_with_bounds_on_the_shared_volume(manifest: str) -> None:
    spec = pod_spec(manifest)
    assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] != 0
    assert spec["restartPolicy"] == "Never"
    claim = load("pvc.yaml")
    assert "ReadWriteMany" in claim["spec"]["accessModes"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["runs"]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    for container in spec["containers"]:
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False and context["readOnlyRootFilesystem"] is True
        assert context["capabilities"]["drop"] == ["ALL"]
        assert set(container["resources"]) == {"requests", "limits"}
        mounts = {m["mountPath"]: m.get("subPath") for m in container["volumeMounts"]}
        workdir = container["workingDir"]
        # the run directories and the journals on the shared volume; everything else of the image stays read-only
        assert mounts[f"{workdir}/reports"] == "reports" and mounts[f"{workdir}/.vqr"] == "state"
        assert "/tmp" in mounts


def expand(args: list[str], env: dict[str, str]) -> list[str]:
    """The kubelet's `$(VAR)` expansion of a container's command line (only variables the container defines)."""
    return [re.sub(r"\$\((\w+)\)", lambda m: env[m[1]], arg) for arg in args]


def parse(argv: list[str]) -> click.Context:
    """vqr's own click parsing of `argv` (after "vqr"), down to the subcommand; raises on an unknown option."""
    assert argv[0] == "vqr"
    group: click.Group = cli.cli
    context = group.make_context("vqr", argv[1:])
    args = [*context._protected_args, *context.args]  # click 8.2 keeps the subcommand name apart
    name, command, rest = group.resolve_command(context, args)
    assert name is not None and command is not None
    return command.make_context(name, rest, parent=context)


def test_command_lines_parse_with_vqr_s_cli() -> None:
    if not any(p.name == "shard" for p in cli.cli.commands["run"].params):
        pytest.skip("needs vqr run --shard (issue 15's shards)")
    parse_shard = importlib.import_module("runner.plan").parse_shard  # there with the shards (see the skip)

    (shard,) = pod_spec("shards-job.yaml")["containers"]
    shards = int(shard["env"][0]["value"])
    for index in range(shards):
        argv = expand(shard["args"], {"SHARDS": str(shards), "JOB_COMPLETION_INDEX": str(index)})
        parsed = parse(argv)
        assert parsed.command.name == "run" and parsed.params["quiet"] is True
        assert parse_shard(parsed.params["shard"]) == parse_shard(f"{index}/{shards}")
    (merge,) = pod_spec("merge-job.yaml")["containers"]
    parsed = parse(expand(merge["args"], {}))
    assert parsed.command.name == "report" and parsed.params["target"][0] == "merge"
    assert str(parsed.params["out"]) == "reports"
    with pytest.raises(click.UsageError):
        parse(["vqr", "run", "--shards", "0/4"])  # the parse above is not vacuous: a wrong option fails it
