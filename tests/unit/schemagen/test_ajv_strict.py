"""The published schemas load in ajv (the JavaScript validator most editors and CI tools use) in its default strict
mode, which rejects unknown keywords such as vendor `x-*` notes. ajv-cli and ajv-formats are installed by npm once
into a cache directory (`VQR_TEST_CACHE`, else ~/.cache/vqr-tests); `.ci/run` installs node and npm when missing."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from runner.resources import bundled_schemas_dir

PACKAGES = ("ajv-cli@5.0.0", "ajv-formats@3.0.1")


@pytest.fixture(scope="session")
def ajv() -> Path:
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        pytest.fail("node and npm are missing: `.ci/run` installs Debian's nodejs and npm packages "
                    "(apt-get install -y nodejs npm); install them to run the ajv test")
    cache = Path(os.environ.get("VQR_TEST_CACHE") or Path.home() / ".cache" / "vqr-tests")
    home = cache / "-".join(p.replace("@", "-") for p in PACKAGES)
    binary = home / "node_modules" / ".bin" / "ajv"
    if not binary.exists():
        # Installed beside, then renamed into place: parallel test workers never see half an install.
        staging = cache / f".staging-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        done = subprocess.run([npm, "install", "--prefix", str(staging), "--no-audit", "--no-fund",
                               "--loglevel=error", *PACKAGES], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        try:
            staging.rename(home)
        except OSError:  # another worker won the race
            shutil.rmtree(staging, ignore_errors=True)
    return binary


@pytest.mark.parametrize(("spec", "pattern"), [("draft2020", "*.schema.json"), ("draft7", "draft-07/*.schema.json")])
def test_every_published_schema_compiles_in_ajv_default_strict_mode(ajv: Path, spec: str, pattern: str) -> None:
    files = sorted(bundled_schemas_dir().glob(pattern))
    assert files
    done = subprocess.run([str(ajv), "compile", f"--spec={spec}", "-c", "ajv-formats",
                           *(arg for file in files for arg in ("-s", str(file)))],
                          capture_output=True, text=True, timeout=60, cwd=ajv.parents[2])
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert output.count(" is valid") == len(files), output
    assert "unknown keyword" not in output


def test_ajv_strict_mode_rejects_a_vendor_keyword(ajv: Path, tmp_path: Path) -> None:
    # The check has teeth: the `x-assumed` the schemas used to carry fails exactly this command.
    noted = tmp_path / "noted.schema.json"
    noted.write_text('{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "string", '
                     '"x-assumed": true}\n', encoding="utf-8")
    done = subprocess.run([str(ajv), "compile", "--spec=draft2020", "-c", "ajv-formats", "-s", str(noted)],
                          capture_output=True, text=True, timeout=60, cwd=ajv.parents[2])
    assert done.returncode != 0 and 'unknown keyword: "x-assumed"' in done.stdout + done.stderr
