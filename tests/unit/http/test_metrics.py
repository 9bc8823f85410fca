"""The API's /metrics: requests counted by route template, method and status, never by id."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from entrypoints.api_container import ApiContainer
from entrypoints.http.app import create_app
from tests.unit.http.conftest import Account
from tests.unit.http.support import API, create_task

REQUESTS = "taskhub_http_requests_total"
DURATIONS = "taskhub_http_request_duration_seconds_count"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def client(container: ApiContainer) -> Iterator[TestClient]:
    """A fresh app per test (not the shared one), so every count starts at zero."""
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        yield client


def scrape(client: TestClient) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def requests(samples: Samples, route: str, method: str, status: int) -> float:
    labels = frozenset({"route": route, "method": method, "status": str(status)}.items())
    return samples.get((REQUESTS, labels), 0)


def route_labels(samples: Samples) -> set[str]:
    return {dict(labels)["route"] for name, labels in samples if name == REQUESTS}


def test_requests_are_counted_by_route_template_method_and_status(
    client: TestClient, alice: Account
) -> None:
    task = create_task(client, alice)
    client.get(f"{API}/tasks/{task['id']}", headers=alice.headers)
    client.get(f"{API}/tasks/{task['id']}", headers=alice.headers)
    client.get(f"{API}/tasks/{uuid.uuid4()}", headers=alice.headers)

    samples = scrape(client)

    assert requests(samples, f"{API}/tasks", "POST", 201) == 1
    assert requests(samples, f"{API}/tasks/{{task_id}}", "GET", 200) == 2
    assert requests(samples, f"{API}/tasks/{{task_id}}", "GET", 404) == 1
    latency = frozenset({"route": f"{API}/tasks/{{task_id}}", "method": "GET"}.items())
    assert samples[(DURATIONS, latency)] == 3


def test_no_label_carries_an_id_only_route_templates(
    client: TestClient, alice: Account, signup: Callable[..., Account]
) -> None:
    task = create_task(client, alice)
    admin = signup("root@example.com", admin=True)
    ids = [task["id"], alice.id, str(uuid.uuid4())]
    client.post(f"{API}/tasks/{task['id']}/cancel", headers=alice.headers)
    client.patch(f"{API}/users/{alice.id}", json={"is_active": True}, headers=admin.headers)
    client.get(f"{API}/tasks/{ids[2]}/nothing-here")

    response = client.get("/metrics")

    assert not [i for i in ids if i in response.text]
    assert route_labels(scrape(client)) == {
        f"{API}/auth/register",
        f"{API}/auth/token",
        f"{API}/tasks",
        f"{API}/tasks/{{task_id}}/cancel",
        f"{API}/users/{{user_id}}",
        "/metrics",
        "unmatched",
    }


def test_paths_no_route_matches_share_the_unmatched_label(client: TestClient) -> None:
    client.get(f"/nope/{uuid.uuid4()}")
    client.get(f"{API}/tasks/{uuid.uuid4()}/nothing-here")

    samples = scrape(client)

    assert requests(samples, "unmatched", "GET", 404) == 2


def test_a_method_the_route_does_not_allow_is_counted_under_its_template(
    client: TestClient,
) -> None:
    client.put(f"{API}/tasks")

    assert requests(scrape(client), f"{API}/tasks", "PUT", 405) == 1


def test_methods_nobody_routes_share_one_label(client: TestClient) -> None:
    client.request("BREW", f"{API}/tasks")
    client.request("PROPFIND", f"{API}/tasks")

    assert requests(scrape(client), f"{API}/tasks", "other", 405) == 2


def test_a_request_the_app_fails_on_is_counted_as_the_500_the_client_got(
    client: TestClient, container: ApiContainer, alice: Account
) -> None:
    container.core.list_tasks.override(providers.Callable(_failing_use_case))

    response = client.get(f"{API}/tasks", headers=alice.headers)

    assert response.status_code == 500
    assert requests(scrape(client), f"{API}/tasks", "GET", 500) == 1


def test_metrics_are_served_at_the_root_and_left_out_of_the_openapi_document(
    client: TestClient,
) -> None:
    paths = client.get(f"{API}/openapi.json").json()["paths"]

    assert client.get(f"{API}/metrics").status_code == 404
    assert client.get("/metrics").headers["content-type"].startswith("text/plain")
    assert not [path for path in paths if path.endswith("/metrics")]


class _Broken:
    def execute(self, *args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")


def _failing_use_case() -> _Broken:
    return _Broken()
