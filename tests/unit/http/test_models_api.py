"""The ML model registry over HTTP: register, read, list, change, delete, validate, deploy."""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient

from adapters.in_memory.dispatcher import RecordingTaskDispatcher
from adapters.in_memory.repositories import InMemoryStore
from tests.unit.http.conftest import Account
from tests.unit.http.support import (
    API,
    assert_invalid,
    assert_problem,
    complete_model_tasks,
    create_model,
    create_task,
    mark_validated,
    not_refused,
    read,
)

MODELS = f"{API}/models"


def validate(client: TestClient, account: Account, model_id: str) -> Any:
    return client.post(f"{MODELS}/{model_id}/validate", headers=account.headers)


def deploy(client: TestClient, account: Account, model_id: str) -> Any:
    return client.post(f"{MODELS}/{model_id}/deploy", headers=account.headers)


def validated_model(client: TestClient, account: Account, store: InMemoryStore) -> dict[str, Any]:
    model = create_model(client, account)
    assert validate(client, account, model["id"]).status_code == 202
    mark_validated(store, model["id"])
    complete_model_tasks(store, model["id"])
    return read(client, account, f"/models/{model['id']}")


def list_names(client: TestClient, account: Account, **params: Any) -> list[str]:
    response = client.get(MODELS, params=params, headers=account.headers)
    assert response.status_code == 200, response.text
    return [model["name"] for model in response.json()["items"]]


# --- registering ---------------------------------------------------------------------------


def test_register_returns_the_model_as_registered(client: TestClient, alice: Account) -> None:
    response = client.post(
        MODELS,
        json={
            "name": " resnet ",
            "model_type": "pytorch",
            "artifact_location": "/m/r.pt",
            "description": "image classifier",
        },
        headers=alice.headers,
    )

    assert response.status_code == 201, response.text
    model = response.json()
    assert (model["name"], model["model_type"], model["status"]) == (
        "resnet",
        "pytorch",
        "registered",
    )
    assert (model["artifact_location"], model["description"]) == ("/m/r.pt", "image classifier")
    assert model["user_id"] == alice.id
    assert model["artifact_sha256"] is model["deployed_location"] is None


def test_registering_a_second_model_of_the_same_name_conflicts(
    client: TestClient, alice: Account
) -> None:
    create_model(client, alice, name="resnet")

    response = client.post(
        MODELS,
        json={"name": "resnet", "model_type": "onnx", "artifact_location": "/m/b"},
        headers=alice.headers,
    )

    assert_problem(response, 409)


def test_another_user_may_reuse_a_model_name(
    client: TestClient, alice: Account, bob: Account
) -> None:
    create_model(client, alice, name="resnet")

    model = create_model(client, bob, name="resnet")

    assert model["user_id"] == bob.id


BAD_MODEL_FIELDS: dict[str, tuple[str, object]] = {
    "unknown model type": ("model_type", "tensorflow"),
    "empty name": ("name", ""),
    "blank name": ("name", "   "),
    "empty artifact": ("artifact_location", ""),
    "description too long": ("description", "x" * 2001),
    "status": ("status", "deployed"),
    "owner": ("user_id", str(uuid.uuid4())),
    "checksum": ("artifact_sha256", "a" * 64),
    "deployed location": ("deployed_location", "/srv"),
}


def test_register_refuses_a_bad_or_forbidden_field_naming_it(
    client: TestClient, alice: Account, store: InMemoryStore
) -> None:
    valid = {"name": "resnet", "model_type": "onnx", "artifact_location": "/m/a"}

    responses = {
        case: client.post(MODELS, json={**valid, field: value}, headers=alice.headers)
        for case, (field, value) in BAD_MODEL_FIELDS.items()
    }

    expected = {case: field for case, (field, _) in BAD_MODEL_FIELDS.items()}
    assert not_refused(responses, expected) == {}
    assert store.models == {}


# --- reading and listing -------------------------------------------------------------------


def test_get_returns_the_model(client: TestClient, alice: Account) -> None:
    model = create_model(client, alice)

    response = client.get(f"{MODELS}/{model['id']}", headers=alice.headers)

    assert response.status_code == 200, response.text
    assert response.json() == model


def test_get_of_an_unknown_model_is_not_found(client: TestClient, alice: Account) -> None:
    missing = uuid.uuid4()

    response = client.get(f"{MODELS}/{missing}", headers=alice.headers)

    body = assert_problem(response, 404)
    assert body["model_id"] == str(missing)


def test_get_with_an_id_that_is_not_a_uuid_names_model_id(
    client: TestClient, alice: Account
) -> None:
    response = client.get(f"{MODELS}/resnet", headers=alice.headers)

    assert_invalid(response, "model_id")


