"""The console's workflow pages over the real app (in-memory persistence): the list, the
graph with each task's status, cancel, resume and delete through the REST API's use cases,
and the same ownership rules."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from adapters.in_memory.repositories import InMemoryStore
from tests.unit.http.conftest import Account
from tests.unit.http.console_support import post, sign_in
from tests.unit.http.support import API, complete_task, start_task


def step(key: str, *depends_on: str) -> dict[str, Any]:
    return {"key": key, "name": f"step {key}", "task_type": "noop", "depends_on": list(depends_on)}


PIPELINE = [step("prepare"), step("train", "prepare"), step("report", "train")]


def submit(client: TestClient, account: Account, name: str = "pipeline") -> dict[str, Any]:
    response = client.post(
        f"{API}/workflows", json={"name": name, "tasks": PIPELINE}, headers=account.headers
    )
    assert response.status_code == 201, response.text
    workflow: dict[str, Any] = response.json()
    return workflow


def task_of(workflow: dict[str, Any], key: str) -> str:
    return str(next(t["id"] for t in workflow["tasks"] if t["key"] == key))


def test_the_list_shows_only_the_users_own_workflows(
    client: TestClient, alice: Account, bob: Account
) -> None:
    mine = submit(client, alice, "alice's pipeline")
    theirs = submit(client, bob, "bob's pipeline")
    sign_in(client, alice)
    page = client.get("/ui/workflows").text
    assert f'data-workflow-id="{mine["id"]}"' in page
    assert theirs["id"] not in page


def test_an_admin_lists_everyones_workflows(
    client: TestClient, alice: Account, admin: Account
) -> None:
    theirs = submit(client, alice)
    sign_in(client, admin)
    assert f'data-workflow-id="{theirs["id"]}"' in client.get("/ui/workflows").text


def test_the_graph_has_a_linked_node_per_task_with_its_status_and_an_arrow_per_dependency(
    client: TestClient, alice: Account
) -> None:
    workflow = submit(client, alice)
    sign_in(client, alice)
    page = client.get(f"/ui/workflows/{workflow['id']}").text
    nodes = re.findall(
        r'<a href="/ui/tasks/([^"]+)" class="node node-(\w+)" data-key="([^"]+)"', page
    )
    assert {(key, status) for _, status, key in nodes} == {
        ("prepare", "pending"),
        ("train", "waiting"),
        ("report", "waiting"),
    }
    assert {task_id for task_id, _, _ in nodes} == {t["id"] for t in workflow["tasks"]}
    assert page.count('class="edge"') == 2
    assert "report depends on train" in page
    # Not colour alone: each node says its status in words.
    assert "⧗ waiting" in page


def test_a_running_workflow_is_live_and_a_finished_one_is_not(
    client: TestClient, alice: Account, store: InMemoryStore
) -> None:
    workflow = submit(client, alice)
    sign_in(client, alice)
    fragment = client.get(f"/ui/workflows/{workflow['id']}", headers={"HX-Request": "true"}).text
    assert fragment.strip().startswith('<div id="workflow-detail" data-live')
    assert 'data-events="/ui/events"' in fragment
    for key in ("prepare", "train", "report"):
        complete_task(store, start_task(store, task_of(workflow, key)))
    page = client.get(f"/ui/workflows/{workflow['id']}").text
    assert "data-live" not in page
    assert page.count('class="node node-completed"') == 3


def test_another_users_workflow_is_not_found_and_cannot_be_cancelled(
    client: TestClient, alice: Account, bob: Account
) -> None:
    theirs = submit(client, bob)
    sign_in(client, alice)
    assert client.get(f"/ui/workflows/{theirs['id']}").status_code == 404
    assert post(client, f"/ui/workflows/{theirs['id']}/cancel").status_code == 404  # type: ignore[attr-defined]
    status = client.get(f"{API}/workflows/{theirs['id']}", headers=bob.headers).json()["status"]
    assert status == "running"


def test_cancel_then_resume_then_delete_act_through_the_use_cases(
    client: TestClient, alice: Account, store: InMemoryStore
) -> None:
    workflow = submit(client, alice)
    path = f"/ui/workflows/{workflow['id']}"
    sign_in(client, alice)
    assert 'id="cancel-workflow"' in client.get(path).text
    assert post(client, f"{path}/cancel").status_code == 303  # type: ignore[attr-defined]
    cancelled = client.get(f"{API}/workflows/{workflow['id']}", headers=alice.headers).json()
    assert cancelled["status"] == "cancelled"
    page = client.get(path).text
    assert 'id="resume-workflow"' in page
    assert 'id="delete-workflow"' in page

    assert post(client, f"{path}/resume").status_code == 303  # type: ignore[attr-defined]
    resumed = client.get(f"{API}/workflows/{workflow['id']}", headers=alice.headers).json()
    assert resumed["status"] == "running"
    # While it runs it cannot be deleted: the REST API's 409, as a page.
    assert post(client, f"{path}/delete").status_code == 409  # type: ignore[attr-defined]

    post(client, f"{path}/cancel")
    assert post(client, f"{path}/delete").status_code == 303  # type: ignore[attr-defined]
    assert client.get(path).status_code == 404


def test_a_bad_status_filter_is_named_on_the_page(client: TestClient, alice: Account) -> None:
    sign_in(client, alice)
    response = client.get("/ui/workflows", params={"status": "sleeping"})
    assert response.status_code == 422
    assert "status must be one of" in response.text
