"""A run directory as the base of a comparison: `--state DIR` (a run directory, or `reports/latest`).

`read_state(DIR)` reads its run.json and returns a `StateRun`: the environment it ran in, the `body_hash` of every
query the repository then held (`bodies`), and each query's recorded entry (body, status, rows, results file,
expectations). `state_renderings(state)` turns the recorded bodies into the base side of `compare.classify`. The
file is untrusted (it may come from a downloaded CI artifact): it is read under a size limit and every field is
checked before use; a missing or malformed one is a `UsageError` (exit 2) that says what to do.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from runner.errors import UsageError
from runner.model import JSONObject
from runner.model.impact import Rendered
from runner.repopath import PathProblem, outside_root, read_regular_file
from runner.sanitize import terminal_line

RUN_FILE = "run.json"
_MAX_RUN_JSON = 256 * 1024 * 1024
_HASH_LENGTH = 64


@dataclass(frozen=True, kw_only=True)
class StateRun:
    directory: Path
    run_id: str
    env: str
    target: str
    bodies: Mapping[str, str]  # name -> body_hash, for every query of the repository in `env`
    entries: Mapping[str, JSONObject]  # name -> its run.json entry, for the queries that run selected
    options: Mapping[str, object] = field(default_factory=dict)  # its run options (snapshot pin, --cache override)

    @property
    def overridden(self) -> str | None:
        """Why its rows are not what its recorded bodies return now, if so: a `--snapshot-id` pin (rows of another
        snapshot). A `--cache` override only changed how fresh they are, as any cache hit does."""
        pinned = self.options.get("snapshot_id")
        return f"it ran pinned to snapshot {terminal_line(pinned)}" if pinned is not None else None

    @property
    def label(self) -> str:
        shown = terminal_line(self.directory)
        return f"state {shown} (run {terminal_line(self.run_id)}, env {terminal_line(self.env)})"

    def results_file(self, name: str) -> Path | None:
        """The recorded rows of a query that succeeded in the state run, if the file is still there."""
        return recorded_results(self.directory, self.entries.get(name, {}))


def recorded_results(directory: Path | None, entry: JSONObject) -> Path | None:
    """The rows file of a run.json entry that succeeded: `results/<query>.jsonl` inside `directory`, never a path
    that climbs out of it (run.json may come from a downloaded artifact), a link, or a file that is gone."""
    relative = entry.get("results_file")
    if directory is None or entry.get("status") != "succeeded" or not isinstance(relative, str):
        return None
    parts = Path(relative).parts
    if len(parts) != 2 or parts[0] != "results" or Path(relative).is_absolute() or ".." in parts:
        return None
    path = directory / relative
    if not path.is_file() or path.is_symlink() or outside_root(directory.resolve(), path) is not None:
        return None  # `results/` itself may be a link out of the run directory
    return path


def _is_hash(value: object) -> bool:
    """A sha256 as `body_hash` writes it: 64 lowercase hex digits (no other spelling compares equal to one)."""
    return isinstance(value, str) and len(value) == _HASH_LENGTH and all(c in "0123456789abcdef" for c in value)


def _refuse(directory: Path, why: str) -> UsageError:
    return UsageError(f"--state {terminal_line(directory)}: {why}")


def read_state(directory: Path) -> StateRun:
    if directory.name == "latest" and directory.is_file() and not directory.is_symlink():
        # Loaded here: the artifact package brings the journal, which `vqr ls` and `render` must not load.
        from runner.artifact.rundir import latest_target

        named = latest_target(directory.parent)  # where symlinks are not allowed, `latest` is a file naming the run
        directory = directory.parent / named if named else directory
    # root: a run.json linked out of the run directory is not read (reports/latest may itself be a link to it).
    data = read_regular_file(directory / RUN_FILE, _MAX_RUN_JSON, root=directory.resolve())
    if isinstance(data, PathProblem):
        raise _refuse(directory, f"no readable {RUN_FILE} ({data.reason}); give a run directory or reports/latest")
    if len(data) > _MAX_RUN_JSON:
        raise _refuse(directory, f"{RUN_FILE} is larger than {_MAX_RUN_JSON // (1024 * 1024)} MiB")
    try:
        run = json.loads(data)
    except (ValueError, RecursionError):
        raise _refuse(directory, f"{RUN_FILE} is not JSON") from None
    if not isinstance(run, dict) or not all(isinstance(run.get(k), str) for k in ("run_id", "env", "target")):
        raise _refuse(directory, f"{RUN_FILE} is not a vqr run artifact")
    bodies = run.get("bodies")
    if bodies is None:
        raise _refuse(directory, f"its {RUN_FILE} records no query bodies (written before vqr recorded them): "
                                 "run the batch again, or compare with --base REF")
    if not isinstance(bodies, dict) or not all(isinstance(k, str) and _is_hash(v) for k, v in bodies.items()):
        raise _refuse(directory, f"{RUN_FILE}'s bodies are malformed")
    queries = run.get("queries")
    entries: dict[str, JSONObject] = {}
    for entry in queries if isinstance(queries, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            entries[entry["name"]] = entry
    options = run.get("options")
    return StateRun(directory=directory, run_id=run["run_id"], env=run["env"], target=run["target"],
                    bodies=bodies, entries=entries, options=options if isinstance(options, dict) else {})


def state_renderings(state: StateRun) -> dict[str, dict[str, Rendered]]:
    """The base side for `compare.classify`: each recorded query in the state's environment. A query the state
    run did not run has its hash but no body (`{}`): it is compared by hash, and its spec diff is not known."""
    side: dict[str, Rendered] = {}
    for name, digest in state.bodies.items():
        entry = state.entries.get(name, {})
        body = entry.get("body")
        recorded = entry.get("body_hash") == digest and isinstance(body, dict)
        file = entry.get("file")
        side[name] = Rendered(name=name, file=file if isinstance(file, str) else "", env=state.env,
                              body=body if recorded and isinstance(body, dict) else {}, body_hash=digest)
    return {state.env: side}


def body_known(state: StateRun, name: str) -> bool:
    entry = state.entries.get(name, {})
    return isinstance(entry.get("body"), dict) and entry.get("body_hash") == state.bodies.get(name)
