"""A `vqr sandbox serve` child process for the benchmarks: started on a free port of 127.0.0.1, read its URL (and CA
file with `--tls`) from stdout, ask it for `/_sandbox/stats`, reset it, sample its resident memory from /proc.

`with SandboxProcess(latency=1.0, nodes=5000, tls=True) as box: box.url, box.stats(), box.rss_mib()`. Process and
network I/O; the child is terminated (by its own pid) on exit.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from bench.harness import console_tool

KEY = "bench-key"  # the sandbox accepts any non-empty key; not a secret
STARTUP_TIMEOUT = 120.0  # a million-node graph takes a few seconds to build before the first reply


class SandboxProcess:
    def __init__(self, *, latency: float, nodes: int | None = None, tls: bool = False, cwd: Path,
                 extra: tuple[str, ...] = ()) -> None:
        argv = [*console_tool("vqr", "runner"), "sandbox", "serve", "--port", "0", "--latency", str(latency), *extra]
        if nodes is not None:
            argv += ["--nodes", str(nodes)]
        if tls:
            argv.append("--tls")
        self._argv = argv
        self._cwd = cwd
        self._tls = tls
        self._process: subprocess.Popen[str] | None = None
        self.url = ""
        self.ca_file: Path | None = None
        self._http: httpx.Client | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def start(self) -> SandboxProcess:
        self._process = subprocess.Popen(self._argv, cwd=self._cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=subprocess.DEVNULL, text=True)
        assert self._process.stdout is not None
        self.url = self._process.stdout.readline().strip()
        if not self.url.startswith(("http://127.0.0.1:", "https://127.0.0.1:")):
            self.stop()
            raise RuntimeError(f"the sandbox did not print its URL (got {self.url!r})")
        if self._tls:
            self.ca_file = Path(self._process.stdout.readline().strip())
        self._http = httpx.Client(base_url=self.url, headers={"authorization": f"Bearer {KEY}"},
                                  verify=str(self.ca_file) if self.ca_file else True, timeout=STARTUP_TIMEOUT)
        self.stats()  # the URL is printed before the graph is served: wait until it answers
        return self

    def stats(self) -> dict[str, Any]:
        assert self._http is not None
        reply = self._http.get("/_sandbox/stats")
        reply.raise_for_status()
        data: dict[str, Any] = reply.json()
        return data

    def reset(self) -> None:
        """Forget every cached result and zero the counters (the graph stays)."""
        assert self._http is not None
        self._http.post("/_sandbox/reset").raise_for_status()

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS line in /proc/<pid>/status")

    def client_env(self) -> dict[str, str]:
        """This process's environment pointed at the sandbox: `VEZA_URL`/`VEZA_API_KEY` set, other `VEZA_*` and the
        variables that pick an environment or tune the embedded sandbox dropped (the lint cache's stay)."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("VEZA_", "VQR_SANDBOX_")) and k not in ("VQR_ENV", "REQUESTS_CA_BUNDLE")}
        env.update({"VEZA_URL": self.url, "VEZA_API_KEY": KEY})
        if self.ca_file is not None:
            env["REQUESTS_CA_BUNDLE"] = str(self.ca_file)  # the SDK's HTTP library trusts this bundle
        return env

    def stop(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            if self._process.stdout is not None:
                self._process.stdout.close()
            self._process = None

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
