"""The embedded sandbox of `vqr run` becomes a rate-limited tenant through VQR_SANDBOX_RATE_LIMIT / _BURST /
_JOB_SLOTS, as `vqr sandbox serve --rate-limit --burst --job-slots` does."""

from __future__ import annotations

import pytest

from runner.app.run_command import _sandbox_config
from runner.errors import UsageError


def test_the_embedded_sandbox_takes_the_limits_from_the_environment() -> None:
    config = _sandbox_config({"VQR_SANDBOX_RATE_LIMIT": "20/s", "VQR_SANDBOX_BURST": "5",
                              "VQR_SANDBOX_JOB_SLOTS": "3"})
    assert (config.rate_per_second(), config.burst, config.job_slots) == (20.0, 5, 3)
    assert _sandbox_config({}).rate_per_second() is None


@pytest.mark.parametrize(("name", "value", "message"), [("VQR_SANDBOX_RATE_LIMIT", "lots", "--rate-limit"),
                                                        ("VQR_SANDBOX_JOB_SLOTS", "two", "VQR_SANDBOX_")])
def test_bad_limits_are_usage_errors(name: str, value: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        _sandbox_config({name: value})
