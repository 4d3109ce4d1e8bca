"""The query repository as it was at a git ref, written to a temporary directory: `--base REF`.

`checkout_base(project_root, ref, into)` resolves REF to a commit and writes the project's subtree at that commit
under `into` with a private index file (`git read-tree` + `git checkout-index`), so the work tree, the real index
and HEAD are never touched, and files come out as a checkout would write them (filters, links, modes) — unlike
`git archive`, which would drop `export-ignore` paths. Returns a `BaseTree` naming the commit and the base project
root (None when the project did not exist at REF). Runs `git`; a missing git, a path outside any repository or an
unknown ref is a `UsageError` (exit 2) with git's own one-line reason.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from runner.errors import UsageError
from runner.sanitize import terminal_line

GIT_TIMEOUT = 120.0  # seconds for one git command: a huge repository is slow, a hung one must not hang CI


@dataclass(frozen=True, kw_only=True)
class BaseTree:
    ref: str  # as given
    commit: str  # the full commit id it resolved to
    root: Path | None  # the project root inside the checkout; None: the project's directory did not exist at ref

    @property
    def label(self) -> str:
        return f"{self.ref} ({self.commit[:10]})" if self.ref != self.commit else self.commit[:10]


_PASSED = frozenset({"PATH", "HOME", "XDG_CONFIG_HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT"})


def git_environment(variables: Mapping[str, str]) -> dict[str, str]:
    """What git is given of the process environment: enough to find itself, its config and filters, never the API
    key or any other secret in the environment (a smudge filter would see them)."""
    return {name: value for name, value in variables.items()
            if name in _PASSED or (name.startswith("GIT_") and name not in {"GIT_INDEX_FILE", "GIT_WORK_TREE"})}


def _git(args: list[str], *, cwd: Path, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    git = shutil.which("git")
    if git is None:
        raise UsageError("--base needs git, which is not installed (or use --state DIR)")
    try:
        return subprocess.run([git, *args], cwd=cwd, env=dict(env), capture_output=True, text=True,  # noqa: S603
                              timeout=GIT_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise UsageError(f"git {args[0]} took more than {GIT_TIMEOUT:.0f} s") from None


def _reason(done: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
    return terminal_line(lines[0] if lines else f"git exited {done.returncode}")


def checkout_base(project_root: Path, ref: str, into: Path, *, variables: Mapping[str, str]) -> BaseTree:
    """Write the project's files at REF under `into` (an empty directory the caller owns and removes);
    `variables` is the process environment (`settings.ProcessEnv.variables`), filtered by `git_environment`."""
    base_env = git_environment(variables)
    if not ref or ref.startswith("-") or "\0" in ref:
        raise UsageError(f"--base wants a git ref (a branch, tag or commit), got {terminal_line(ref)!r}")
    top = _git(["rev-parse", "--show-toplevel"], cwd=project_root, env=base_env)
    if top.returncode != 0:
        raise UsageError(f"--base needs the project in a git repository: {_reason(top)} (or use --state DIR)")
    toplevel = Path(top.stdout.strip()).resolve()
    resolved = _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"], cwd=toplevel,
                    env=base_env)
    if resolved.returncode != 0:
        raise UsageError(f"--base {terminal_line(ref)}: no such commit in {terminal_line(toplevel)} "
                         "(a shallow clone? fetch it, e.g. actions/checkout with fetch-depth: 0)")
    commit = resolved.stdout.strip()
    inside = project_root.resolve().relative_to(toplevel).as_posix()
    tree = f"{commit}:" if inside == "." else f"{commit}:{inside}"  # `<commit>:` is its root tree
    exists = _git(["cat-file", "-t", tree], cwd=toplevel, env=base_env)
    if exists.returncode != 0 or exists.stdout.strip() != "tree":
        return BaseTree(ref=ref, commit=commit, root=None)
    root = into / "tree"
    root.mkdir(parents=True)
    # A private index: the user's staged changes and the work tree stay exactly as they are.
    env = {**base_env, "GIT_INDEX_FILE": str(into / "index")}
    for args in (["read-tree", tree], ["checkout-index", "--all", "--force", f"--prefix={root}/"]):
        done = _git(args, cwd=toplevel, env=env)
        if done.returncode != 0:
            raise UsageError(f"--base {terminal_line(ref)}: git {args[0]} failed: {_reason(done)}")
    return BaseTree(ref=ref, commit=commit, root=root)
