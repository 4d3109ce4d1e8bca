"""Every Veza API path the runner calls, in one place, each labelled with how sure we are of it (veza-api.md §2).

Constants only, no I/O. Paths are relative to the tenant's base URL. The async-get path is only the default of
vqr.yaml's `api: poll_path` (`model/protocol.py`): a tenant whose path differs is fixed in vqr.yaml, not here.
"""

from __future__ import annotations

from runner.model.protocol import DEFAULT_POLL_PATH

# [doc] Submit an async node query: body is one of the three create modes (veza-api.md §3).
NODES_ASYNC_CREATE = "/api/v1/assessments/query_spec:nodes_async_create"

# [assumed] Poll an async query and read its pages: body {query_result_id, page_size, page_token}. The web UI uses
# the same verb under /api/private/ [seen]; the public path and body are open question §8.1, hence settings
# (`api: poll_path`, `api: poll_paging`); this is their default.
NODES_ASYNC_GET = DEFAULT_POLL_PATH

# [doc] Synchronous nodes: body is the spec itself; paging as query parameters page_size, page_token, order_by.
NODES_SYNC = "/api/v1/assessments/query_spec:nodes"

# [doc] Synchronous count: body is the spec; reply {result_type, number_value: "<int64>"}.
COUNT_SYNC = "/api/v1/assessments/query_spec:result"

# [sdk] The official SDK's connection check (oaaclient), answered by every tenant that accepts the key.
CONNECTION_CHECK = "/api/v1/providers/custom/templates"

# [assumed] Where a success reply's request id may be found when the body does not carry one.
REQUEST_ID_HEADERS = ("x-request-id", "x-veza-request-id", "request-id")

# [D][SDK] Saved queries: GET lists (page_size, page_token, filter=name eq "..."), POST creates; GET, PUT (the full
# body) and DELETE (?force=) under `/{id}` (veza-api.md §9).
SAVED_QUERIES = "/api/v1/assessments/queries"

# [SDK] Reports (a preview API): GET lists, POST creates {name, description, queries: [{query: id}]};
# PUT `/{rid}/queries/{qid}` (no body) adds a saved query to a report.
REPORTS = "/api/preview/assessments/reports"