def test_listing_shows_a_user_their_own_models_and_an_admin_everyones(
    client: TestClient, alice: Account, bob: Account, admin: Account
) -> None:
    create_model(client, alice, name="a")
    create_model(client, bob, name="b")

    assert list_names(client, alice) == ["a"]
    assert sorted(list_names(client, admin)) == ["a", "b"]


def test_listing_filters_by_status(client: TestClient, alice: Account) -> None:
    validating = create_model(client, alice, name="validating")
    create_model(client, alice, name="registered")
    validate(client, alice, validating["id"])

    assert list_names(client, alice, status="validating") == ["validating"]
    assert list_names(client, alice, status="registered") == ["registered"]
    assert list_names(client, alice, status="deployed") == []


def test_listing_pages_walk_every_model_exactly_once(client: TestClient, alice: Account) -> None:
    names = [create_model(client, alice, name=f"m{n}")["name"] for n in range(5)]
    walked: list[str] = []
    params: dict[str, Any] = {"limit": 2}

    while True:
        page = client.get(MODELS, params=params, headers=alice.headers).json()
        walked += [model["name"] for model in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]

    assert walked == names[::-1]


def test_listing_refuses_a_bad_query_parameter_naming_it(
    client: TestClient, alice: Account
) -> None:
    bad = {
        "bad status": ("status", "broken"),
        "limit over the cap": ("limit", 51),
        "zero limit": ("limit", 0),
        "garbage cursor": ("cursor", "x!"),
    }

    responses = {
        case: client.get(MODELS, params={param: value}, headers=alice.headers)
        for case, (param, value) in bad.items()
    }

    assert not_refused(responses, {case: param for case, (param, _) in bad.items()}) == {}


# --- changing and deleting -----------------------------------------------------------------


def test_a_model_is_renamed_and_described(client: TestClient, alice: Account) -> None:
    model = create_model(client, alice)

    response = client.patch(
        f"{MODELS}/{model['id']}",
        json={"name": "resnet-v2", "description": "better"},
        headers=alice.headers,
    )

    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["description"]) == ("resnet-v2", "better")
    assert response.json()["status"] == "registered"


def test_renaming_onto_a_name_already_taken_conflicts(client: TestClient, alice: Account) -> None:
    create_model(client, alice, name="taken")
    model = create_model(client, alice, name="free")

    response = client.patch(
        f"{MODELS}/{model['id']}", json={"name": "taken"}, headers=alice.headers
    )

    assert_problem(response, 409)
    assert read(client, alice, f"/models/{model['id']}")["name"] == "free"


def test_a_new_artifact_sends_a_validated_model_back_to_registered(
    client: TestClient, alice: Account, store: InMemoryStore
) -> None:
    model = validated_model(client, alice, store)

    response = client.patch(
        f"{MODELS}/{model['id']}", json={"artifact_location": "/m/new"}, headers=alice.headers
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["artifact_location"]) == ("registered", "/m/new")
    assert body["artifact_sha256"] is None


def test_the_artifact_cannot_change_while_validating(client: TestClient, alice: Account) -> None:
    model = create_model(client, alice)
    validate(client, alice, model["id"])

    response = client.patch(
        f"{MODELS}/{model['id']}", json={"artifact_location": "/m/new"}, headers=alice.headers
    )

    assert_problem(response, 409)
    after = read(client, alice, f"/models/{model['id']}")
    assert (after["status"], after["artifact_location"]) == (
        "validating",
        model["artifact_location"],
    )


def test_changing_a_model_refuses_a_bad_or_forbidden_field_naming_it(
    client: TestClient, alice: Account
) -> None:
    model = create_model(client, alice)
    bad = {
        "status": "deployed",
        "model_type": "custom",
        "user_id": str(uuid.uuid4()),
        "name": "",
        "artifact_sha256": "a" * 64,
        "artifact_location": "",
    }

    responses = {
        field: client.patch(f"{MODELS}/{model['id']}", json={field: value}, headers=alice.headers)
        for field, value in bad.items()
    }

    assert not_refused(responses, {field: field for field in bad}) == {}
    assert read(client, alice, f"/models/{model['id']}") == model


def test_changing_an_unknown_model_is_not_found(client: TestClient, alice: Account) -> None:
    response = client.patch(f"{MODELS}/{uuid.uuid4()}", json={"name": "x"}, headers=alice.headers)

    assert_problem(response, 404)


def test_deleting_a_model_removes_it_and_unlinks_its_tasks(
    client: TestClient, alice: Account
) -> None:
    model = create_model(client, alice)
    task = create_task(client, alice, model_id=model["id"])

    response = client.delete(f"{MODELS}/{model['id']}", headers=alice.headers)

    assert response.status_code == 204, response.text
    assert_problem(client.get(f"{MODELS}/{model['id']}", headers=alice.headers), 404)
    assert read(client, alice, f"/tasks/{task['id']}")["model_id"] is None


