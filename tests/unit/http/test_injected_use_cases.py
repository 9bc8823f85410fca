"""Routes receive typed use cases: each alias declares the type its provider builds, and
every route's use cases come through such an alias."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, get_args, get_origin

import pytest
from fastapi import Request
from fastapi.params import Depends

from entrypoints.api_container import ApiContainer
from entrypoints.http import use_cases
from tests.unit.http.route_table import ENDPOINTS, _calls

ALIASES = {
    name: alias
    for name, alias in vars(use_cases).items()
    if get_origin(alias) is Annotated and isinstance(get_args(alias)[1], Depends)
}
PROVIDED = {get_args(alias)[1].dependency for alias in ALIASES.values()}


def _request_to(container: ApiContainer) -> Request:
    app = type("App", (), {"state": type("State", (), {"container": container})()})()
    return Request({"type": "http", "app": app})


@pytest.mark.parametrize("name", sorted(ALIASES))
def test_each_alias_resolves_to_the_type_it_declares(name: str, container: ApiContainer) -> None:
    declared, depends = get_args(ALIASES[name])
    assert depends.dependency.__annotations__["return"] is declared
    built = asyncio.run(depends.dependency(_request_to(container)))
    assert isinstance(built, declared)


def test_every_use_case_a_route_receives_comes_through_a_typed_alias() -> None:
    untyped: list[str] = []
    for endpoint in ENDPOINTS:
        for call in _calls(endpoint.dependant):
            name = getattr(call, "__name__", "")
            if name.startswith("provide_") and call not in PROVIDED:
                untyped.append(f"{endpoint}: {name}")
    assert ALIASES, "no alias found: the module moved?"
    assert untyped == []


def test_a_route_depends_on_the_aliases_of_the_use_cases_it_runs() -> None:
    submit = next(e for e in ENDPOINTS if str(e) == "POST /api/v1/tasks")
    dependency: Any = get_args(use_cases.SubmitTaskUseCase)[1].dependency
    assert submit.depends_on(dependency)
