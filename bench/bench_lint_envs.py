"""Lint in three environments (issue 12): `vqr lint` of 1,000 generated files checking sandbox, staging and prod,
against `vqr lint --env sandbox` of the same files (at most 1.5×) and against check-jsonschema validating them once
(at most 1.0×). Every run starts from an empty lint cache, so each measures the whole pipeline.

The project is `gen_queries`' with two more environments; prod's account ids differ, so the files that use them
(about 8%) are compiled per environment, as a real team's would be, and the rest are compiled once.
"""

from __future__ import annotations

from bench.bench_lint import FULL_SIZE, QUICK_SIZE, _clear_cache, _files
from bench.gen_queries import VARS_FILE, GeneratedProject, generate_project
from bench.harness import Benchmark, Config, Metric, Result, Sample, Target, console_tool, judge, paired, time_command

VS_ONE = Target(metric=Metric.RATIO, op="<=", bound=1.5)
VS_PEER = Target(metric=Metric.RATIO, op="<=", bound=1.0)
ENVIRONMENTS = """\
  staging:
    url: https://staging.example.vezacloud.com
    vars_files: [queries/vars/staging.yaml]
  prod:
    url: https://example.vezacloud.com
    vars_files: [queries/vars/prod.yaml]
"""
PROD_VARS = VARS_FILE.replace('"222222222222"', '"333333333333", "444444444444"')


def _three_environments(config: Config) -> GeneratedProject:
    project = generate_project(config.workdir / "project-envs", QUICK_SIZE if config.quick else FULL_SIZE)
    text = project.project_file.read_text(encoding="utf-8")
    anchor = "    vars_files: [queries/vars/sandbox.yaml]\n"
    if "staging:" not in text:
        project.project_file.write_text(text.replace(anchor, anchor + ENVIRONMENTS, 1), encoding="utf-8")
    (project.root / "queries" / "vars" / "staging.yaml").write_text(VARS_FILE, encoding="utf-8")
    (project.root / "queries" / "vars" / "prod.yaml").write_text(PROD_VARS, encoding="utf-8")
    return project


def _lint(project: GeneratedProject, *args: str) -> Sample:
    # Exit 0 only: the project is clean in every environment, so no file stops early and looks cheap.
    return time_command([*console_tool("vqr", "runner"), "lint", *args], cwd=project.root)


def run_three_environments(config: Config) -> list[Result]:
    project = _three_environments(config)
    clear = lambda: _clear_cache(project)  # noqa: E731
    vs_one = paired(lambda: _lint(project), lambda: _lint(project, "--env", "sandbox"), repeat=config.repeat,
                    warmup=config.warmup, before_each=clear)
    schema = config.root / "schemas" / "query-file.schema.json"
    peer = [*console_tool("check-jsonschema", "check_jsonschema"), "--schemafile", str(schema), *_files(project)]
    vs_peer = paired(lambda: _lint(project), lambda: time_command(peer, cwd=project.root), repeat=config.repeat,
                     warmup=config.warmup, before_each=clear)
    extra = {"files": len(project.query_files), "environments": 3}
    return [judge("lint-3-envs-vs-one", vs_one, target=VS_ONE, peer_label="vqr lint --env sandbox", config=config,
                  extra=extra),
            judge("lint-3-envs-vs-check-jsonschema", vs_peer, target=VS_PEER, peer_label="check-jsonschema",
                  config=config, extra=extra)]


BENCHMARKS = (
    Benchmark(name="lint-envs", rows=("lint-3-envs-vs-one", "lint-3-envs-vs-check-jsonschema"),
              targets={"lint-3-envs-vs-one": VS_ONE, "lint-3-envs-vs-check-jsonschema": VS_PEER},
              run=run_three_environments),
)
