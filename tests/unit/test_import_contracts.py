"""The import-linter contracts name every module they are about: a module added later and
left out of a contract's list would escape it silently (lint-imports only checks the
modules a contract names)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
COMPOSITION_ROOT = {
    "entrypoints.container",
    "entrypoints.api_container",
    "entrypoints.worker_container",
    "entrypoints.beat_container",
    "entrypoints.cli_container",
}


def contract(name_starts_with: str) -> dict[str, Any]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    (found,) = (c for c in contracts if c["name"].startswith(name_starts_with))
    return dict(found)


def children(package: str) -> set[str]:
    """The package's direct submodules and subpackages, by their dotted names."""
    names = set()
    for path in (ROOT / package).iterdir():
        if path.is_dir() and (path / "__init__.py").exists():
            names.add(f"{package}.{path.name}")
        elif path.suffix == ".py" and path.stem != "__init__":
            names.add(f"{package}.{path.stem}")
    return names


def test_every_entrypoint_outside_the_composition_root_is_kept_from_adapters_and_config() -> None:
    named = set(contract("Only the composition root imports adapters and config")["source_modules"])

    assert named == children("entrypoints") - COMPOSITION_ROOT


def test_every_adapter_is_in_the_independence_contract() -> None:
    named = set(contract("Adapters are independent of each other")["modules"])

    assert named == children("adapters")
