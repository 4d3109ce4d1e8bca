"""The base a change is compared with (`--base REF` or `--state DIR`), and selection with `state:` selectors.

`baseline(common, project, base=, state=)` returns a `Baseline`: every query name's `Change` and both sides'
renderings. With `--base REF` the repository at REF is checked out into a temporary directory (removed before this
returns: the compiled `Query` values carry everything a later run needs) and both sides are compiled for every
environment (`--env`: one); with `--state DIR` the run directory's recorded body hashes are the base, for its own
environment. `select_with_state(...)` applies `--select`/`--exclude` to the head's queries and to the base's
removed ones. Reads the repository and runs git; sends nothing.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from runner.compile import lint_environments
from runner.errors import UsageError, VqrError
from runner.impact.compare import EMPTY, Comparison, SideInput, classify, compare_trees, compile_side
from runner.impact.gitbase import checkout_base
from runner.impact.statefile import StateRun, read_state, state_renderings
from runner.model import Immediate, JSONObject, Query
from runner.model.impact import Change
from runner.plan import select_queries
from runner.plan.select import uses_state
from runner.sanitize import terminal_line
from runner.settings import DEFAULT_ENV, Project, load_project, resolve_variables

if TYPE_CHECKING:
    from runner.app.common import Common


@dataclass(frozen=True, kw_only=True)
class Baseline:
    label: str  # for people: `main (3f2c1a9e01)` or `state reports/latest (run ..., env sandbox)`
    comparison: Comparison
    envs: tuple[str, ...]  # the environments compared
    state: StateRun | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def states(self) -> dict[str, Change]:
        return self.comparison.states

    def removed_queries(self, env: str | None = None) -> list[Query]:
        """The base's typed queries that the head no longer has (for `ls` and `diff --run`), one per name."""
        found: dict[str, Query] = {}
        for name, change in self.comparison.changes.items():
            if change.change is not Change.REMOVED:
                continue
            for env_name, queries in self.comparison.base.queries.items():
                if name in queries and (env is None or env_name == env):
                    found.setdefault(name, queries[name])
            if name not in found and self.state is not None:
                found[name] = _recorded_query(self.state, name)
        return [found[name] for name in sorted(found)]


def _recorded_query(state: StateRun, name: str) -> Query:
    """A removed query known only to a `--state` run: its name, and its file and spec when that run ran it (its
    tags and owner were not recorded, so only name, path and state selectors can pick it)."""
    entry = state.entries.get(name, {})
    spec, file = entry.get("spec"), entry.get("file")
    return Query(name=name, file=file if isinstance(file, str) else "", spec=spec if isinstance(spec, dict) else {},
                 cache=Immediate())


def _variables(common: Common, project: Project, names: Sequence[str], *,
               head_root: Path | None = None) -> dict[str, JSONObject]:
    """Each environment's resolved variables. For the base (`head_root` given), a `--vars-file` inside the head's
    project is read as the base has it, so a change to it is a change; one outside the project is shared."""
    vars_files = list(common.vars_files)
    if head_root is not None:
        vars_files = [_at_base(path, head_root, project.root) for path in vars_files]
    out: dict[str, JSONObject] = {}
    for name in names:
        if name in project.environments or name == DEFAULT_ENV or not project.environments:
            env = project.environment(name)
            out[name] = resolve_variables(project, env, vars_files=vars_files, cli_vars=common.cli_vars)
    return out


def _at_base(path: Path, head_root: Path, base_root: Path) -> Path:
    try:
        inside = path.resolve().relative_to(head_root.resolve())
    except ValueError:
        return path
    return base_root / inside if (base_root / inside).is_file() else path


def baseline(common: Common, project: Project, *, base: str | None, state: Path | None) -> Baseline:
    if base is None and state is None:
        raise UsageError("compare with what? give --base REF (a git ref) or --state DIR (a run directory)")
    if base is None:
        assert state is not None
        return _from_state(common, project, read_state(state))
    envs = [env.name for env in lint_environments(project, common.env)]
    head = SideInput(project=project, variables=_variables(common, project, envs),
                     lint_cache_key=common.process.lint_cache_key_file)
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="vqr-base-") as scratch:
        tree = checkout_base(project.root, base, Path(scratch), variables=common.process.variables)
        base_input = None
        project_file = tree.root / project.file.name if tree.root is not None else None
        if project_file is None or not project_file.is_file():
            notes.append(f"the project did not exist at {tree.label}: every query is new")
        else:
            try:
                base_project = load_project(project_file)
                base_input = SideInput(project=base_project, variables=_variables(common, base_project, envs,
                                                                                  head_root=project.root))
            except VqrError as error:
                notes.append(f"vqr.yaml at {tree.label} does not load ({terminal_line(error)}): every query is new")
        comparison = compare_trees(base_input, head)
    # With both, the git ref decides what changed and the run directory lends its results (`diff --run`).
    recorded = read_state(state) if state is not None else None
    if recorded is not None and recorded.env not in envs:
        raise UsageError(f"--state {terminal_line(recorded.directory)} is a run of environment "
                         f"'{terminal_line(recorded.env)}', which this comparison does not cover")
    return Baseline(label=tree.label, comparison=comparison, envs=tuple(envs), state=recorded,
                    notes=tuple(notes) + comparison.notes)


def _from_state(common: Common, project: Project, state: StateRun) -> Baseline:
    chosen = common.env or common.process.default_env  # --env, else VQR_ENV: where a run would go
    if chosen is not None and chosen != state.env:
        given = "--env" if common.env else "VQR_ENV"
        raise UsageError(f"--state {terminal_line(state.directory)} is a run of environment "
                         f"'{terminal_line(state.env)}', not '{terminal_line(chosen)}' ({given})")
    head_input = SideInput(project=project, variables=_variables(common, project, [state.env]),
                           lint_cache_key=common.process.lint_cache_key_file)
    if state.env not in head_input.variables:
        raise UsageError(f"--state {terminal_line(state.directory)} ran environment '{terminal_line(state.env)}', "
                         "which vqr.yaml no longer declares")
    from runner.compile import discover_query_files

    head = compile_side(head_input, discover_query_files(project))
    changes = classify(state_renderings(state), head.rendered, envs=[state.env])
    comparison = Comparison(changes=changes, base=EMPTY, head=head, files_compiled=0)
    return Baseline(label=state.label, comparison=comparison, envs=(state.env,), state=state)


def select_with_state(queries: Sequence[Query], *, select: Sequence[str], exclude: Sequence[str],
                      baseline: Baseline | None) -> tuple[list[Query], list[Query]]:
    """(the head's selected queries, the base's selected removed ones). A `state:` selector without a baseline is
    refused by `select_queries` (exit 2)."""
    states: Mapping[str, Change] | None = baseline.states if baseline is not None else None
    chosen = select_queries(queries, select=select, exclude=exclude, state=states)
    removed: list[Query] = []
    if baseline is not None and uses_state(select):
        removed = select_queries(baseline.removed_queries(), select=select, exclude=exclude, state=states)
    return chosen, removed
