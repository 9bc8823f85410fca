"""Users and models: round trips, uniqueness, listings and what deleting a model leaves."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import timedelta

import pytest

from application.ports import Cursor, ModelQuery
from domain.errors import AlreadyExistsError, ConcurrencyConflictError, NotFoundError
from domain.model import Model, ModelStatus, ModelType
from domain.user import Email, User, UserId
from tests.factories import T0, make_model, make_task, make_user
from tests.integration.persistence.units_of_work import NewUnitOfWork, save


def test_a_user_comes_back_with_every_field_as_it_went_in(new_uow: NewUnitOfWork) -> None:
    user = replace(make_user(is_admin=True, is_active=False), created_at=T0 + timedelta(hours=1))

    save(new_uow, user)
    with new_uow() as uow:
        by_id = uow.users.get(user.id)
        by_email = uow.users.find_by_email(Email(f" {str(user.email).upper()} "))

    assert asdict(by_id) == asdict(user)
    assert by_email is not None
    assert by_email.id == user.id


def test_a_user_comes_back_as_updated(new_uow: NewUnitOfWork) -> None:
    user = save(new_uow, make_user())

    with new_uow() as uow:
        loaded = uow.users.get(user.id)
        loaded.change_password("new-hash")
        loaded.grant_admin()
        loaded.deactivate()
        uow.users.update(loaded)
        uow.commit()

    with new_uow() as uow:
        assert asdict(uow.users.get(user.id)) == asdict(loaded)


def test_a_user_written_from_a_copy_read_before_its_sessions_ended_loses_with_a_conflict(
    new_uow: NewUnitOfWork,
) -> None:
    user = save(new_uow, make_user())

    with new_uow() as slow:
        stale = slow.users.get(user.id)  # an admin's form, loaded earlier
        with new_uow() as fast:
            owner = fast.users.get(user.id)
            owner.end_sessions()
            fast.users.update(owner)
            fast.commit()
        stale.grant_admin()
        with pytest.raises(ConcurrencyConflictError):
            slow.users.update(stale)

    with new_uow() as uow:
        reloaded = uow.users.get(user.id)
    assert (reloaded.token_version, reloaded.is_admin) == (1, False)


def test_a_stale_reactivation_loses_to_the_deactivation_it_missed(
    new_uow: NewUnitOfWork,
) -> None:
    user = save(new_uow, make_user(is_active=False))

    with new_uow() as slow:
        stale = slow.users.get(user.id)
        with new_uow() as fast:
            current = fast.users.get(user.id)
            current.activate()
            fast.users.update(current)
            fast.commit()
        with new_uow() as fast:
            current = fast.users.get(user.id)
            current.deactivate()
            fast.users.update(current)
            fast.commit()
        stale.activate()
        with pytest.raises(ConcurrencyConflictError):
            slow.users.update(stale)

    with new_uow() as uow:
        assert uow.users.get(user.id).is_active is False


def test_a_user_read_elsewhere_cannot_be_written_without_being_read_again(
    new_uow: NewUnitOfWork,
) -> None:
    user = save(new_uow, make_user())
    with new_uow() as uow:
        copy = uow.users.get(user.id)

    copy.grant_admin()
    with new_uow() as uow, pytest.raises(ConcurrencyConflictError):
        uow.users.update(copy)


def test_one_writer_may_update_the_same_user_twice_in_a_transaction(
    new_uow: NewUnitOfWork,
) -> None:
    user = save(new_uow, make_user())

    with new_uow() as uow:
        loaded = uow.users.get(user.id)
        loaded.grant_admin()
        uow.users.update(loaded)
        loaded.end_sessions()
        uow.users.update(loaded)
        uow.commit()

    with new_uow() as uow:
        reloaded = uow.users.get(user.id)
    assert (reloaded.is_admin, reloaded.token_version) == (True, 1)


def test_unknown_users_are_not_found(new_uow: NewUnitOfWork) -> None:
    with new_uow() as uow:
        with pytest.raises(NotFoundError):
            uow.users.get(make_user().id)
        assert uow.users.find_by_email(Email("nobody@example.com")) is None


def test_a_second_user_with_the_same_email_is_refused(new_uow: NewUnitOfWork) -> None:
    save(new_uow, make_user(email="same@example.com"))

    with new_uow() as uow, pytest.raises(AlreadyExistsError) as refused:
        uow.users.add(make_user(email="SAME@example.com"))

    assert refused.value.context["field"] == "email"


def test_pages_of_users_cover_each_exactly_once_newest_first(new_uow: NewUnitOfWork) -> None:
    users = [replace(make_user(), created_at=T0 + timedelta(seconds=s)) for s in (0, 0, 1, 1, 2)]
    save(new_uow, *users)

    seen: list[UserId] = []
    after = None
    with new_uow() as uow:
        while page := uow.users.find(after=after, limit=2):
            seen.extend(u.id for u in page)
            after = Cursor(created_at=page[-1].created_at, id=str(page[-1].id))

    expected = sorted(users, key=lambda u: (u.created_at, str(u.id)), reverse=True)
    assert seen == [u.id for u in expected]


def every_model_field_set(owner: User) -> Model:
    model = make_model(user=owner, name="fraud", model_type=ModelType.PYTORCH)
    return replace(
        model,
        description="spots fraud",
        status=ModelStatus.DEPLOYED,
        artifact_size=5 * 2**32,  # past 32 bits: the column must be a BigInteger
        artifact_sha256="f" * 64,
        deployed_location="s3://models/fraud/1",
        status_reason="redeployed after an outage",
        updated_at=T0 + timedelta(days=1),
    )


def test_a_model_comes_back_with_every_field_as_it_went_in(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    model = every_model_field_set(owner)

    save(new_uow, model)
    with new_uow() as uow:
        loaded = uow.models.get(model.id)

    assert asdict(loaded) == asdict(model)


def test_a_model_comes_back_as_updated(new_uow: NewUnitOfWork, owner: User) -> None:
    model = save(new_uow, make_model(user=owner))

    with new_uow() as uow:
        loaded = uow.models.get(model.id)
        loaded.describe(name="renamed", description="now described", at=T0 + timedelta(hours=1))
        loaded.start_validation(at=T0)
        loaded.mark_invalid(reason="not an onnx file", at=T0 + timedelta(hours=2))
        uow.models.update(loaded)
        uow.commit()

    with new_uow() as uow:
        assert asdict(uow.models.get(model.id)) == asdict(loaded)


def test_a_user_cannot_have_two_models_of_one_name(new_uow: NewUnitOfWork, owner: User) -> None:
    save(new_uow, make_model(user=owner, name="churn"))

    with new_uow() as uow, pytest.raises(AlreadyExistsError) as refused:
        uow.models.add(make_model(user=owner, name="churn"))

    assert refused.value.context["field"] == "name"


def test_two_users_may_each_have_a_model_of_the_same_name(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    other = save(new_uow, make_user())

    save(new_uow, make_model(user=owner, name="churn"), make_model(user=other, name="churn"))

    with new_uow() as uow:
        assert len(uow.models.find(ModelQuery())) == 2


def test_renaming_a_model_onto_a_taken_name_is_refused(new_uow: NewUnitOfWork, owner: User) -> None:
    save(new_uow, make_model(user=owner, name="taken"))
    model = save(new_uow, make_model(user=owner, name="free"))

    with new_uow() as uow:
        loaded = uow.models.get(model.id)
        loaded.describe(name="taken", at=T0)
        with pytest.raises(AlreadyExistsError):
            uow.models.update(loaded)


def test_models_are_listed_newest_first_by_owner_and_status(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    other = save(new_uow, make_user())
    first, second, validating = (
        replace(make_model(user=owner, name=n), created_at=T0 + timedelta(seconds=i))
        for i, n in enumerate(("a", "b", "c"))
    )
    validating.start_validation(at=T0)
    save(new_uow, first, second, validating, make_model(user=other, name="a"))

    with new_uow() as uow:
        mine = uow.models.find(ModelQuery(owner_id=owner.id))
        busy = uow.models.find(ModelQuery(owner_id=owner.id, status=ModelStatus.VALIDATING))
        after_second = uow.models.find(
            ModelQuery(owner_id=owner.id, after=Cursor(second.created_at, str(second.id)))
        )

    assert [m.id for m in mine] == [validating.id, second.id, first.id]
    assert [m.id for m in busy] == [validating.id]
    assert [m.id for m in after_second] == [first.id]


def test_deleting_a_model_unlinks_its_tasks_but_keeps_them(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    model = make_model(user=owner)
    task = make_task(user=owner)
    task.model_id = model.id
    save(new_uow, model, task)

    with new_uow() as uow:
        uow.models.delete(uow.models.get(model.id))
        uow.commit()

    with new_uow() as uow:
        with pytest.raises(NotFoundError):
            uow.models.get(model.id)
        assert uow.tasks.get(task.id).model_id is None
