"""The console's other pages over the real app (in-memory persistence): a task's attempts
and logs, the model registry, and the event stream that makes pages live, each with the
REST API's ownership rules."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from uuid import UUID

from fastapi.testclient import TestClient

from adapters.in_memory.repositories import InMemoryStore
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from domain.attempt import LogLevel, TaskLogLine
from domain.task import TaskId
from tests.unit.http.conftest import Account
from tests.unit.http.console_support import post, sign_in, submit_rest
from tests.unit.http.support import API, complete_task, create_model, start_task


def test_a_tasks_page_shows_its_attempts_and_log_lines(
    client: TestClient, alice: Account, store: InMemoryStore
) -> None:
    task_id = submit_rest(client, alice, "with history")
    complete_task(store, start_task(store, task_id), {"ok": True})
    with InMemoryUnitOfWork(store) as uow:
        line = TaskLogLine(
            TaskId(UUID(task_id)), 1, LogLevel.WARNING, "disk nearly full", datetime.now(UTC)
        )
        uow.task_logs.append([line], keep=100)
        uow.commit()
    sign_in(client, alice)
    page = client.get(f"/ui/tasks/{task_id}").text
    assert '<table class="attempts" id="task-attempts">' in page
    assert 'data-label="Outcome">completed<' in page
    assert (
        '<span class="level">warning</span> <span class="attempt">#1</span> disk nearly full'
        in (page)
    )


def test_a_task_without_runs_says_so(client: TestClient, alice: Account) -> None:
    task_id = submit_rest(client, alice, "not run yet")
    sign_in(client, alice)
    page = client.get(f"/ui/tasks/{task_id}").text
    assert "No run has ended yet." in page
    assert "No log lines." in page


def test_the_registry_shows_only_the_users_own_models(
    client: TestClient, alice: Account, bob: Account
) -> None:
    mine = create_model(client, alice, name="alice-net")
    theirs = create_model(client, bob, name="bob-net")
    sign_in(client, alice)
    page = client.get("/ui/models").text
    assert f'data-model-id="{mine["id"]}"' in page
    assert theirs["id"] not in page
    assert client.get(f"/ui/models/{theirs['id']}").status_code == 404
    assert post(client, f"/ui/models/{theirs['id']}/validate").status_code == 404  # type: ignore[attr-defined]


def test_validate_queues_a_task_that_then_shows_in_the_models_history(
    client: TestClient, alice: Account
) -> None:
    model = create_model(client, alice)
    sign_in(client, alice)
    response = post(client, f"/ui/models/{model['id']}/validate")
    assert response.status_code == 303  # type: ignore[attr-defined]
    task_page = response.headers["location"]  # type: ignore[attr-defined]
    task_id = task_page.rsplit("/", 1)[-1]
    page = client.get(f"/ui/models/{model['id']}").text
    assert "▶ validating" in page
    assert f'href="/ui/tasks/{task_id}"' in page
    # Deploying a model not yet validated: the REST API's refusal, as a page.
    assert post(client, f"/ui/models/{model['id']}/deploy").status_code == 409  # type: ignore[attr-defined]


def test_a_tasks_event_stream_sends_its_state_and_ends_once_it_finished(
    client: TestClient, alice: Account
) -> None:
    task_id = submit_rest(client, alice, "streamed")
    client.post(f"{API}/tasks/{task_id}/cancel", headers=alice.headers)
    sign_in(client, alice)
    response = client.get("/ui/events", params={"task_id": task_id})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert "event: status" in response.text
    assert '"status":"cancelled"' in response.text


def test_another_users_task_stream_is_not_found_and_a_stream_needs_a_session(
    client: TestClient, alice: Account, bob: Account
) -> None:
    task_id = submit_rest(client, bob, "bob's")
    assert client.get("/ui/events", follow_redirects=False).status_code == 303
    sign_in(client, alice)
    assert client.get("/ui/events", params={"task_id": task_id}).status_code == 404


def test_an_unfinished_tasks_page_follows_its_own_stream(
    client: TestClient, alice: Account
) -> None:
    task_id = submit_rest(client, alice, "live")
    sign_in(client, alice)
    page = client.get(f"/ui/tasks/{task_id}").text
    assert f'data-events="/ui/events?task_id={task_id}"' in page


def test_a_numeric_series_result_is_drawn_as_a_chart_with_its_numbers_beside(
    client: TestClient, alice: Account, store: InMemoryStore
) -> None:
    task_id = submit_rest(client, alice, "losses")
    complete_task(store, start_task(store, task_id), {"chart": {"title": "loss", "values": [3, 1]}})
    sign_in(client, alice)
    page = client.get(f"/ui/tasks/{task_id}").text
    assert '<figure class="chart" id="result-chart">' in page
    assert "<polyline" in page
    assert 'aria-label="loss: 2 values from 1.0 to 3.0"' in page


def test_the_queue_page_is_for_admins_and_lists_every_queue(
    client: TestClient, alice: Account, admin: Account
) -> None:
    submit_rest(client, alice, "waiting")
    sign_in(client, alice)
    assert client.get("/ui/queues").status_code == 403
    sign_in(client, admin)
    page = client.get("/ui/queues").text
    rest = client.get(f"{API}/admin/queues", headers=admin.headers).json()["items"]
    for queue in rest:
        assert f'data-queue="{queue["queue"]}"' in page


def test_an_admin_deactivates_and_promotes_users_through_the_rest_apis_rules(
    client: TestClient, alice: Account, admin: Account
) -> None:
    sign_in(client, admin)
    assert post(client, f"/ui/users/{alice.id}", is_active="false").status_code == 303  # type: ignore[attr-defined]
    assert client.get(f"{API}/tasks", headers=alice.headers).status_code == 401
    post(client, f"/ui/users/{alice.id}", is_active="true")
    post(client, f"/ui/users/{alice.id}", is_admin="true")
    users = client.get(f"{API}/users", headers=admin.headers).json()["items"]
    shown = next(u for u in users if u["id"] == alice.id)
    assert (shown["is_active"], shown["is_admin"]) == (True, True)
    # Not themselves: the same 409 as the REST API.
    assert post(client, f"/ui/users/{admin.id}", is_admin="false").status_code == 409  # type: ignore[attr-defined]


def test_only_an_admin_changes_users(client: TestClient, alice: Account, bob: Account) -> None:
    sign_in(client, alice)
    assert post(client, f"/ui/users/{bob.id}", is_admin="true").status_code == 403  # type: ignore[attr-defined]


def test_the_queue_page_charts_the_last_hours_runs(
    client: TestClient, alice: Account, admin: Account, store: InMemoryStore
) -> None:
    task_id = submit_rest(client, alice, "ran")
    complete_task(store, start_task(store, task_id))
    sign_in(client, admin)
    page = client.get("/ui/queues").text
    assert page.count('<figure class="chart" id="activity-chart-') == 3
    rows = re.findall(r'data-label="Completed">(\d+)<', page)
    assert len(rows) == 12
    assert rows[-1] == "1"  # the run just ended, in the latest slice
