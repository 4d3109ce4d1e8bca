"""Lint benchmarks: `vqr lint` on 1,000 generated templated query files against `check-jsonschema` validating the
same files with `schemas/query-file.schema.json`, and a second `vqr lint` with nothing changed against the first.

Both tools run as child processes in a generated project (see `gen_queries`), alternating. The first run of each
pair starts from an empty lint cache, so it measures the whole pipeline; the second is what an unchanged re-run costs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from bench.gen_queries import GeneratedProject, generate_project
from bench.harness import (
    Benchmark,
    Config,
    Metric,
    Pairs,
    Result,
    Sample,
    Target,
    console_tool,
    judge,
    paired,
    time_command,
)

FULL_SIZE = 1000
QUICK_SIZE = 20
CACHE_DIR = Path(".vqr") / "lint-cache"  # runner.compile.lintcache.CACHE_DIR, literal: this runs before it exists

VS_PEER = Target(metric=Metric.RATIO, op="<=", bound=1.0)
AGAIN = Target(metric=Metric.RATIO, op="<=", bound=0.2)


def _project(config: Config) -> GeneratedProject:
    size = QUICK_SIZE if config.quick else FULL_SIZE
    return generate_project(config.workdir / "project", size)


def _clear_cache(project: GeneratedProject) -> None:
    shutil.rmtree(project.root / CACHE_DIR, ignore_errors=True)


def _vqr_lint(project: GeneratedProject) -> Sample:
    # Exit 0 only: the generated project is lint-clean, and a file that fails early would be cheaper to "lint".
    return time_command([*console_tool("vqr", "runner"), "lint"], cwd=project.root)


def _files(project: GeneratedProject) -> list[str]:
    return [path.relative_to(project.root).as_posix() for path in project.query_files]


def run_vs_check_jsonschema(config: Config) -> list[Result]:
    project = _project(config)
    schema = config.root / "schemas" / "query-file.schema.json"
    peer = [*console_tool("check-jsonschema", "check_jsonschema"), "--schemafile", str(schema), *_files(project)]
    pairs = paired(lambda: _vqr_lint(project), lambda: time_command(peer, cwd=project.root), repeat=config.repeat,
                   warmup=config.warmup, before_each=lambda: _clear_cache(project))
    lines = sum(path.read_text(encoding="utf-8").count("\n") for path in project.query_files)
    return [judge("lint-1000-files", pairs, target=VS_PEER, peer_label="check-jsonschema", config=config,
                  extra={"files": len(project.query_files), "lines": lines})]


def run_lint_again(config: Config) -> list[Result]:
    project = _project(config)
    for _ in range(config.warmup):
        _vqr_lint(project)
    first: list[Sample] = []
    second: list[Sample] = []
    for _ in range(config.repeat):
        _clear_cache(project)
        first.append(_vqr_lint(project))
        second.append(_vqr_lint(project))
    cached = (project.root / CACHE_DIR).is_dir()
    return [judge("lint-again-unchanged", Pairs(ours=second, peer=first), target=AGAIN, peer_label="first lint",
                  config=config, extra={"files": len(project.query_files), "cache_dir_written": cached})]


BENCHMARKS = (
    Benchmark(name="lint", rows=("lint-1000-files",), targets={"lint-1000-files": VS_PEER},
              run=run_vs_check_jsonschema),
    Benchmark(name="lint-again", rows=("lint-again-unchanged",), targets={"lint-again-unchanged": AGAIN},
              run=run_lint_again),
)
