"""Task types from installed packages: a distribution declaring an entry point in the group
`taskhub.task_types` joins the registry, as a module named in TASKHUB_TASK_MODULES does.

Each test lays a distribution out on disk as pip installs one (the package beside its
.dist-info with METADATA and entry_points.txt) and puts the folder on sys.path: what
importlib.metadata, and so taskhub, finds in a real environment."""

from __future__ import annotations

import sys
import textwrap
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from adapters.task_types.builtin import ENTRY_POINT_GROUP, TaskTypeLoadError, builtin_registry

TASK_MODULE = """
from adapters.task_types.registry import TaskArguments, TaskType


class Arguments(TaskArguments):
    pass


def run(ctx, args):
    return "done"


TASK_TYPES = (TaskType(name={name!r}, function=run, arguments=Arguments, description="d"),)
"""

Install = Callable[..., str]


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Install:
    """Installs a distribution whose module defines one task type; returns the module name."""

    def install_distribution(
        task_type: str, *, entry_point: str = "{module}", source: str = TASK_MODULE
    ) -> str:
        module = f"team_tasks_{uuid.uuid4().hex[:8]}"
        site = tmp_path / module
        site.mkdir()
        (site / f"{module}.py").write_text(textwrap.dedent(source.format(name=task_type)))
        info = site / f"{module.replace('_', '-')}-1.2.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {module.replace('_', '-')}\nVersion: 1.2\n"
        )
        (info / "entry_points.txt").write_text(
            f"[{ENTRY_POINT_GROUP}]\nteam = {entry_point.format(module=module)}\n"
        )
        monkeypatch.syspath_prepend(str(site))
        monkeypatch.delitem(sys.modules, module, raising=False)
        return module

    return install_distribution


def names(registry_modules: str = "") -> list[str]:
    return [spec.name for spec in builtin_registry(registry_modules).all()]


def test_an_installed_package_with_an_entry_point_to_its_module_adds_its_task_types(
    install: Install,
) -> None:
    assert "report" not in names()

    install("report")

    assert "report" in names()
    assert "countdown" in names()  # the built-in ones stay


def test_an_entry_point_may_name_the_task_types_themselves(install: Install) -> None:
    install("report", entry_point="{module}:TASK_TYPES")

    assert "report" in names()


def test_a_module_both_named_in_the_setting_and_installed_joins_once(install: Install) -> None:
    module = install("report")

    assert names(module).count("report") == 1


def test_a_task_type_clashing_with_a_built_in_is_refused_naming_its_package(
    install: Install,
) -> None:
    module = install("countdown")

    with pytest.raises(TaskTypeLoadError) as refused:
        builtin_registry()

    message = str(refused.value)
    assert "'countdown'" in message
    assert f"{module.replace('_', '-')} 1.2" in message
    assert "taskhub itself" in message


def test_a_package_that_cannot_be_imported_is_named_in_the_error(install: Install) -> None:
    module = install("report", source="import a_module_nobody_installed\n")

    with pytest.raises(TaskTypeLoadError) as refused:
        builtin_registry()

    assert f"entry point team = {module}" in str(refused.value)
    assert "a_module_nobody_installed" in str(refused.value)


def test_an_entry_point_to_something_else_than_task_types_is_refused(install: Install) -> None:
    install("report", source="TASK_TYPES = ('report',)\n")

    with pytest.raises(TaskTypeLoadError, match="is not a TaskType"):
        builtin_registry()
