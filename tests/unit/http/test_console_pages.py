"""The web console's pages over the real app and container (in-memory persistence): the
session cookie, CSRF, the same use cases and ownership rules as the REST API."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from adapters.in_memory.dispatcher import RecordingTaskDispatcher
from domain.task import RunToken, TaskId
from entrypoints.api_container import ApiContainer
from tests.unit.http.conftest import PASSWORD, Account
from tests.unit.http.console_support import csrf, post, sign_in, submit_rest


def test_a_page_without_a_session_sends_the_browser_to_sign_in(client: TestClient) -> None:
    response = client.get("/ui/tasks", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/login"


def test_polling_without_a_session_asks_htmx_for_the_sign_in_page(client: TestClient) -> None:
    response = client.get("/ui/tasks", headers={"HX-Request": "true"}, follow_redirects=False)
    assert response.headers["hx-redirect"] == "/ui/login"


def test_signing_in_sets_an_httponly_same_site_strict_session_cookie(
    client: TestClient, alice: Account
) -> None:
    client.get("/ui/login")
    response = client.post(
        "/ui/login",
        data={"email": alice.email, "password": PASSWORD, "csrf_token": csrf(client)},
        follow_redirects=False,
    )
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("taskhub_session=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/ui" in cookie
    assert "Secure" not in cookie  # plain HTTP here: a Secure cookie would never come back


def test_a_wrong_password_is_shown_on_the_sign_in_page(client: TestClient, alice: Account) -> None:
    response = post(client, "/ui/login", email=alice.email, password="wrong password!!")
    assert response.status_code == 401  # type: ignore[attr-defined]
    assert 'id="login-error"' in response.text  # type: ignore[attr-defined]
    assert "taskhub_session" not in client.cookies


def test_a_form_without_the_csrf_token_is_refused(client: TestClient, alice: Account) -> None:
    client.get("/ui/login")
    response = client.post(
        "/ui/login", data={"email": alice.email, "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 403
    assert "out of date" in response.text


def test_a_changing_form_with_another_token_is_refused(
    client: TestClient, alice: Account, dispatcher: RecordingTaskDispatcher
) -> None:
    sign_in(client, alice)
    task_id = submit_rest(client, alice, "keep me")
    response = client.post(
        f"/ui/tasks/{task_id}/cancel", data={"csrf_token": "forged"}, follow_redirects=False
    )
    assert response.status_code == 403
    status = client.get(f"/api/v1/tasks/{task_id}", headers=alice.headers).json()["status"]
    assert status == "pending"


def test_pages_carry_a_policy_without_inline_scripts_and_have_none(
    client: TestClient, alice: Account
) -> None:
    sign_in(client, alice)
    response = client.get("/ui/tasks/new?task_type=countdown")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert not re.search(r"<script(?![^>]*\bsrc=)", response.text)
    assert not re.search(r"\son[a-z]+=|\sstyle=", response.text)


def test_htmx_is_served_from_the_api_itself(client: TestClient) -> None:
    response = client.get("/ui/static/htmx.min.js")
    assert response.status_code == 200
    assert 'version:"2.' in response.text
    assert client.get("/ui/static/htmx.LICENSE").status_code == 200


def test_the_list_shows_only_the_users_own_tasks_newest_first(
    client: TestClient, alice: Account, bob: Account
) -> None:
    submit_rest(client, alice, "alice first")
    submit_rest(client, alice, "alice second")
    submit_rest(client, bob, "bob's")
    sign_in(client, alice)
    page = client.get("/ui/tasks").text
    assert "bob&#39;s" not in page
    assert page.index("alice second") < page.index("alice first")


def test_the_list_filters_by_status_name_type_priority_and_day(
    client: TestClient, alice: Account
) -> None:
    kept = submit_rest(client, alice, "Nightly report")
    cancelled = submit_rest(client, alice, "nightly cleanup")
    submit_rest(client, alice, "other")
    client.post(f"/api/v1/tasks/{cancelled}/cancel", headers=alice.headers)
    sign_in(client, alice)
    page = client.get(
        "/ui/tasks",
        params={
            "status": "pending",
            "name": "NIGHTLY",
            "task_type": "countdown",
            "priority": "normal",
            "created_from": "2000-01-01",
            "created_to": "2999-12-31",
        },
    ).text
    assert f'data-task-id="{kept}"' in page
    assert cancelled not in page
    assert "other" not in page
    assert "No tasks match" in client.get("/ui/tasks", params={"created_to": "2000-01-01"}).text


def test_a_bad_filter_is_named_on_the_page(client: TestClient, alice: Account) -> None:
    sign_in(client, alice)
    response = client.get("/ui/tasks", params={"created_from": "yesterday"})
    assert response.status_code == 422
    assert "created_from is not a date" in response.text


def test_the_list_pages_with_a_next_link(
    client: TestClient, alice: Account, override_settings: object
) -> None:
    override_settings(default_page_size=2)  # type: ignore[operator]
    for number in range(3):
        submit_rest(client, alice, f"task {number}")
    sign_in(client, alice)
    first = client.get("/ui/tasks", params={"name": "task"}).text
    assert "task 2" in first
    assert "task 0" not in first
    link = re.search(r'id="next-page" href="([^"]+)"', first)
    assert link is not None
    second = client.get(link.group(1).replace("&amp;", "&")).text
    assert "task 0" in second
    assert "task 2" not in second


def test_an_unfinished_list_follows_the_users_event_stream_and_a_finished_one_does_not(
    client: TestClient, alice: Account
) -> None:
    task_id = submit_rest(client, alice, "live")
    sign_in(client, alice)
    fragment = client.get("/ui/tasks", headers={"HX-Request": "true"}).text
    assert fragment.strip().startswith('<div id="task-table" data-live hx-get="/ui/tasks"')
    assert 'hx-trigger="taskchange"' in fragment
    assert 'data-events="/ui/events"' in fragment
    client.post(f"/api/v1/tasks/{task_id}/cancel", headers=alice.headers)
    assert "data-live" not in client.get("/ui/tasks", headers={"HX-Request": "true"}).text


def test_an_admins_list_of_everyones_tasks_polls_instead_of_following_a_stream(
    client: TestClient, alice: Account, admin: Account
) -> None:
    submit_rest(client, alice, "alice's")
    sign_in(client, admin)
    fragment = client.get("/ui/tasks", headers={"HX-Request": "true"}).text
    assert "data-live" in fragment
    assert "data-events" not in fragment  # the admin's stream carries only their own tasks


def test_the_submit_form_has_an_input_per_argument_of_the_schema(
    client: TestClient, alice: Account
) -> None:
    sign_in(client, alice)
    page = client.get("/ui/tasks/new", params={"task_type": "countdown"}).text
    assert 'name="arg.seconds"' in page
    assert 'name="arg.steps" value="10"' in page  # the schema's default
    assert "How long to count down." in page


def test_an_invalid_argument_gets_the_rest_apis_message_beside_its_input(
    client: TestClient, alice: Account, dispatcher: RecordingTaskDispatcher
) -> None:
    rest = client.post(
        "/api/v1/tasks",
        json={"name": "x", "task_type": "countdown", "kwargs": {"seconds": -1}},
        headers=alice.headers,
    ).json()
    message = next(e["message"] for e in rest["errors"] if e["field"] == "kwargs.seconds")
    sign_in(client, alice)
    response = post(client, "/ui/tasks", task_type="countdown", name="x", **{"arg.seconds": "-1"})
    assert response.status_code == 422  # type: ignore[attr-defined]
    shown = re.search(r'id="error-arg-seconds">([^<]+)<', response.text)  # type: ignore[attr-defined]
    assert shown is not None
    assert shown.group(1) == message.replace("'", "&#39;")
    assert 'value="-1"' in response.text  # what was typed stays  # type: ignore[attr-defined]
    assert dispatcher.enqueued == []


def test_a_missing_required_argument_is_named_beside_its_input(
    client: TestClient, alice: Account
) -> None:
    sign_in(client, alice)
    response = post(client, "/ui/tasks", task_type="countdown", name="x", **{"arg.seconds": ""})
    assert 'id="error-arg-seconds">Field required<' in response.text  # type: ignore[attr-defined]


def test_a_valid_form_submits_the_task_and_shows_its_page(
    client: TestClient, alice: Account, dispatcher: RecordingTaskDispatcher
) -> None:
    sign_in(client, alice)
    response = post(
        client,
        "/ui/tasks",
        task_type="countdown",
        name="from the form",
        priority="high",
        **{"arg.seconds": "2.5", "arg.steps": "5"},
    )
    assert response.status_code == 303  # type: ignore[attr-defined]
    task_id = response.headers["location"].rsplit("/", 1)[-1]  # type: ignore[attr-defined]
    task = client.get(f"/api/v1/tasks/{task_id}", headers=alice.headers).json()
    assert task["kwargs"] == {"seconds": 2.5, "steps": 5}
    assert task["priority"] == "high"
    assert len(dispatcher.enqueued) == 1
    page = client.get(f"/ui/tasks/{task_id}").text
    assert "from the form" in page
    assert "pending" in page


def test_another_users_task_page_is_not_found(
    client: TestClient, alice: Account, bob: Account
) -> None:
    task_id = submit_rest(client, bob, "bob's")
    sign_in(client, alice)
    assert client.get(f"/ui/tasks/{task_id}").status_code == 404
    assert post(client, f"/ui/tasks/{task_id}/cancel").status_code == 404  # type: ignore[attr-defined]


def test_cancel_delete_and_run_again_act_through_the_use_cases(
    client: TestClient, alice: Account, dispatcher: RecordingTaskDispatcher
) -> None:
    task_id = submit_rest(client, alice, "again and again", seconds=3)
    sign_in(client, alice)
    assert post(client, f"/ui/tasks/{task_id}/cancel").status_code == 303  # type: ignore[attr-defined]
    assert client.get(f"/api/v1/tasks/{task_id}", headers=alice.headers).json()["status"] == (
        "cancelled"
    )
    conflict = post(client, f"/ui/tasks/{task_id}/cancel")
    assert conflict.status_code == 409  # type: ignore[attr-defined]
    again = post(client, f"/ui/tasks/{task_id}/rerun")
    new_id = again.headers["location"].rsplit("/", 1)[-1]  # type: ignore[attr-defined]
    copy = client.get(f"/api/v1/tasks/{new_id}", headers=alice.headers).json()
    assert (copy["name"], copy["kwargs"], copy["status"]) == (
        "again and again",
        {"seconds": 3.0, "steps": 10},
        "pending",
    )
    assert post(client, f"/ui/tasks/{task_id}/delete").status_code == 303  # type: ignore[attr-defined]
    assert client.get(f"/api/v1/tasks/{task_id}", headers=alice.headers).status_code == 404


def test_an_admin_sees_everyones_tasks_and_the_users(
    client: TestClient, alice: Account, admin: Account
) -> None:
    submit_rest(client, alice, "alice's task")
    sign_in(client, admin)
    assert "alice&#39;s task" in client.get("/ui/tasks").text
    users = client.get("/ui/users").text
    assert alice.email in users
    assert f"/ui/tasks?user_id={alice.id}" in users
    assert "alice&#39;s task" in client.get("/ui/tasks", params={"user_id": alice.id}).text


def test_the_users_page_is_for_admins_only(client: TestClient, alice: Account) -> None:
    sign_in(client, alice)
    assert client.get("/ui/users").status_code == 403


def test_signing_out_ends_the_session_everywhere(client: TestClient, alice: Account) -> None:
    sign_in(client, alice)
    response = post(client, "/ui/logout")
    assert response.headers["location"] == "/ui/login"  # type: ignore[attr-defined]
    assert client.get("/ui/tasks", follow_redirects=False).status_code == 303
    # The same use case as the REST logout: the API token of that user stops working too.
    assert client.get("/api/v1/tasks", headers=alice.headers).status_code == 401


@pytest.mark.parametrize("path", ["/ui/tasks", "/ui/login"])
def test_console_routes_are_not_in_the_openapi_document(client: TestClient, path: str) -> None:
    assert path not in client.get("/api/v1/openapi.json").json()["paths"]


def test_a_completed_tasks_records_are_shown_as_a_table(
    client: TestClient, alice: Account, container: ApiContainer
) -> None:
    task_id = submit_rest(client, alice, "records")
    now = datetime.now(UTC)
    with container.core.unit_of_work() as uow:
        task = uow.tasks.get(TaskId(UUID(task_id)))
        task.start(run_token=RunToken("run"), at=now)
        records = [{"word": "a", "count": 2}, {"word": "b", "count": 1}]
        task.complete(run_token=RunToken("run"), result=records, at=now)
        uow.tasks.update(task)
        uow.commit()
    sign_in(client, alice)
    page = client.get(f"/ui/tasks/{task_id}").text
    assert 'id="result-table"' in page
    assert 'data-column="1">count<' in page
    assert "data-live" not in page  # finished: nothing left to follow


def test_a_new_user_signs_up_then_signs_in(client: TestClient) -> None:
    response = post(client, "/ui/signup", email="new@example.com", password=PASSWORD)
    assert response.status_code == 202  # type: ignore[attr-defined]
    assert 'id="login-notice"' in response.text  # type: ignore[attr-defined]
    signed_in = post(client, "/ui/login", email="new@example.com", password=PASSWORD)
    assert signed_in.headers["location"] == "/ui/tasks"  # type: ignore[attr-defined]


def test_signing_up_an_existing_email_answers_as_for_a_new_one(
    client: TestClient, alice: Account
) -> None:
    taken = post(client, "/ui/signup", email=alice.email, password="another long password")
    fresh = post(client, "/ui/signup", email="fresh@example.com", password="another long password")
    assert taken.status_code == fresh.status_code == 202  # type: ignore[attr-defined]
    assert "it has one now" in taken.text  # type: ignore[attr-defined]


def test_a_weak_password_is_named_beside_its_input(client: TestClient) -> None:
    response = post(client, "/ui/signup", email="weak@example.com", password="short")
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert 'id="error-password"' in response.text  # type: ignore[attr-defined]
