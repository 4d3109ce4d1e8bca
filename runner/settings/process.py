"""The process environment, read once into a frozen `ProcessEnv` (README: Environment).

`read_env()` → `ProcessEnv`. This is the only module that reads `os.environ` (ruff's banned-API rule enforces it):
everything else is handed the `ProcessEnv` it needs. No other I/O.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

LINT_CACHE_KEY_ENV = "VQR_LINT_CACHE_KEY_FILE"  # where the lint cache's signing key lives
NO_LINT_CACHE_ENV = "VQR_NO_LINT_CACHE"  # set to 1 to neither read nor write the lint cache


@dataclass(frozen=True, kw_only=True)
class ProcessEnv:
    """What vqr takes from the process environment (README: Environment), read once and passed down.

    `variables` is kept for the API key lookup (`secret.load_api_key`: the variable's name comes from vqr.yaml) and
    for the environments of child processes (git, the CSV worker, each filtered); it is left out of `repr` so that
    no key reaches a log or a traceback.
    """

    default_env: str | None = None  # VQR_ENV
    veza_url: str | None = None  # VEZA_URL: overrides the environment's url
    ssl_cert_file: Path | None = None  # SSL_CERT_FILE: a private CA
    step_summary: Path | None = None  # GITHUB_STEP_SUMMARY
    lint_cache_key_file: Path | None = None  # None: VQR_NO_LINT_CACHE is set, so no lint cache
    sandbox: Mapping[str, str] = field(default_factory=dict)  # VQR_SANDBOX_LATENCY / _NODES / _SEED
    variables: Mapping[str, str] = field(default_factory=dict, repr=False)


def read_env(variables: Mapping[str, str] | None = None) -> ProcessEnv:
    """The `ProcessEnv` of `variables` (default: this process's environment)."""
    source = dict(os.environ if variables is None else variables)

    def path(name: str) -> Path | None:
        return Path(source[name]) if source.get(name) else None

    key_file = path(LINT_CACHE_KEY_ENV)
    if key_file is None:
        try:
            key_file = Path(source.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vqr" / "lint-cache.key"
        except RuntimeError:  # no home directory (a bare container): lint without the cache rather than fail
            key_file = None
    return ProcessEnv(
        default_env=source.get("VQR_ENV") or None, veza_url=source.get("VEZA_URL") or None,
        ssl_cert_file=path("SSL_CERT_FILE"), step_summary=path("GITHUB_STEP_SUMMARY"),
        lint_cache_key_file=None if source.get(NO_LINT_CACHE_ENV, "") not in ("", "0") else key_file,
        sandbox={k: v for k, v in source.items() if k.startswith("VQR_SANDBOX_")},
        variables=source)
