"""Whether a user's events look for webhooks: read with each event number (SQL only; the
in-memory adapter always looks), false until the user has an endpoint or a callback secret,
true from the commit that adds one."""

from __future__ import annotations

from domain.event import EventKind
from domain.webhook import WebhookEndpoint
from tests.factories import T0, make_task, make_user
from tests.integration.persistence.units_of_work import NewUnitOfWork, save


def test_an_events_number_says_whether_its_user_has_webhooks_from_the_commit_that_adds_them(
    new_sql_uow: NewUnitOfWork,
) -> None:
    plain, with_endpoint, with_callbacks = (save(new_sql_uow, make_user()) for _ in range(3))
    with new_sql_uow() as uow:
        endpoint = WebhookEndpoint.register(
            with_endpoint.id, "https://hooks.example.com/in", ["task.completed"], at=T0
        )
        uow.webhooks.add_endpoint(endpoint)
        uow.webhooks.set_callback_secret(with_callbacks.id, "whsec_c2VjcmV0")
        uow.commit()

    wanted = {}
    with new_sql_uow() as uow:
        for user in (plain, with_endpoint):
            uow.events.next_sequence(user.id)  # read with the number, no query of its own
            wanted[user.email] = uow.events.wants_webhooks(user.id)
        task = make_task(user=with_callbacks)
        uow.tasks.add(task)
        uow.events.record(with_callbacks.id, task.id, EventKind.STATUS, {}, T0)
        wanted[with_callbacks.email] = uow.events.wants_webhooks(with_callbacks.id)

    assert wanted == {plain.email: False, with_endpoint.email: True, with_callbacks.email: True}
