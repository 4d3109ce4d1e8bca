"""What a wheel ships: every subpackage of `runner`, and the bundled schemas (a user's `pip install vqr`)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_subpackage_is_listed_for_the_wheel() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "runner").rglob("__init__.py")}
    assert on_disk <= listed, f"missing from pyproject's packages: {sorted(on_disk - listed)}"
    assert config["package-dir"]["runner.bundled_schemas"] == "schemas"


def test_the_bundled_schema_globs_cover_every_schema_file() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    # Each `runner.bundled_schemas[.sub]` entry globs inside schemas[/sub] (openapi/ and src/ are data packages).
    shipped = {p for package, globs in config["package-data"].items() if package.startswith("runner.bundled_schemas")
               for pattern in globs
               for p in (ROOT / "schemas" / Path(*package.split(".")[2:])).glob(pattern)}
    wanted = {p for p in (ROOT / "schemas").rglob("*") if p.is_file()}
    assert wanted <= shipped, f"not shipped: {sorted(str(p.relative_to(ROOT)) for p in wanted - shipped)}"
