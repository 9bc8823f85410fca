"""The console's schedule pages over the real app (in-memory persistence): the list with
next fire times, creating one from the form with the REST API's messages, pause, resume,
trigger and delete through the same use cases, and the same ownership rules."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from tests.unit.http.conftest import Account
from tests.unit.http.console_support import post, sign_in
from tests.unit.http.support import API

SCHEDULES = f"{API}/schedules"


def create(client: TestClient, account: Account, name: str = "nightly") -> dict[str, Any]:
    body = {
        "name": name,
        "task": {"name": name, "task_type": "countdown", "kwargs": {"seconds": 1}},
        "cron": "0 2 * * *",
    }
    response = client.post(SCHEDULES, json=body, headers=account.headers)
    assert response.status_code == 201, response.text
    schedule: dict[str, Any] = response.json()
    return schedule


def test_the_list_shows_only_the_users_own_schedules_with_their_next_fire_time(
    client: TestClient, alice: Account, bob: Account
) -> None:
    mine = create(client, alice, "alice nightly")
    theirs = create(client, bob, "bob nightly")
    sign_in(client, alice)
    page = client.get("/ui/schedules").text
    assert f'data-schedule-id="{mine["id"]}"' in page
    assert theirs["id"] not in page
    assert f'<time datetime="{mine["next_fire_at"].replace("Z", "+00:00")}"' in page
    assert "<code>0 2 * * *</code> (UTC)" in page


def test_a_schedule_made_from_the_form_shows_its_next_five_fire_times(
    client: TestClient, alice: Account
) -> None:
    sign_in(client, alice)
    form = client.get("/ui/schedules/new", params={"task_type": "countdown"}).text
    assert 'name="arg.seconds"' in form  # the arguments come from the task type's schema
    response = post(
        client,
        "/ui/schedules",
        task_type="countdown",
        name="every hour",
        interval_seconds="3600",
        overlap="skip",
        **{"arg.seconds": "2"},
    )
    assert response.status_code == 303  # type: ignore[attr-defined]
    path = response.headers["location"]  # type: ignore[attr-defined]
    stored = client.get(f"{API}/schedules/{path.rsplit('/', 1)[-1]}", headers=alice.headers)
    body = stored.json()
    assert (body["interval_seconds"], body["task"]["kwargs"], body["task"]["name"]) == (
        3600,
        {"seconds": 2.0},  # as a number, the form's text read by the schema's type
        "every hour",
    )
    page = client.get(path).text
    fires = re.search(r'<ol id="next-fires">(.*?)</ol>', page)
    assert fires is not None
    assert fires.group(1).count("<li>") == 5


def test_an_invalid_argument_and_timing_get_the_rest_apis_messages_beside_their_inputs(
    client: TestClient, alice: Account
) -> None:
    rest = client.post(
        SCHEDULES,
        json={
            "name": "x",
            "task": {"name": "x", "task_type": "countdown", "kwargs": {"seconds": -1}},
            "interval_seconds": 3600,
        },
        headers=alice.headers,
    ).json()
    message = next(e["message"] for e in rest["errors"] if e["field"] == "task.kwargs.seconds")
    sign_in(client, alice)
    response = post(
        client,
        "/ui/schedules",
        task_type="countdown",
        name="x",
        interval_seconds="3600",
        **{"arg.seconds": "-1"},
    )
    assert response.status_code == 422  # type: ignore[attr-defined]
    shown = re.search(r'id="error-arg-seconds">([^<]+)<', response.text)  # type: ignore[attr-defined]
    assert shown is not None
    assert shown.group(1) == message.replace("'", "&#39;")
    bad_cron = post(
        client,
        "/ui/schedules",
        task_type="countdown",
        name="x",
        cron="not cron",
        **{"arg.seconds": "1"},
    )
    assert bad_cron.status_code == 422  # type: ignore[attr-defined]
    assert 'id="error-cron"' in bad_cron.text  # type: ignore[attr-defined]
    assert 'value="not cron"' in bad_cron.text  # type: ignore[attr-defined]
    assert client.get(SCHEDULES, headers=alice.headers).json()["items"] == []


def test_pause_resume_trigger_and_delete_act_through_the_use_cases(
    client: TestClient, alice: Account
) -> None:
    schedule = create(client, alice)
    path = f"/ui/schedules/{schedule['id']}"
    sign_in(client, alice)

    assert post(client, f"{path}/pause", back="list").headers["location"] == "/ui/schedules"  # type: ignore[attr-defined]
    page = client.get(path).text
    assert '<p id="next-fires">None while paused.</p>' in page
    assert "resume-schedule" in page

    post(client, f"{path}/resume")
    assert (
        client.get(f"{SCHEDULES}/{schedule['id']}", headers=alice.headers).json()["paused"] is False
    )

    fired = post(client, f"{path}/trigger")
    task_page = fired.headers["location"]  # type: ignore[attr-defined]
    assert task_page.startswith("/ui/tasks/")
    assert "nightly" in client.get(task_page).text
    assert "manual" in client.get(path).text  # the ledger records the manual fire

    assert post(client, f"{path}/delete").status_code == 303  # type: ignore[attr-defined]
    assert client.get(path).status_code == 404


def test_another_users_schedule_is_not_found_and_cannot_be_paused(
    client: TestClient, alice: Account, bob: Account
) -> None:
    theirs = create(client, bob)
    sign_in(client, alice)
    assert client.get(f"/ui/schedules/{theirs['id']}").status_code == 404
    assert post(client, f"/ui/schedules/{theirs['id']}/pause").status_code == 404  # type: ignore[attr-defined]
    assert post(client, f"/ui/schedules/{theirs['id']}/delete").status_code == 404  # type: ignore[attr-defined]
    assert client.get(f"{SCHEDULES}/{theirs['id']}", headers=bob.headers).json()["paused"] is False
