"""The assumed facts of Veza's async poll as one frozen value, `ApiProtocol`: the poll path, the status words and where
the poll's paging goes (veza-api.md §2, §8.1). Settings builds it from vqr.yaml's `api:` section (`from_section`),
the client speaks it; the defaults are today's assumptions, so a tenant that differs is fixed in one line of vqr.yaml,
not in code. Pure, no I/O.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass

# [assumed] The public path of the async get: the web UI uses the same verb under /api/private/ [3P].
DEFAULT_POLL_PATH = "/api/v1/assessments/query_spec:nodes_async_get"

# [assumed] Only DONE has been seen from a tenant [3P]; Veza's documented AsyncTask uses COMPLETE and SUCCEEDED
# (veza-api.md §2): a tenant that says so lists them in `api: success_statuses`.
DEFAULT_SUCCESS_STATUSES: tuple[str, ...] = ("DONE",)
# [assumed] Terminal failure words; anything that is neither these nor a success word means "still working" until the
# query's deadline, so an unforeseen word costs time, never a wrong answer.
DEFAULT_FAILURE_STATUSES: tuple[str, ...] = (
    "FAILED", "FAILURE", "ERROR", "CANCELED", "CANCELLED", "EXPIRED", "TIMED_OUT", "ABORTED")
# The same rule as the schema's (schemas/src/project.yaml): non-empty segments of path characters, so a path can
# neither name another host (`//host`, `https://`) nor smuggle a query string or fragment.
POLL_PATH = re.compile(r"(/[A-Za-z0-9._~:@!$&'()*+,;=%-]+)+")


class JobState(enum.Enum):
    """What a status word means to the runner: a success word, a terminal failure word, or anything else (still
    working)."""

    DONE = "done"
    FAILED = "failed"
    RUNNING = "running"


class Paging(enum.Enum):
    """Where a poll carries `page_size` and `page_token`."""

    BODY = "body"  # [assumed] in the JSON body beside query_result_id (veza-api.md §2)
    QUERY = "query"  # in the query string, as `query_spec:nodes` takes them [D]


@dataclass(frozen=True, kw_only=True)
class ApiProtocol:
    """How the runner polls an async query and reads its status. Every default is [assumed] (veza-api.md §8.1)."""

    poll_path: str = DEFAULT_POLL_PATH
    success_statuses: frozenset[str] = frozenset(DEFAULT_SUCCESS_STATUSES)
    failure_statuses: frozenset[str] = frozenset(DEFAULT_FAILURE_STATUSES)
    poll_paging: Paging = Paging.BODY

    def __post_init__(self) -> None:
        # Status words compare upper-cased (job_state): stored so, `done` and `DONE` are one word, also in the check
        # that no word is both a success and a failure.
        object.__setattr__(self, "success_statuses", frozenset(w.upper() for w in self.success_statuses))
        object.__setattr__(self, "failure_statuses", frozenset(w.upper() for w in self.failure_statuses))
        if not POLL_PATH.fullmatch(self.poll_path):
            raise ValueError(f"the poll path must be a path on the tenant such as {DEFAULT_POLL_PATH}, got "
                             f"{self.poll_path[:120]!r}")
        if not self.success_statuses:
            raise ValueError("at least one success status is needed, or no job could ever finish")
        both = self.success_statuses & self.failure_statuses
        if both:
            raise ValueError(f"{', '.join(sorted(both))} cannot be both a success and a failure status")

    def job_state(self, status: str) -> JobState:
        """Case-insensitive: both sides are upper-cased, so `success_statuses: [done]` matches Veza's `DONE`."""
        status = status.upper()
        if status in self.success_statuses:
            return JobState.DONE
        return JobState.FAILED if status in self.failure_statuses else JobState.RUNNING

    @classmethod
    def from_section(cls, section: Mapping[str, object]) -> ApiProtocol:
        """The protocol of vqr.yaml's `api:` mapping (already schema-checked); a key left out keeps its default.
        `ValueError` when the values contradict each other (a word that is both a success and a failure)."""
        default = cls()
        paging = section.get("poll_paging")
        return cls(poll_path=str(section.get("poll_path", default.poll_path)),
                   success_statuses=_words(section.get("success_statuses"), default.success_statuses),
                   failure_statuses=_words(section.get("failure_statuses"), default.failure_statuses),
                   poll_paging=Paging(paging) if isinstance(paging, str) else default.poll_paging)


def _words(value: object, default: frozenset[str]) -> frozenset[str]:
    return frozenset(str(word) for word in value) if isinstance(value, list) else default
