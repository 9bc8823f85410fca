"""Schedules over HTTP: create (422 naming the field), read, list, pause, resume, trigger,
the fire ledger, delete; another user's schedule is 404, an admin's view is whole."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.unit.http.conftest import Account
from tests.unit.http.support import API, assert_invalid, assert_problem, not_refused, read

SCHEDULES = f"{API}/schedules"
TEMPLATE = {"name": "nightly", "task_type": "countdown", "kwargs": {"seconds": 1}}


def create(client: TestClient, account: Account, **fields: Any) -> dict[str, Any]:
    body = {"name": "nightly", "task": TEMPLATE, "cron": "0 2 * * *", "timezone": "Europe/Paris"}
    response = client.post(SCHEDULES, json={**body, **fields}, headers=account.headers)
    assert response.status_code == 201, response.text
    schedule: dict[str, Any] = response.json()
    return schedule


def post(client: TestClient, account: Account, path: str) -> Any:
    return client.post(f"{SCHEDULES}{path}", headers=account.headers)


def test_a_created_schedule_is_shown_with_its_next_five_fire_times_in_its_zone(
    client: TestClient, alice: Account
) -> None:
    schedule = create(client, alice)

    shown = read(client, alice, f"/schedules/{schedule['id']}")

    assert shown["cron"] == "0 2 * * *"
    assert shown["timezone"] == "Europe/Paris"
    assert shown["overlap"] == "skip"
    assert shown["catch_up"] == "none"
    assert shown["paused"] is False
    assert len(shown["next_fire_times"]) == 5
    assert all(t.endswith(("T01:00:00Z", "T00:00:00Z")) for t in shown["next_fire_times"]), shown
    assert shown["last_runs"] == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"cron": "61 * * * *"}, "cron"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"task": {**TEMPLATE, "task_type": "no_such_type"}}, "task.task_type"),
        ({"task": {**TEMPLATE, "kwargs": {"seconds": -1}}}, "task.kwargs.seconds"),
        ({"cron": None, "timezone": None, "interval_seconds": 5}, "interval_seconds"),
        ({"overlap": "sometimes"}, "overlap"),
        ({"catch_up": "all"}, "catch_up"),
        ({"max_runs": 0}, "max_runs"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_an_invalid_schedule_is_refused_naming_the_field_and_nothing_is_stored(
    client: TestClient, alice: Account, fields: dict[str, Any], field: str
) -> None:
    body = {"name": "nightly", "task": TEMPLATE, "cron": "0 2 * * *", "timezone": "Europe/Paris"}
    body = {key: value for key, value in {**body, **fields}.items() if value is not None}

    response = client.post(SCHEDULES, json=body, headers=alice.headers)

    assert not_refused({field: response}, {field: field}) == {}
    assert read(client, alice, "/schedules")["items"] == []


def test_an_admin_may_use_an_interval_shorter_than_a_users_minimum(
    client: TestClient, admin: Account
) -> None:
    schedule = create(client, admin, cron=None, timezone=None, interval_seconds=5)
    assert schedule["interval_seconds"] == 5


def test_another_users_schedule_is_not_found_whatever_is_asked(
    client: TestClient, alice: Account, bob: Account
) -> None:
    schedule_id = create(client, alice)["id"]
    path = f"{SCHEDULES}/{schedule_id}"

    answers = {
        "get": client.get(path, headers=bob.headers),
        "patch": client.patch(path, json={"name": "mine"}, headers=bob.headers),
        "pause": post(client, bob, f"/{schedule_id}/pause"),
        "resume": post(client, bob, f"/{schedule_id}/resume"),
        "trigger": post(client, bob, f"/{schedule_id}/trigger"),
        "fires": client.get(f"{path}/fires", headers=bob.headers),
        "delete": client.delete(path, headers=bob.headers),
    }

    for response in answers.values():
        assert_problem(response, 404)
    assert read(client, bob, "/schedules")["items"] == []
    assert read(client, alice, f"/schedules/{schedule_id}")["name"] == "nightly"


def test_an_admin_sees_and_lists_any_users_schedules(
    client: TestClient, alice: Account, admin: Account
) -> None:
    schedule_id = create(client, alice)["id"]

    assert read(client, admin, f"/schedules/{schedule_id}")["user_id"] == alice.id
    listed = read(client, admin, f"/schedules?user_id={alice.id}")["items"]
    assert [s["id"] for s in listed] == [schedule_id]


def test_pause_stops_the_fire_times_and_resume_brings_them_back(
    client: TestClient, alice: Account
) -> None:
    schedule_id = create(client, alice)["id"]

    paused = post(client, alice, f"/{schedule_id}/pause")
    assert paused.status_code == 200, paused.text
    assert paused.json()["paused"] is True
    assert read(client, alice, f"/schedules/{schedule_id}")["paused"] is True

    resumed = post(client, alice, f"/{schedule_id}/resume")
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["paused"] is False
    assert resumed.json()["next_fire_at"] is not None


def test_trigger_creates_one_run_now_recorded_in_the_ledger_as_manual(
    client: TestClient, alice: Account
) -> None:
    schedule_id = create(client, alice)["id"]

    triggered = post(client, alice, f"/{schedule_id}/trigger")

    assert triggered.status_code == 201, triggered.text
    fire = triggered.json()
    assert (fire["outcome"], fire["reason"]) == ("fired", "manual")
    task = read(client, alice, f"/tasks/{fire['task_id']}")
    assert task["schedule_id"] == schedule_id
    assert task["task_type"] == "countdown"
    fires = read(client, alice, f"/schedules/{schedule_id}/fires")
    assert [(f["outcome"], f["reason"], f["task_id"]) for f in fires["items"]] == [
        ("fired", "manual", fire["task_id"])
    ]
    last_runs = read(client, alice, f"/schedules/{schedule_id}")["last_runs"]
    assert [r["task_id"] for r in last_runs] == [fire["task_id"]]


def test_the_fire_ledger_pages_newest_first(client: TestClient, alice: Account) -> None:
    schedule_id = create(client, alice)["id"]
    runs = [post(client, alice, f"/{schedule_id}/trigger").json()["task_id"] for _ in range(3)]

    first = read(client, alice, f"/schedules/{schedule_id}/fires?limit=2")
    rest = read(
        client, alice, f"/schedules/{schedule_id}/fires?limit=2&cursor={first['next_cursor']}"
    )

    pages = [f["task_id"] for f in first["items"] + rest["items"]]
    assert pages == runs[::-1]
    assert rest["next_cursor"] is None


def test_a_deleted_schedule_is_gone(client: TestClient, alice: Account) -> None:
    schedule_id = create(client, alice)["id"]

    deleted = client.delete(f"{SCHEDULES}/{schedule_id}", headers=alice.headers)

    assert deleted.status_code == 204
    assert_problem(client.get(f"{SCHEDULES}/{schedule_id}", headers=alice.headers), 404)


def test_a_patch_naming_an_invalid_cron_is_refused_and_changes_nothing(
    client: TestClient, alice: Account
) -> None:
    schedule_id = create(client, alice)["id"]

    response = client.patch(
        f"{SCHEDULES}/{schedule_id}", json={"cron": "not a cron"}, headers=alice.headers
    )

    assert_invalid(response, "cron")
    assert read(client, alice, f"/schedules/{schedule_id}")["cron"] == "0 2 * * *"


def test_schedules_need_a_login(client: TestClient) -> None:
    assert_problem(client.get(SCHEDULES), 401)