def test_a_model_cannot_be_deleted_while_validating(client: TestClient, alice: Account) -> None:
    model = create_model(client, alice)
    validate(client, alice, model["id"])

    response = client.delete(f"{MODELS}/{model['id']}", headers=alice.headers)

    assert_problem(response, 409)
    assert read(client, alice, f"/models/{model['id']}")["status"] == "validating"


def test_deleting_an_unknown_model_is_not_found(client: TestClient, alice: Account) -> None:
    response = client.delete(f"{MODELS}/{uuid.uuid4()}", headers=alice.headers)

    assert_problem(response, 404)


# --- validating and deploying --------------------------------------------------------------


def test_validate_moves_the_model_to_validating_and_queues_a_validate_task(
    client: TestClient, alice: Account, dispatcher: RecordingTaskDispatcher
) -> None:
    model = create_model(client, alice, model_type="sklearn", artifact_location="/m/a.pkl")

    response = validate(client, alice, model["id"])

    assert response.status_code == 202, response.text
    body = response.json()
    assert body["model"]["status"] == "validating"
    task = body["task"]
    assert (task["task_type"], task["status"], task["model_id"]) == (
        "validate_model",
        "pending",
        model["id"],
    )
    assert task["user_id"] == alice.id
    assert task["kwargs"] == {
        "model_id": model["id"],
        "artifact_location": "/m/a.pkl",
        "model_type": "sklearn",
    }
    assert dispatcher.enqueued_ids == [UUID(task["id"])]
    stored = read(client, alice, f"/tasks/{task['id']}")
    assert {**stored, "waiting": None} == task
    assert stored["concurrency_key"] == f"model:{body['model']['id']}"


def test_validate_while_validating_conflicts(client: TestClient, alice: Account) -> None:
    model = create_model(client, alice)
    validate(client, alice, model["id"])

    response = validate(client, alice, model["id"])

    assert_problem(response, 409)


def test_deploy_of_a_model_not_yet_validated_conflicts(
    client: TestClient, alice: Account, store: InMemoryStore
) -> None:
    model = create_model(client, alice)

    response = deploy(client, alice, model["id"])

    body = assert_problem(response, 409)
    assert body["model_id"] == model["id"]
    assert store.tasks == {}


def test_deploy_of_a_validated_model_queues_a_high_priority_deploy_task(
    client: TestClient, alice: Account, store: InMemoryStore, dispatcher: RecordingTaskDispatcher
) -> None:
    model = validated_model(client, alice, store)

    response = deploy(client, alice, model["id"])

    assert response.status_code == 202, response.text
    body = response.json()
    assert body["model"]["status"] == "deploying"
    task = body["task"]
    assert (task["task_type"], task["priority"], task["queue"]) == (
        "deploy_model",
        "high",
        "high_priority",
    )
    assert task["model_id"] == model["id"]
    assert task["kwargs"]["artifact_sha256"] == "a" * 64
    assert dispatcher.enqueued[-1].queue == "high_priority"


def test_cancelling_the_validate_task_puts_the_model_back_to_registered(
    client: TestClient, alice: Account
) -> None:
    model = create_model(client, alice)
    task = validate(client, alice, model["id"]).json()["task"]

    response = client.post(f"{API}/tasks/{task['id']}/cancel", headers=alice.headers)

    assert response.status_code == 200, response.text
    assert read(client, alice, f"/models/{model['id']}")["status"] == "registered"


def test_cancelling_the_deploy_task_puts_the_model_back_to_validated(
    client: TestClient, alice: Account, store: InMemoryStore
) -> None:
    model = validated_model(client, alice, store)
    task = deploy(client, alice, model["id"]).json()["task"]

    response = client.post(f"{API}/tasks/{task['id']}/cancel", headers=alice.headers)

    assert response.status_code == 200, response.text
    assert read(client, alice, f"/models/{model['id']}")["status"] == "validated"


def test_deleting_the_validate_task_puts_the_model_back_to_registered(
    client: TestClient, alice: Account
) -> None:
    model = create_model(client, alice)
    task = validate(client, alice, model["id"]).json()["task"]

    response = client.delete(f"{API}/tasks/{task['id']}", headers=alice.headers)

    assert response.status_code == 204, response.text
    assert read(client, alice, f"/models/{model['id']}")["status"] == "registered"


def test_an_admin_validates_a_users_model_and_the_task_stays_the_users(
    client: TestClient, alice: Account, admin: Account
) -> None:
    model = create_model(client, alice)

    response = validate(client, admin, model["id"])

    assert response.status_code == 202, response.text
    task = response.json()["task"]
    assert task["user_id"] == alice.id
    assert read(client, alice, f"/tasks/{task['id']}")["id"] == task["id"]
