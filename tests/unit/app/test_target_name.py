"""`target_name`: what the journal keys history by and run.json shows as the target, one name per target however
its URL is written, and never a credential."""

from __future__ import annotations

import pytest

from runner.app.run_command import target_name


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
