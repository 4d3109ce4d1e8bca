"""The sandbox server's settings: one frozen `SandboxConfig`, and the `vqr sandbox serve` options derived from it.

No I/O. Every field carries its help text and option name in its metadata, so `option_specs()` lets the click layer
declare `--port`, `--fail-rate-429`... without repeating defaults or docs. Invalid values raise `UsageError` (exit 2).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from runner.catalog import OAA_RULE, parse_oaa
from runner.errors import UsageError
from runner.rates import parse_rate


def _opt(default: Any, help_text: str, *, cli: bool = True) -> Any:
    return field(default=default, metadata={"help": help_text, "cli": cli})


@dataclass(frozen=True, kw_only=True)
class SandboxConfig:
    """What the sandbox serves and how it misbehaves. Rates are probabilities in [0, 1]; times are seconds."""

    host: str = _opt("127.0.0.1", "Interface to listen on.")
    port: int = _opt(0, "TCP port; 0 picks a free one (the URL is printed on the first line of stdout).")
    tls: bool = _opt(False, "Serve HTTPS with a CA and server certificate generated at start-up (CA path printed).")
    certfile: str | None = _opt(None, "PEM server certificate to use with --tls instead of a generated one.")
    keyfile: str | None = _opt(None, "PEM private key of --certfile.")
    api_key: str | None = _opt(None, "Accept only this bearer key (default: any non-empty key).")
    nodes: int = _opt(5000, "Number of nodes in the generated access graph (exact from a few hundred up).")
    seed: int = _opt(7, "Seed of the generated graph (same seed, same graph).")
    epoch: str = _opt("2026-11-01T00:00:00Z",
                      "The sandbox's 'now' (RFC 3339): generated timestamps and $COOKIE_TIMEVAR_* placeholders are "
                      "relative to it, so a restarted sandbox serves identical rows and drift shows only real change.")
    latency: float = _opt(0.5, "Base duration of every execution (async job or synchronous call), in seconds.")
    cost_per_unit: float = _opt(0.0, "Extra seconds per unit of engine cost, added to --latency.")
    saved_latency: float = _opt(0.0, "Seconds each saved-query or report write (create, replace, delete, add a "
                                     "query) takes before it is stored, as on a busy tenant.")
    cache_ttl: float = _opt(3600.0, "Seconds a result stays in the server-side cache (cache_ids expire after it).")
    cache_joins_running: bool = _opt(
        True, "cached_result_if_available may attach to a still-RUNNING execution of the same spec "
              "(Veza's behaviour here is unknown).")
    lenient: bool = _opt(False, "Drop unknown request fields silently (like Veza's gateway) instead of a 400.")
    fail_rate_429: float = _opt(0.0, "Probability that a request is refused with 429 and Retry-After.")
    retry_after: int = _opt(1, "Seconds announced in the Retry-After header of injected 429 replies.")
    rate_limit: str = _opt(
        "", "A gateway's rate limit per API key, such as 20/s or 600/min (default: none): calls beyond it get 429 "
            "ResourceExhausted with Retry-After. It meters nodes_async_create, query_spec:nodes and :result.")
    burst: int = _opt(0, "Calls a key may make at once under --rate-limit (default 0: one second's worth).")
    rate_limit_polls: bool = _opt(False, "--rate-limit meters polls (nodes_async_get) too [assumed: Veza's is "
                                         "unpublished].")
    job_slots: int = _opt(0, "Async executions running at once per API key (default 0: no bound); more wait "
                             "for a slot and stay PENDING/RUNNING longer, as on a busy tenant.")
    fail_rate_5xx: float = _opt(0.0, "Probability that a request fails with 500/502/503/504 before processing.")
    fail_rate_job: float = _opt(0.0, "Probability that a new async execution ends in --failed-status.")
    failed_status: str = _opt(
        "FAILED", "The status word a failed async execution reports (Veza's is unknown: FAILED, FAILURE, ERROR, "
                  "CANCELED... [assumed]); any other word tests a client's handling of the unexpected.")
    reset_rate: float = _opt(0.0, "Probability that a connection is reset before the request is processed.")
    empty_page_rate: float = _opt(0.0, "Probability that a page comes back empty with has_more true.")
    html_gateway_errors: bool = _opt(
        False, "Injected 502 and 504 replies carry an HTML page, as a proxy in front of Veza sends, not Veza's JSON.")
    slow_rate: float = _opt(0.0, "Probability that a reply is delayed by --slow-seconds after processing.")
    slow_seconds: float = _opt(5.0, "Delay of a slow reply, in seconds.")
    fault_seed: int = _opt(0, "Seed of the fault generator: the same seed and requests replay the same faults.")
    default_page_size: int = _opt(100, "Rows per page when a request gives no page_size (or 0).")
    max_page_size: int = _opt(10000, "Largest page served; larger page_size values are clamped to it.")
    oaa_types: str = _opt(
        "", "Comma-separated OAA types whose apps the graph also holds (OAA.Acme.User,OAA.Acme.document.Resource): "
            "each app gets users, groups, roles, permissions, an application and its listed resource types. "
            "`vqr run` passes the project's node_types.")
    builtin_queries: int = _opt(
        0, "Saved queries the tenant starts with as Veza's built-ins (query_type SYSTEM_CREATED; their names and "
           "specs are [assumed]), up to 6: editable, never deleted, back as they were after /_sandbox/reset.")
    state: str | None = _opt(
        None, "Keep results, jobs, graph advances, saved queries and reports in this directory, so a restarted "
              "sandbox serves the same cache and objects (default: none, memory only; `vqr run` on url: embedded "
              "uses .vqr/sandbox/).")

    def __post_init__(self) -> None:
        for name in ("fail_rate_429", "fail_rate_5xx", "fail_rate_job", "reset_rate", "empty_page_rate",
                     "slow_rate"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0.0 <= value <= 1.0):
                raise UsageError(f"--{name.replace('_', '-')} must be a probability between 0 and 1, got {value!r}")
        for name in ("latency", "cost_per_unit", "saved_latency", "cache_ttl", "slow_seconds"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise UsageError(f"--{name.replace('_', '-')} must be a number of seconds >= 0, got {value!r}")
        if not 0 <= self.port <= 65535:
            raise UsageError(f"--port must be between 0 and 65535, got {self.port}")
        if self.nodes < 1:
            raise UsageError(f"--nodes must be at least 1, got {self.nodes}")
        if not 1 <= self.default_page_size <= self.max_page_size:
            raise UsageError("--default-page-size must be between 1 and --max-page-size")
        try:
            self.epoch_datetime()
        except ValueError:
            raise UsageError(f"--epoch must be RFC 3339 (2026-11-01T00:00:00Z), got {self.epoch!r}") from None
        if self.rate_limit:
            parse_rate(self.rate_limit, what="--rate-limit")
        if not 0 <= self.builtin_queries <= 6:  # saved_builtin.MAX_BUILTIN_QUERIES
            raise UsageError(f"--builtin-queries must be between 0 and 6, got {self.builtin_queries}")
        if self.burst < 0 or self.job_slots < 0:
            raise UsageError("--burst and --job-slots must be >= 0")
        if self.retry_after < 0:
            raise UsageError("--retry-after must be >= 0")
        if (self.certfile is None) != (self.keyfile is None):
            raise UsageError("--certfile and --keyfile go together")
        if not self.failed_status or not self.failed_status.isprintable() or " " in self.failed_status \
                or self.failed_status in ("PENDING", "RUNNING", "DONE"):
            raise UsageError(f"--failed-status must be one word other than PENDING, RUNNING and DONE, "
                             f"got {self.failed_status!r}")
        if self.api_key is not None and not self.api_key.strip():
            raise UsageError("--api-key must not be empty")
        if self.oaa_type_names():
            self._check_oaa_types()

    def _check_oaa_types(self) -> None:
        # Imported only here: every vqr command builds its options from this module, and the OAA planner pulls in
        # the graph generator (~20 ms of start-up) that only a sandbox with OAA types needs.
        from runner.sandbox.oaa import MAX_OAA_TYPES, plan_apps

        for name in self.oaa_type_names():
            if parse_oaa(name) is None:
                raise UsageError(f"--oaa-types: {name!r} breaks the OAA naming rule: {OAA_RULE}")
        generated = sum(len(plan.type_names()) for plan in plan_apps(self.oaa_type_names()))
        if generated > MAX_OAA_TYPES:
            raise UsageError(f"--oaa-types: these apps need {generated} node types; the sandbox holds at most "
                             f"{MAX_OAA_TYPES} (each app has five of its own besides its resource types)")

    def rate_per_second(self) -> float | None:
        """`rate_limit` in calls per second, None without one."""
        return parse_rate(self.rate_limit, what="--rate-limit") if self.rate_limit else None

    def oaa_type_names(self) -> tuple[str, ...]:
        """The OAA types of `oaa_types`, in order, blanks dropped."""
        return tuple(item.strip() for item in self.oaa_types.split(",") if item.strip())

    def graph_identity(self) -> dict[str, object]:
        """What decides the generated graph: a stored result is served again only for the same one."""
        return {"nodes": self.nodes, "seed": self.seed, "epoch": self.epoch_datetime().isoformat(),
                "oaa_types": sorted(set(self.oaa_type_names()))}

    def graph_name(self) -> str:
        """`graph-<digest>` of `graph_identity()`: the store's directory of this graph, and the embedded target's
        history name, so the two always agree."""
        return graph_name(self.graph_identity())

    def epoch_datetime(self) -> datetime:
        moment = datetime.fromisoformat(self.epoch.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            raise ValueError("no time zone")
        return moment.astimezone(UTC)

    def __repr__(self) -> str:
        # The API key is a secret: never let it reach a log line or a traceback.
        shown = {f.name: getattr(self, f.name) for f in fields(self)}
        if shown["api_key"] is not None:
            shown["api_key"] = "***"
        return "SandboxConfig(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"


@dataclass(frozen=True, kw_only=True)
class OptionSpec:
    """One `vqr sandbox serve` option: its click declaration, the config field it sets, type, default and help.

    `flag` is `--name` for valued options and `--name/--no-name` for booleans (pass it to `click.option` as is).
    """

    flag: str
    field_name: str
    type: type
    default: Any
    help: str
    is_flag: bool


def option_specs() -> tuple[OptionSpec, ...]:
    """Every CLI option of `vqr sandbox serve`, in declaration order; bool fields are on/off flags."""
    specs = []
    hints = {"str | None": str, "int": int, "float": float, "bool": bool, "str": str}
    for f in fields(SandboxConfig):
        if not f.metadata.get("cli"):
            continue
        kind = hints[str(f.type)]
        default = None if f.default is MISSING else f.default
        name = f.name.replace("_", "-")
        flag = f"--{name}/--no-{name}" if kind is bool else f"--{name}"
        specs.append(OptionSpec(flag=flag, field_name=f.name, type=kind,
                                default=default, help=str(f.metadata["help"]), is_flag=kind is bool))
    return tuple(specs)


def graph_name(identity: Mapping[str, object]) -> str:
    """`graph-` and the first 16 hex digits of the sha256 of `identity` as sorted-key JSON."""
    return "graph-" + hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]
