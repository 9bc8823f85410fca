"""The real app over a real database (SQLite file, PostgreSQL when configured): requests
whose trouble only a real database shows. The broker is left out (a recording dispatcher)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient

from adapters.in_memory.dispatcher import RecordingTaskDispatcher
from entrypoints.api_container import ApiContainer
from entrypoints.http.app import create_app
from tests.support.databases import database_backends, migrated_database
from tests.unit.http.conftest import make_settings


@pytest.fixture(params=database_backends())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with migrated_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def container(database_url: str, tmp_path: Path) -> Iterator[ApiContainer]:
    container = ApiContainer()
    settings = make_settings(database_url=database_url, files_root=str(tmp_path / "files"))
    container.core.settings.override(providers.Object(settings))
    container.core.dispatcher.override(providers.Object(RecordingTaskDispatcher()))
    container.core.probes.override(providers.List())
    yield container
    container.core.engine().dispose()
    container.reset_override()


@pytest.fixture
def client(container: ApiContainer) -> Iterator[TestClient]:
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        yield client
