"""`sandbox/limits.py`'s pure parts: job slots per key, and the key digests buckets are kept under."""

from __future__ import annotations

import pytest

from runner.errors import UsageError
from runner.sandbox.config import SandboxConfig, option_specs
from runner.sandbox.limits import JobSlots, tenant_of


def test_executions_beyond_the_slots_wait_for_the_earliest_free_one() -> None:
    slots = JobSlots(2)
    starts = [slots.start("k", arrival=0.0, duration=1.0) for _ in range(5)]
    assert starts == [0.0, 0.0, 1.0, 1.0, 2.0]
    assert (slots.queued, slots.waited) == (3, 4.0)
    # Another key has slots of its own; a later arrival finds a slot free again.
    assert slots.start("other", arrival=0.0, duration=1.0) == 0.0
    assert slots.start("k", arrival=10.0, duration=1.0) == 10.0


def test_no_bound_without_slots() -> None:
    slots = JobSlots(0)
    assert [slots.start("k", arrival=1.0, duration=5.0) for _ in range(50)] == [1.0] * 50
    assert slots.queued == 0


def test_buckets_are_kept_under_a_digest_of_the_key() -> None:
    scope = {"headers": [(b"authorization", b"Bearer the-secret-key-123")]}
    tenant = tenant_of(scope)
    assert "the-secret-key-123" not in tenant and len(tenant) == 32
    assert tenant != tenant_of({"headers": [(b"authorization", b"Bearer another-key")]})


def test_the_knobs_are_serve_options_and_are_checked() -> None:
    flags = {spec.flag for spec in option_specs()}
    assert {"--rate-limit", "--burst", "--job-slots", "--rate-limit-polls/--no-rate-limit-polls"} <= flags
    assert SandboxConfig(rate_limit="600/min").rate_per_second() == 10.0
    assert SandboxConfig().rate_per_second() is None
    with pytest.raises(UsageError, match="--rate-limit must be a rate"):
        SandboxConfig(rate_limit="lots")
    with pytest.raises(UsageError, match="--burst and --job-slots"):
        SandboxConfig(job_slots=-1)
