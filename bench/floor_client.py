"""The floor beside the wall and client-CPU rows: about the least an asyncio + aiohttp client spends on the same
batch over TLS, in CPU and in wall time.

Run as its own process by `bench/floor_runs.py`, for client-cpu, nightly-again and scale-10000
(`python -m bench.floor_client SPECS_JSON OUT_DIR CONCURRENCY LATENCY`, the sandbox's URL, key and CA from
`VEZA_URL`, `VEZA_API_KEY` and `REQUESTS_CA_BUNDLE`), so that `wait4` gives its own CPU like vqr's. Per spec: one
submit (`cached_result_if_available`, as the batch's policy), polls until DONE (the first after the sandbox's
latency, then 0.1 s apart), every page read, the rows written as JSON lines. No journal, no lint or compile, no
lifecycle, CSV or reports, no retries: what is left is the HTTP stack's own cost and Python's and aiohttp's
start-up, which a whole `vqr run` process is not expected to go below on the same machine. Not the product: a
yardstick.
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import sys
from pathlib import Path
from typing import Any

import aiohttp
import orjson

CREATE = "/api/v1/assessments/query_spec:nodes_async_create"
GET = "/api/v1/assessments/query_spec:nodes_async_get"  # the default `api: poll_path`
NEXT_POLL = 0.1


async def _one(session: aiohttp.ClientSession, url: str, gate: asyncio.Semaphore, spec: dict[str, Any],
               out: Path, first_poll: float) -> None:
    async with gate:
        body = {"cached_result_if_available": {"request": {"body": spec}, "max_staleness": "43200s"}}
        async with session.post(url + CREATE, data=orjson.dumps(body)) as reply:
            reply.raise_for_status()
            query_result_id = orjson.loads(await reply.read())["query_result_id"]
        await asyncio.sleep(first_poll)  # the job's length: the first poll then finds most jobs done
        token = ""
        with out.open("wb") as rows:
            while True:
                poll = {"query_result_id": query_result_id, "page_size": "1000", "page_token": token}
                async with session.post(url + GET, data=orjson.dumps(poll)) as reply:
                    reply.raise_for_status()
                    page = orjson.loads(await reply.read())
                if page.get("status") != "DONE":
                    await asyncio.sleep(NEXT_POLL)
                    continue
                rows.writelines(orjson.dumps(row, option=orjson.OPT_SORT_KEYS) + b"\n"
                                for row in [*(page.get("values") or []), *(page.get("path_values") or [])])
                token = page.get("next_page_token") or ""
                if not page.get("has_more") or not token:
                    return


async def _run(specs: list[dict[str, Any]], out_dir: Path, concurrency: int, latency: float) -> None:
    url, key = os.environ["VEZA_URL"], os.environ["VEZA_API_KEY"]
    bundle = os.environ.get("REQUESTS_CA_BUNDLE")
    tls = ssl.create_default_context(cafile=bundle) if bundle else ssl.create_default_context()
    headers = {"authorization": f"Bearer {key}", "content-type": "application/json"}
    gate = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession(headers=headers, connector=aiohttp.TCPConnector(ssl=tls, limit=concurrency)) \
            as session:
        await asyncio.gather(*(_one(session, url, gate, spec, out_dir / f"q{i:04d}.jsonl", latency)
                               for i, spec in enumerate(specs)))


def main(argv: list[str]) -> int:
    specs_file, out_dir, concurrency, latency = Path(argv[0]), Path(argv[1]), int(argv[2]), float(argv[3])
    out_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(_run(json.loads(specs_file.read_text(encoding="utf-8")), out_dir, concurrency, latency))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
