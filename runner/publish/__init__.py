"""`vqr publish` (issue 16): the repository's queries as Veza saved queries, planned and applied like infrastructure.

`state.py` builds the desired saved-query bodies and hashes managed fields; `planner.py` compares desired with the
tenant's listing into a `PublishPlan` (rendering and the commands are not written yet). Pure, no I/O: the
network calls are `runner.client.saved`'s, driven by `runner.app.publish_command`.
"""

from __future__ import annotations

from runner.publish.planner import Action, Change, PublishPlan, make_plan, tenant_hash
from runner.publish.state import desired_bodies, managed_fields, state_hash, with_hash

__all__ = ["Action", "Change", "PublishPlan", "desired_bodies", "make_plan", "managed_fields", "state_hash",
           "tenant_hash", "with_hash"]
