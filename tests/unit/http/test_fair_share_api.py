"""Fair sharing through the API: an admin sets a user's share weight, and a task submitted
to a crowded queue waits unpublished and says why."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from adapters.in_memory.dispatcher import RecordingTaskDispatcher
from adapters.in_memory.queue_backlogs import FixedQueueBacklogs
from application.ports import QueueBacklog
from config.settings import Settings
from entrypoints.api_container import ApiContainer
from tests.unit.http.conftest import Account
from tests.unit.http.support import API, assert_invalid, create_task, read

USERS = f"{API}/users"


def test_an_admin_sets_a_users_share_weight_which_the_user_listing_shows(
    client: TestClient, admin: Account, alice: Account
) -> None:
    response = client.patch(f"{USERS}/{alice.id}", json={"share_weight": 3}, headers=admin.headers)

    assert response.status_code == 200, response.text
    assert response.json()["share_weight"] == 3
    listed = {u["id"]: u for u in client.get(USERS, headers=admin.headers).json()["items"]}
    assert listed[str(alice.id)]["share_weight"] == 3
    assert listed[str(admin.id)]["share_weight"] == 1


def test_a_share_weight_out_of_range_is_refused_naming_the_field(
    client: TestClient, admin: Account, alice: Account
) -> None:
    response = client.patch(f"{USERS}/{alice.id}", json={"share_weight": 0}, headers=admin.headers)

    assert_invalid(response, "share_weight")


def test_without_fair_sharing_a_task_for_a_crowded_queue_is_published_at_once(
    client: TestClient,
    container: ApiContainer,
    alice: Account,
    dispatcher: RecordingTaskDispatcher,
) -> None:
    threshold = container.core.settings().fair_share_threshold
    container.core.queue_backlogs.override(
        FixedQueueBacklogs({"default": QueueBacklog(depth=threshold + 1)})
    )

    task = create_task(client, alice)

    assert [str(task_id) for task_id in dispatcher.enqueued_ids] == [task["id"]]


def test_a_task_for_a_crowded_queue_waits_unpublished_for_its_fair_share(
    client: TestClient,
    container: ApiContainer,
    alice: Account,
    dispatcher: RecordingTaskDispatcher,
    override_settings: Callable[..., Settings],
) -> None:
    threshold = override_settings(fair_share=True).fair_share_threshold
    container.core.queue_backlogs.override(
        FixedQueueBacklogs({"default": QueueBacklog(depth=threshold + 1)})
    )

    task = create_task(client, alice)

    assert dispatcher.enqueued == []
    waiting = read(client, alice, f"/tasks/{task['id']}")["waiting"]
    assert (waiting["reason"], waiting["queue"], waiting["position"]) == (
        "fair_share",
        "default",
        0,
    )
