"""The domain uses the standard library only; the core never imports a framework."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = {"domain", "application", "adapters", "entrypoints", "config"}


def imported_top_level_modules(package: str) -> set[tuple[str, str]]:
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            found.update((str(path.relative_to(ROOT)), n.split(".")[0]) for n in names)
    return found


@pytest.mark.parametrize(
    ("package", "allowed_first_party"),
    [("domain", {"domain"}), ("application", {"domain", "application"})],
)
def test_core_packages_import_only_the_standard_library_and_inner_layers(
    package: str, allowed_first_party: set[str]
) -> None:
    offenders = {
        (where, module)
        for where, module in imported_top_level_modules(package)
        if module not in sys.stdlib_module_names
        and module not in allowed_first_party
        and module != "__future__"
    }

    assert offenders == set()


def test_the_scanner_sees_a_third_party_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Guards the guard: a scanner that found nothing would pass the test above vacuously.
    modules = imported_top_level_modules("domain")

    assert ("domain/task.py", "dataclasses") in modules
    assert ("domain/task.py", "domain") in modules
