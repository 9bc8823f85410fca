"""The workflow endpoints, in process over the in-memory store: the contract's paths,
fields and status codes, release, failure propagation, upstream results, retry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from adapters.clock import SystemClock
from adapters.in_memory.dispatcher import RecordingTaskDispatcher
from adapters.in_memory.repositories import InMemoryStore
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from application.running.outcomes import Failed
from tests.factories import record_outcome
from tests.unit.http.conftest import Account
from tests.unit.http.support import (
    API,
    assert_invalid,
    assert_problem,
    complete_task,
    read,
    start_task,
)


def step(key: str, *depends_on: str, **fields: Any) -> dict[str, Any]:
    return {
        "key": key,
        "name": f"step {key}",
        "task_type": "noop",
        "depends_on": list(depends_on),
        **fields,
    }


PIPELINE = [
    step("prepare"),
    step("train-a", "prepare"),
    step("train-b", "prepare"),
    step("compare", "train-a", "train-b", task_type="gather"),
    step("deploy", "compare"),
]


def submit(client: TestClient, account: Account, tasks: list[dict[str, Any]], **body: Any) -> Any:
    return client.post(
        f"{API}/workflows",
        json={"name": "pipeline", "tasks": tasks, **body},
        headers=account.headers,
    )


def by_key(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {task["key"]: task for task in workflow["tasks"]}


def run(store: InMemoryStore, task_id: str, result: Any = None) -> None:
    complete_task(store, start_task(store, task_id), result)


def fail(store: InMemoryStore, task_id: str) -> None:
    run_ = start_task(store, task_id)
    record_outcome(InMemoryUnitOfWork(store), SystemClock(), run_, Failed("Boom", "it broke"))


def test_submit_answers_201_with_the_workflow_and_queues_only_the_tasks_without_dependencies(
    client: TestClient, alice: Account, dispatcher: RecordingTaskDispatcher
) -> None:
    response = submit(client, alice, PIPELINE)

    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) >= {
        "id",
        "name",
        "status",
        "progress",
        "created_at",
        "completed_at",
        "on_failure",
        "tasks",
    }
    assert (body["status"], body["progress"], body["on_failure"]) == (
        "running",
        0,
        "cancel_dependents",
    )
    tasks = by_key(body)
    assert [t["key"] for t in body["tasks"]] == [
        "prepare",
        "train-a",
        "train-b",
        "compare",
        "deploy",
    ]
    assert tasks["prepare"]["status"] == "pending"
    assert tasks["compare"]["status"] == "waiting"
    assert tasks["compare"]["depends_on"] == ["train-a", "train-b"]
    assert tasks["compare"]["waiting_for"] == ["train-a", "train-b"]
    assert [str(e.task_id) for e in dispatcher.enqueued] == [tasks["prepare"]["id"]]
    shown = read(client, alice, f"/tasks/{tasks['deploy']['id']}")
    assert shown["workflow_id"] == body["id"]
    assert (shown["depends_on"], shown["waiting_for"]) == (["compare"], ["compare"])


def test_a_task_is_released_once_every_dependency_completed_and_reads_their_results(
    client: TestClient, alice: Account, store: InMemoryStore
) -> None:
    workflow = submit(client, alice, PIPELINE).json()
    ids = {key: task["id"] for key, task in by_key(workflow).items()}

    run(store, ids["prepare"])
    run(store, ids["train-a"], {"accuracy": 0.9})
    assert read(client, alice, f"/tasks/{ids['compare']}")["waiting_for"] == ["train-b"]
    run(store, ids["train-b"], {"accuracy": 0.8})

    compare = start_task(store, ids["compare"])
    assert compare.upstream == {
        "train-a": {"status": "completed", "result": {"accuracy": 0.9}, "error": None},
        "train-b": {"status": "completed", "result": {"accuracy": 0.8}, "error": None},
    }
    complete_task(store, compare, "b")
    run(store, ids["deploy"])
    done = read(client, alice, f"/workflows/{workflow['id']}")
    assert (done["status"], done["progress"]) == ("completed", 100)
    assert done["completed_at"] is not None
    # Each release was published after its commit (by the run's own publisher here).
    assert all(task.dispatched for task in store.tasks.values())


def test_a_failure_cancels_exactly_its_dependents_naming_it_and_the_workflow_fails(
    client: TestClient, alice: Account, store: InMemoryStore
) -> None:
    tasks = [*PIPELINE, step("report", "prepare")]
    workflow = submit(client, alice, tasks).json()
    ids = {key: task["id"] for key, task in by_key(workflow).items()}

    run(store, ids["prepare"])
    fail(store, ids["train-a"])

    statuses = {
        k: t["status"]
        for k, t in by_key(read(client, alice, f"/workflows/{workflow['id']}")).items()
    }
    assert statuses == {
        "prepare": "completed",
        "train-a": "failed",
        "train-b": "pending",
        "report": "pending",
        "compare": "cancelled",
        "deploy": "cancelled",
    }
    deploy = read(client, alice, f"/tasks/{ids['deploy']}")
    assert (deploy["error"]["type"], deploy["error"]["message"]) == (
        "UpstreamFailed",
        "task 'train-a' failed",
    )
    run(store, ids["train-b"])
    run(store, ids["report"])
    assert read(client, alice, f"/workflows/{workflow['id']}")["status"] == "failed"


def test_under_continue_dependents_run_and_see_the_failure_upstream(
    client: TestClient, alice: Account, store: InMemoryStore
) -> None:
    tasks = [step("a"), step("b"), step("z", "a", "b", task_type="gather")]
    workflow = submit(client, alice, tasks, on_failure="continue").json()
    ids = {key: task["id"] for key, task in by_key(workflow).items()}

    fail(store, ids["a"])
    run(store, ids["b"], 2)

    z = start_task(store, ids["z"])
    assert z.upstream["a"] == {"status": "failed", "result": None, "error": "Boom: it broke"}
    assert z.upstream["b"]["result"] == 2


def test_refusals_name_the_field_and_store_nothing(
    client: TestClient, alice: Account, store: InMemoryStore
) -> None:
    cycle = [step("a", "c"), step("b", "a"), step("c", "b")]
    body = assert_invalid(submit(client, alice, cycle), "tasks[0].depends_on")
    assert "a -> b -> c -> a" in str(body)
    assert_invalid(submit(client, alice, [step("a"), step("a")]), "tasks[1].key")
    assert_invalid(submit(client, alice, [step("a", "nope")]), "tasks[0].depends_on")
    assert_invalid(submit(client, alice, [step("a", "a")]), "tasks[0].depends_on")
    bad_task = [step("a"), step("b", "a", task_type="countdown", kwargs={"seconds": -1})]
    assert_invalid(submit(client, alice, bad_task), "tasks[1].kwargs.seconds")
    assert (store.tasks, store.workflows) == ({}, {})


def test_more_tasks_than_the_setting_allows_are_refused(
    client: TestClient, alice: Account, override_settings: Any, store: InMemoryStore
) -> None:
    override_settings(max_workflow_tasks=2)

    assert_invalid(submit(client, alice, [step("a"), step("b"), step("c")]), "tasks")
    assert store.tasks == {}


def test_a_workflow_beyond_the_quota_is_refused_whole(
    client: TestClient, alice: Account, store: InMemoryStore
) -> None:
    tasks = [step(f"t{n}") for n in range(21)]  # the test quota is 20

    assert_problem(submit(client, alice, tasks), 429)
    assert store.tasks == {}


def test_a_dry_run_returns_the_plan_and_stores_nothing(
    client: TestClient, alice: Account, store: InMemoryStore
) -> None:
    response = client.post(
        f"{API}/workflows",
        params={"dry_run": "true"},
        json={"name": "p", "tasks": PIPELINE},
        headers=alice.headers,
    )

    assert response.status_code == 200, response.text
    assert response.json() == {
        "dry_run": True,
        "levels": [["prepare"], ["train-a", "train-b"], ["compare"], ["deploy"]],
        "max_parallel": 2,
        "quota": {"active_tasks": 0, "would_add": 5, "limit": 20, "within": True},
    }
    assert (store.tasks, store.workflows) == ({}, {})


def test_cancel_cancels_every_unfinished_task_and_delete_needs_a_finished_workflow(
    client: TestClient, alice: Account, store: InMemoryStore, dispatcher: RecordingTaskDispatcher
) -> None:
    workflow = submit(client, alice, PIPELINE).json()
    ids = {key: task["id"] for key, task in by_key(workflow).items()}
    start_task(store, ids["prepare"])
    path = f"/workflows/{workflow['id']}"

    assert_problem(client.delete(f"{API}{path}", headers=alice.headers), 409)
    cancelled = client.post(f"{API}{path}/cancel", headers=alice.headers)

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert {t["status"] for t in cancelled.json()["tasks"]} == {"cancelled"}
    assert [str(t) for t in dispatcher.revoked] == [ids["prepare"]]
    assert_problem(client.post(f"{API}{path}/cancel", headers=alice.headers), 409)
    assert client.delete(f"{API}{path}", headers=alice.headers).status_code == 204
    assert (store.tasks, store.workflows) == ({}, {})


def test_a_workflows_task_cannot_be_deleted_alone(client: TestClient, alice: Account) -> None:
    task_id = submit(client, alice, PIPELINE).json()["tasks"][0]["id"]

    assert_problem(client.delete(f"{API}/tasks/{task_id}", headers=alice.headers), 409)


def test_another_users_workflow_is_404_and_listings_show_only_ones_own(
    client: TestClient, alice: Account, bob: Account, admin: Account
) -> None:
    workflow = submit(client, alice, PIPELINE).json()
    submit(client, bob, [step("x")])

    for method, suffix in (("GET", ""), ("POST", "/cancel"), ("POST", "/retry"), ("DELETE", "")):
        response = client.request(
            method, f"{API}/workflows/{workflow['id']}{suffix}", headers=bob.headers
        )
        assert_problem(response, 404)
    own = client.get(f"{API}/workflows", headers=bob.headers).json()["items"]
    assert [w["tasks"][0]["key"] for w in own] == ["x"]
    everyone = client.get(f"{API}/workflows", headers=admin.headers).json()["items"]
    assert len(everyone) == 2
    running = client.get(f"{API}/workflows", params={"status": "completed"}, headers=alice.headers)
    assert running.json()["items"] == []


def test_retry_reruns_failed_and_cancelled_tasks_keeping_completed_results(
    client: TestClient, alice: Account, store: InMemoryStore
) -> None:
    workflow = submit(client, alice, PIPELINE).json()
    ids = {key: task["id"] for key, task in by_key(workflow).items()}
    run(store, ids["prepare"])
    run(store, ids["train-b"], "kept")
    fail(store, ids["train-a"])
    path = f"{API}/workflows/{workflow['id']}"

    retried = client.post(f"{path}/retry", headers=alice.headers)

    assert retried.status_code == 200, retried.text
    tasks = by_key(retried.json())
    assert retried.json()["status"] == "running"
    assert {k: t["status"] for k, t in tasks.items()} == {
        "prepare": "completed",
        "train-b": "completed",
        "train-a": "pending",
        "compare": "waiting",
        "deploy": "waiting",
    }
    assert tasks["prepare"]["id"] == ids["prepare"]
    assert tasks["train-a"]["id"] != ids["train-a"]
    run(store, tasks["train-a"]["id"], "again")
    compare = start_task(store, tasks["compare"]["id"])
    assert compare.upstream["train-b"]["result"] == "kept"
    assert_problem(client.post(f"{path}/retry", headers=alice.headers), 409)


def test_waiting_tasks_are_neither_relayed_nor_swept_as_overdue(
    store: InMemoryStore, client: TestClient, alice: Account
) -> None:
    submit(client, alice, PIPELINE)  # only "prepare" is published; four tasks wait, undispatched
    later = datetime.now(UTC) + timedelta(days=1)

    with InMemoryUnitOfWork(store) as uow:
        relayed = uow.tasks.list_undispatched(created_before=later, limit=100)
        overdue = uow.tasks.count_overdue(due_before=later)

    assert relayed == []
    assert overdue == {"default": 1}  # "prepare", published: its message could be lost
