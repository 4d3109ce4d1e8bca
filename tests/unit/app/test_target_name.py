"""`target_name`: what the journal keys history by and run.json shows as the target, one name per target however
its URL is written, and never a credential."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from runner.app.run_command import embedded_target, target_name
from runner.sandbox.config import SandboxConfig
from runner.sandbox.store import StateStore


@pytest.mark.parametrize(("url", "name"), [
    ("https://acme.vezacloud.com", "https://acme.vezacloud.com"),
    ("https://acme.vezacloud.com/", "https://acme.vezacloud.com"),
    ("HTTPS://Acme.VezaCloud.com:443/", "https://acme.vezacloud.com"),  # the scheme's default port is no port
    ("http://127.0.0.1:80/", "http://127.0.0.1"),
    ("http://127.0.0.1:8443", "http://127.0.0.1:8443"),  # another port is another target (a second sandbox)
    ("https://gw.example.com/veza/eu/", "https://gw.example.com/veza/eu"),  # a path behind a gateway is kept
    ("https://user:s3cret@acme.vezacloud.com/?token=s3cret#frag", "https://acme.vezacloud.com"),
    ("http://[::1]:9000/", "http://[::1]:9000"),
])
def test_a_target_has_one_name_without_credentials(url: str, name: str) -> None:
    assert target_name(url) == name
    assert "s3cret" not in target_name(url)


def test_the_embedded_target_is_the_graph_the_sandbox_store_names(tmp_path: Path) -> None:
    """One name per generated graph, and the same one the sandbox's own store gives that graph's directory."""
    config = SandboxConfig(nodes=300, seed=7, oaa_types="OAA.Acme.User", state=str(tmp_path))
    store = StateStore(tmp_path, config.graph_identity(), ttl=60)
    assert embedded_target(config) == f"embedded/{store.dir.name}"
    assert embedded_target(dataclasses.replace(config, latency=0.5)) == embedded_target(config)  # not the graph
    others = {embedded_target(dataclasses.replace(config, **change))
              for change in ({"nodes": 301}, {"seed": 8}, {"oaa_types": ""})}
    assert len(others | {embedded_target(config)}) == 4
