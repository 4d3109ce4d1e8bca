"""The peer of the batch benchmark: a sequential loop over Veza's official SDK (`oaaclient`), one synchronous
`query_spec:nodes` call (paged by the SDK) per spec, the way a script built on the SDK runs a batch.

`python -m bench.oaa_loop URL SPECS_JSON PAGE_SIZE` with `VEZA_API_KEY` (and `REQUESTS_CA_BUNDLE` for the sandbox's
CA) in the environment; prints one JSON line: `{"seconds": <loop only>, "specs": n, "rows": [per spec]}`.
Network I/O only. The SDK forces https, so the server must speak TLS.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from oaaclient.client import OAAClient

NODES = "/api/v1/assessments/query_spec:nodes"


def main(argv: list[str]) -> int:
    url, specs_file, page_size = argv[0], Path(argv[1]), int(argv[2])
    specs = json.loads(specs_file.read_text(encoding="utf-8"))
    client = OAAClient(url=url, api_key=os.environ["VEZA_API_KEY"])  # its constructor checks the connection
    rows: list[int] = []
    started = time.perf_counter()
    for spec in specs:
        result = client.api_post(NODES, data=spec, params={"page_size": page_size})
        rows.append(len(result) if isinstance(result, list) else -1)
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "specs": len(specs), "rows": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
