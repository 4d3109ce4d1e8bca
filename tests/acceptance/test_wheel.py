"""vqr as a user gets it from a package index: built as a wheel, installed outside this checkout, used from a
directory that is not the repository (bundled schemas, every subpackage, the embedded sandbox)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_installs_and_runs_outside_the_checkout(tmp_path: Path) -> None:
    # Build from a clean copy: a `build/` directory left in the checkout would smuggle stale files into the wheel.
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "reports", ".vqr", "__pycache__", ".*_cache", ".hypothesis"))
    wheels = tmp_path / "wheels"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels),
                            str(source)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    [wheel] = wheels.glob("vqr-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    target = Path(sysconfig.get_path("purelib", vars={"base": str(env_dir), "platbase": str(env_dir)}))
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
                                str(target), str(wheel)], capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr
    # Dependencies come from the test environment's site-packages, appended after the wheel's own directory, so
    # `runner` itself can only be the installed wheel, never this checkout.
    deps = sysconfig.get_path("purelib")
    (target / "zz-test-deps.pth").write_text(deps + "\n")
    python = env_dir / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["VQR_SANDBOX_LATENCY"] = "0.02"
    env["VQR_SANDBOX_NODES"] = "400"
    where = subprocess.run([str(python), "-c", "import runner; print(runner.__file__)"], capture_output=True,
                           text=True, cwd=tmp_path, env=env, timeout=60)
    assert where.returncode == 0 and str(target) in where.stdout, where.stdout + where.stderr
    for args in (["init", "repo"], ["lint"], ["run", "--quiet"], ["report", "--format", "md"]):
        cwd = tmp_path if args[0] == "init" else tmp_path / "repo"
        done = subprocess.run([str(python), "-m", "runner", *args], capture_output=True, text=True, cwd=cwd, env=env,
                              timeout=120)
        assert done.returncode == 0, f"{args}: {done.stdout}{done.stderr}"
    assert (tmp_path / "repo" / "schemas" / "query-file.schema.json").is_file()
    assert (tmp_path / "repo" / "reports" / "latest" / "report.html").is_file()
