"""The API's route table as the tests see it: each method of each route under /api/v1, with
what it depends on and a valid request body built from its own body model."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import fastapi.params
import fastapi.routing
import httpx
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel

from entrypoints.api_container import ApiContainer
from entrypoints.http.app import create_app
from tests.unit.http.conftest import PASSWORD
from tests.unit.http.support import API

# Reachable without a token; every other route must demand one.
PUBLIC = {
    ("POST", f"{API}/auth/register"),
    ("POST", f"{API}/auth/token"),
    ("GET", f"{API}/health/live"),
    ("GET", f"{API}/health/ready"),
}

# A valid value for each body field a route may declare; the body of a request is built from
# the route's own body model, so a new required field without a sample fails loudly.
BODY_SAMPLES: dict[str, Any] = {
    "name": "changed by someone else",
    "priority": "low",
    "description": "changed by someone else",
    "artifact_location": "/somewhere/else",
    "task_type": "noop",
    "model_type": "onnx",
    "email": "carol@example.com",
    "password": PASSWORD,
    "current_password": PASSWORD,
    "new_password": "a brand new passphrase",
    "username": "carol@example.com",
    "is_active": False,
    "is_admin": True,
    "tasks": [{"name": "one of a batch", "task_type": "noop"}],
    "task": {"name": "nightly", "task_type": "noop"},
    "interval_seconds": 3600,
    "url": "https://hooks.example.com/taskhub",
    "events": ["task.completed"],
}
# Where one body model needs another sample for a field of the same name.
BODY_SAMPLES_OF: dict[str, dict[str, Any]] = {
    "SubmitWorkflowRequest": {
        "tasks": [{"key": "only", "name": "one of a workflow", "task_type": "noop"}]
    },
}


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    dependant: Dependant
    body_model: type[BaseModel] | None
    form: bool
    response_model: Any

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def path_params(self) -> list[str]:
        return [param.name for param in self.dependant.path_params]

    def depends_on(self, dependency: Callable[..., Any]) -> bool:
        return dependency in _calls(self.dependant)

    def body(self) -> dict[str, Any] | None:
        if self.body_model is None:
            return None
        fields = self.body_model.model_fields
        samples = {**BODY_SAMPLES, **BODY_SAMPLES_OF.get(self.body_model.__name__, {})}
        body = {name: samples[name] for name in fields if name in samples}
        missing = [name for name, f in fields.items() if f.is_required() and name not in body]
        assert not missing, f"{self}: add a value for {missing} to BODY_SAMPLES"
        self.body_model.model_validate(body)  # valid, so a 404 is never a masked 422
        return body

    def call(
        self,
        client: TestClient,
        headers: dict[str, str],
        ids: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        ids = ids or {}
        values = {name: ids.get(name) or str(uuid.uuid4()) for name in self.path_params}
        url = self.path.format(**values)
        if self.path.endswith("/events"):
            # An event stream does not end while its task is live: its first frame will do.
            with client.stream(self.method, url, headers=headers, params=params) as stream:
                body = b"" if stream.is_success else stream.read()
                return httpx.Response(
                    stream.status_code,
                    headers=stream.headers,
                    content=body,
                    request=stream.request,
                )
        if self.form:
            return client.request(
                self.method, url, data=self.body(), headers=headers, params=params
            )
        return client.request(self.method, url, json=self.body(), headers=headers, params=params)

    @property
    def query_params(self) -> set[str]:
        """The query parameters the endpoint and its dependencies declare."""
        return {
            param.alias
            for dependant in _dependants(self.dependant)
            for param in dependant.query_params
        }


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any] | None]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def _served_routes(app: fastapi.FastAPI) -> list[Any]:
    # FastAPI >= 0.16x keeps included routers whole; older versions flatten them into app.routes.
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    return list(contexts(app.routes)) if contexts else list(app.routes)


def route_table(app: fastapi.FastAPI) -> list[Endpoint]:
    endpoints = []
    for route in _served_routes(app):
        if not isinstance(getattr(route, "original_route", route), APIRoute):
            continue
        if not route.path.startswith(API):
            continue
        body = route.body_field
        body_model = body.field_info.annotation if body else None
        form = body is not None and isinstance(body.field_info, fastapi.params.Form)
        for method in sorted(route.methods):
            endpoints.append(
                Endpoint(
                    method, route.path, route.dependant, body_model, form, route.response_model
                )
            )
    return endpoints


ENDPOINTS = route_table(create_app(ApiContainer()))
