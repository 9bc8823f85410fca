"""GET /admin/queues: every queue's load, for operators and autoscalers; admins only."""

from __future__ import annotations

from dependency_injector import providers
from fastapi.testclient import TestClient

from adapters.in_memory.queue_depths import FixedQueueDepths
from adapters.in_memory.repositories import InMemoryStore
from adapters.in_memory.worker_roster import FixedWorkerRoster
from entrypoints.api_container import ApiContainer
from tests.unit.http.conftest import Account
from tests.unit.http.support import API, assert_problem, create_task, start_task


def test_queues_show_unclaimed_running_and_held_work_beside_the_brokers_depth(
    client: TestClient,
    container: ApiContainer,
    store: InMemoryStore,
    alice: Account,
    admin: Account,
) -> None:
    # Workers reserved every message: the broker's list is empty, the work is not.
    container.core.queue_depths.override(providers.Object(FixedQueueDepths({"default": 0})))
    roster = FixedWorkerRoster({"default": 2, "high_priority": 3})
    container.core.worker_roster.override(providers.Object(roster))
    running = create_task(client, alice)
    create_task(client, alice)
    start_task(store, running["id"])
    for _ in range(2):
        create_task(
            client, alice, task_type="countdown", kwargs={"seconds": 1}, concurrency_key="k"
        )

    response = client.get(f"{API}/admin/queues", headers=admin.headers)

    assert response.status_code == 200, response.text
    queues = {q["queue"]: q for q in response.json()["items"]}
    assert list(queues) == ["high_priority", "default", "low_priority"]
    default = queues["default"]
    assert (default["depth"], default["unclaimed"], default["running"]) == (0, 2, 1)
    assert default["total_work"] == 3
    assert default["held"] == {"concurrency": 1, "fair_share": 0, "rate_limit": 0}
    assert default["oldest_pending_seconds"] >= 0
    assert [q["workers_online"] for q in queues.values()] == [3, 2, 0]
    assert queues["low_priority"] == {
        "queue": "low_priority",
        "depth": 0,
        "unclaimed": 0,
        "running": 0,
        "total_work": 0,
        "oldest_pending_seconds": None,
        "held": {"concurrency": 0, "fair_share": 0, "rate_limit": 0},
        "workers_online": 0,
    }


def test_an_unreadable_broker_leaves_the_depth_and_the_workers_unknown(
    client: TestClient, container: ApiContainer, admin: Account
) -> None:
    container.core.queue_depths.override(providers.Object(FixedQueueDepths(reachable=False)))
    container.core.worker_roster.override(providers.Object(FixedWorkerRoster(down=True)))

    response = client.get(f"{API}/admin/queues", headers=admin.headers)

    assert response.status_code == 200, response.text
    assert {q["depth"] for q in response.json()["items"]} == {None}
    assert {q["workers_online"] for q in response.json()["items"]} == {None}


def test_queues_are_for_admins_only(client: TestClient, alice: Account) -> None:
    assert_problem(client.get(f"{API}/admin/queues", headers=alice.headers), 403)
