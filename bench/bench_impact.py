"""Impact benchmarks (issue 13): what `state:` selection and `vqr diff --run` cost, and what they send.

`impact-ls-vs-lint`: in `gen_queries`' 1,000-file project made a git repository (base commit, then 3 query files
changed and committed as HEAD), `vqr ls --select state:modified --base HEAD~1` against a plain `vqr lint`, paired,
both from an empty lint cache (at most 2×); an untimed run of the same command must list exactly the 3 changed
queries, else the row is an ERROR. `impact-diff-run-state-executions`: the same project pointed at a `vqr sandbox
serve` child process, run once at the base commit (`reports/latest` records every body), then the 3 changes and
`vqr diff --state reports/latest --run`: the sandbox's `executions` counter must grow by exactly 3 (only the head
versions run; the state lends the base's results). The 3 changed bodies are checked to be distinct and unlike any
other query's, so neither a shared submit nor the sandbox's cache could lower the count legitimately.
Runs git, vqr and the sandbox as child processes in the benchmark's scratch directory.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bench.bench_lint import FULL_SIZE, QUICK_SIZE, _clear_cache
from bench.gen_queries import GeneratedProject, generate_project
from bench.harness import (
    Benchmark,
    Config,
    Metric,
    Result,
    Spread,
    Target,
    Verdict,
    console_tool,
    judge,
    paired,
    time_command,
)
from bench.measures import value_result
from bench.sandbox_proc import SandboxProcess

VS_LINT = Target(metric=Metric.RATIO, op="<=", bound=2.0)
# The harness judges <= or >=; fewer than CHANGED executions is a wrong answer and reported as an ERROR instead.
EXECUTIONS = Target(metric=Metric.VALUE, op="<=", bound=3.0, unit="executions")
CHANGED = 3
LATENCY = 0.05  # seconds per sandbox execution: the count is the figure, not the waiting
_GIT_IDENTITY = ("-c", "user.name=vqr-bench", "-c", "user.email=bench@example.invalid", "-c", "commit.gpgsign=false")
_TARGET_SPECS = re.compile(r"^( {16}specs: )\[.*\]$", re.MULTILINE)  # the target node's one-line condition
_NAME = re.compile(r"^name: (\S+)$", re.MULTILINE)


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *_GIT_IDENTITY, *args], cwd=root, check=True, capture_output=True, timeout=120)


def _repository(config: Config, directory: str, *, url: str | None = None) -> GeneratedProject:
    """The generated project as a git repository with one commit (the base); `url` points it at a sandbox."""
    root = config.workdir / directory
    shutil.rmtree(root, ignore_errors=True)
    project = generate_project(root, QUICK_SIZE if config.quick else FULL_SIZE)
    if url is not None:
        text = project.project_file.read_text(encoding="utf-8")
        pointed = f"    url: {json.dumps(url)}\n    api_key_env: VEZA_API_KEY\n"
        project.project_file.write_text(text.replace("    url: embedded\n", pointed, 1), encoding="utf-8")
    (root / ".gitignore").write_text(".vqr/\nreports/\n", encoding="utf-8")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "base")
    return project


def _change_three(project: GeneratedProject) -> dict[str, Path]:
    """Give CHANGED one-query files (no matrix; no `context` cache, whose body holds no spec) a target condition
    no other query has, commit it as HEAD; returns {query name: file}."""
    changed: dict[str, Path] = {}
    for path in project.query_files:
        text = path.read_text(encoding="utf-8")
        if "matrix:" in text or "mode: context" in text:
            continue
        condition = f'[{{fn: EQ, property: name, value: "bench-changed-{path.stem}"}}]'
        target, name = _TARGET_SPECS.search(text), _NAME.search(text)
        if target is None or name is None:
            raise RuntimeError(f"{path.name} does not have the generated shape")
        path.write_text(text[:target.end(1)] + condition + text[target.end():], encoding="utf-8")
        changed[name.group(1)] = path
        if len(changed) == CHANGED:
            break
    if len(changed) != CHANGED:
        raise RuntimeError(f"the generated project has fewer than {CHANGED} files to change")
    _git(project.root, "commit", "-q", "-a", "-m", "change three queries")
    return changed


def _vqr(*args: str) -> list[str]:
    return [*console_tool("vqr", "runner"), *args]


LS_ARGS = ("ls", "--select", "state:modified", "--base", "HEAD~1", "--format", "json")


def _listed(project: GeneratedProject) -> list[tuple[str, str]]:
    """(name, state) of each query `vqr ls` lists, stdout only (a note on stderr must not break the JSON)."""
    done = subprocess.run(_vqr(*LS_ARGS), cwd=project.root, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"vqr ls exited {done.returncode}: {done.stderr[-2000:]}")
    return sorted((str(item.get("name")), str(item.get("state"))) for item in json.loads(done.stdout))


def run_ls_vs_lint(config: Config) -> list[Result]:
    project = _repository(config, "project-ls")
    changed = _change_three(project)
    _clear_cache(project)
    listed = _listed(project)
    expected = sorted((name, "modified") for name in changed)
    pairs = paired(lambda: time_command(_vqr(*LS_ARGS), cwd=project.root),
                   lambda: time_command(_vqr("lint"), cwd=project.root), repeat=config.repeat,
                   warmup=config.warmup, before_each=lambda: _clear_cache(project))
    result = judge("impact-ls-vs-lint", pairs, target=VS_LINT, peer_label="vqr lint", config=config,
                   extra={"files": len(project.query_files), "changed_files": CHANGED, "listed": len(listed)})
    if listed != expected:
        shown = ", ".join(f"{name} ({state})" for name, state in listed[:5]) or "nothing"
        result = dataclasses.replace(result, verdict=Verdict.ERROR,
                                     error=f"ls listed {len(listed)}: {shown}; expected {len(expected)} modified")
    return [result]


def _run_json(directory: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((directory / "latest" / "run.json").read_text(encoding="utf-8"))
    return data


def _check_bodies(state_bodies: Mapping[str, str], head_run: Mapping[str, Any], changed: Mapping[str, Path]) -> None:
    """The changed queries' head bodies: one run entry each, distinct, and unlike every body of the state run
    (the other queries' bodies, unchanged, are the same on both sides)."""
    entries = {entry["name"]: entry for entry in head_run["queries"]}
    if sorted(entries) != sorted(changed):
        raise RuntimeError(f"the diff's head batch ran {sorted(entries)}, not {sorted(changed)}")
    hashes = [entries[name]["body_hash"] for name in changed]
    if len(set(hashes)) != CHANGED or set(hashes) & set(state_bodies.values()):
        raise RuntimeError("the changed bodies are not distinct from each other and from every other query's")
    if any(entries[name].get("shared_submit") for name in changed):
        raise RuntimeError("a changed query shared another's submit")


def _check_diff(output: str, changed: Mapping[str, Path]) -> None:
    report = json.loads(output)
    found = {q["name"]: q for q in report["queries"]}
    if report["counts"] != {"new": 0, "modified": CHANGED, "removed": 0} or sorted(found) != sorted(changed):
        raise RuntimeError(f"vqr diff found {report['counts']} ({sorted(found)}), not the {CHANGED} changed queries")
    for name, query in found.items():
        delta = query.get("delta") or {}
        if (delta.get("source_before"), delta.get("source_after"), delta.get("status_after")) != \
                ("state", "ran", "succeeded"):
            raise RuntimeError(f"{name}: the base result did not come from the state, or the head did not run")


def run_diff_state(config: Config) -> list[Result]:
    executions: list[float] = []
    creates: list[int] = []
    seconds: list[float] = []
    with SandboxProcess(latency=LATENCY, cwd=config.workdir) as box:
        env = box.client_env()
        project = _repository(config, "project-diff", url=box.url)
        # Exit 1 allowed: some generated row bounds fail; the batch still records every query's body and result.
        base_run = time_command(_vqr("run", "--quiet"), cwd=project.root, env=env, ok_codes=frozenset({0, 1}))
        state = _run_json(project.root / "reports")
        changed = _change_three(project)
        argv = _vqr("diff", "--state", "reports/latest", "--run", "--format", "json", "--output", "diff.json")
        for index in range(max(1, config.repeat)):
            if index:
                box.reset()  # the first diff meets the base run's cached results; later ones an empty cache
            before = box.stats()
            seconds.append(time_command(argv, cwd=project.root, env=env).seconds)
            after = box.stats()
            executions.append(after["executions"] - before["executions"])
            creates.append(after["creates"] - before["creates"])
            _check_diff((project.root / "diff.json").read_text(encoding="utf-8"), changed)
            _check_bodies(state["bodies"], _run_json(project.root / "reports" / "diff" / "head"), changed)
    if min(executions) < CHANGED:
        raise RuntimeError(f"the sandbox executed {min(executions):g} specs for {CHANGED} changed queries")
    diff_time = Spread.of(seconds)
    result = value_result("impact-diff-run-state-executions", executions, target=EXECUTIONS, unit="executions",
                          config=config, peer_label=f"{CHANGED} changed of {len(state['bodies'])} queries",
                          extra={"creates": max(creates), "diff_seconds": diff_time.as_json(),
                                 "base_run_seconds": base_run.seconds, "queries": len(state["bodies"])})
    if result.verdict is Verdict.PASS and max(executions) > CHANGED:
        result = dataclasses.replace(result, verdict=Verdict.FAIL)
    return [result]


BENCHMARKS = (
    Benchmark(name="impact-ls-vs-lint", rows=("impact-ls-vs-lint",), targets={"impact-ls-vs-lint": VS_LINT},
              run=run_ls_vs_lint),
    Benchmark(name="impact-diff-run-state-executions", rows=("impact-diff-run-state-executions",),
              targets={"impact-diff-run-state-executions": EXECUTIONS}, run=run_diff_state),
)
