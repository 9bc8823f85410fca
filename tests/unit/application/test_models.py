from __future__ import annotations

import pytest

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.dispatcher import RecordingTaskDispatcher
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from application.model_tasks import ModelTaskRequester
from application.use_cases.cancel_task import CancelTask
from application.use_cases.delete_model import DeleteModel
from application.use_cases.get_model import GetModel
from application.use_cases.list_models import ListModels
from application.use_cases.register_model import RegisterModel
from application.use_cases.request_model_deployment import RequestModelDeployment
from application.use_cases.request_model_validation import RequestModelValidation
from application.use_cases.update_model import UpdateModel
from domain.errors import AlreadyExistsError, ConflictError, InvalidTransitionError, NotFoundError
from domain.model import Model, ModelStatus, ModelType
from domain.task import Priority, TaskStatus
from domain.user import User


def stored(uow: InMemoryUnitOfWork, model: Model) -> Model:
    with uow:
        return uow.models.get(model.id)


def test_a_registered_model_belongs_to_its_owner_and_names_are_unique_per_owner(
    uow: InMemoryUnitOfWork, clock: FixedClock, model: Model, alice: User, bob: User
) -> None:
    register = RegisterModel(uow=uow, clock=clock)

    with pytest.raises(AlreadyExistsError):
        register.execute(alice, name="churn", model_type=ModelType.ONNX, artifact_location="/x")
    bobs = register.execute(bob, name="churn", model_type=ModelType.ONNX, artifact_location="/x")

    assert stored(uow, model).status is ModelStatus.REGISTERED
    assert bobs.user_id == bob.id


def test_requesting_validation_moves_the_model_and_queues_a_validate_task(
    requester: ModelTaskRequester,
    uow: InMemoryUnitOfWork,
    dispatcher: RecordingTaskDispatcher,
    model: Model,
    alice: User,
) -> None:
    _, task = RequestModelValidation(requester).execute(alice, model.id)

    assert stored(uow, model).status is ModelStatus.VALIDATING
    assert (task.task_type, task.model_id, task.kwargs) == (
        "validate_model",
        model.id,
        {
            "model_id": str(model.id),
            "artifact_location": "/models/churn.onnx",
            "model_type": "onnx",
        },
    )
    assert dispatcher.enqueued_ids == [task.id]


def test_deployment_needs_a_validated_model_and_runs_at_high_priority(
    requester: ModelTaskRequester,
    uow: InMemoryUnitOfWork,
    clock: FixedClock,
    model: Model,
    alice: User,
) -> None:
    with pytest.raises(InvalidTransitionError):
        RequestModelDeployment(requester, deployment_dir="/srv/models").execute(alice, model.id)
    RequestModelValidation(requester).execute(alice, model.id)
    with uow:
        validating = uow.models.get(model.id)
        validating.mark_validated(size=10, sha256="ab" * 32, at=clock.now())
        uow.models.update(validating)
        uow.commit()

    _, task = RequestModelDeployment(requester, deployment_dir="/srv/models").execute(
        alice, model.id
    )

    assert stored(uow, model).status is ModelStatus.DEPLOYING
    assert task.priority is Priority.HIGH


def test_cancelling_a_validation_task_puts_the_model_back(
    requester: ModelTaskRequester,
    uow: InMemoryUnitOfWork,
    dispatcher: RecordingTaskDispatcher,
    clock: FixedClock,
    model: Model,
    alice: User,
) -> None:
    _, task = RequestModelValidation(requester).execute(alice, model.id)

    cancelled = CancelTask(uow=uow, dispatcher=dispatcher, clock=clock).execute(alice, task.id)

    assert cancelled.status is TaskStatus.CANCELLED
    assert stored(uow, model).status is ModelStatus.REGISTERED


def test_strangers_see_no_model(
    requester: ModelTaskRequester,
    uow: InMemoryUnitOfWork,
    clock: FixedClock,
    model: Model,
    bob: User,
) -> None:
    with pytest.raises(NotFoundError):
        GetModel(uow=uow).execute(bob, model.id)
    with pytest.raises(NotFoundError):
        UpdateModel(uow=uow, clock=clock).execute(bob, model.id, name="mine")
    with pytest.raises(NotFoundError):
        DeleteModel(uow=uow).execute(bob, model.id)
    with pytest.raises(NotFoundError):
        RequestModelValidation(requester).execute(bob, model.id)
    assert ListModels(uow=uow, max_page_size=10).execute(bob, limit=10).items == []


def test_a_new_artifact_resets_the_model_to_registered(
    requester: ModelTaskRequester,
    uow: InMemoryUnitOfWork,
    clock: FixedClock,
    model: Model,
    alice: User,
) -> None:
    update = UpdateModel(uow=uow, clock=clock)
    RequestModelValidation(requester).execute(alice, model.id)

    with pytest.raises(InvalidTransitionError):
        update.execute(alice, model.id, artifact_location="/models/v2.onnx")
    with uow:
        validating = uow.models.get(model.id)
        validating.mark_invalid(reason="truncated", at=clock.now())
        uow.models.update(validating)
        uow.commit()
    updated = update.execute(alice, model.id, description="v2", artifact_location="/models/v2.onnx")

    assert (updated.status, updated.description) == (ModelStatus.REGISTERED, "v2")
    assert stored(uow, model).artifact_location == "/models/v2.onnx"


def test_a_busy_model_cannot_be_deleted_and_past_tasks_outlive_their_model(
    requester: ModelTaskRequester,
    uow: InMemoryUnitOfWork,
    dispatcher: RecordingTaskDispatcher,
    clock: FixedClock,
    model: Model,
    alice: User,
) -> None:
    _, task = RequestModelValidation(requester).execute(alice, model.id)

    with pytest.raises(ConflictError):
        DeleteModel(uow=uow).execute(alice, model.id)
    CancelTask(uow=uow, dispatcher=dispatcher, clock=clock).execute(alice, task.id)
    DeleteModel(uow=uow).execute(alice, model.id)

    assert model.id not in uow.store.models
    assert uow.store.tasks[task.id].model_id is None


def test_model_listing_filters_by_status_and_admins_see_all(
    uow: InMemoryUnitOfWork, clock: FixedClock, model: Model, bob: User, admin: User
) -> None:
    RegisterModel(uow=uow, clock=clock).execute(
        bob, name="fraud", model_type=ModelType.SKLEARN, artifact_location="/m/fraud.pkl"
    )
    list_models = ListModels(uow=uow, max_page_size=10)

    everyone = list_models.execute(admin, limit=10)
    registered = list_models.execute(admin, limit=10, status=ModelStatus.REGISTERED)
    deployed = list_models.execute(admin, limit=10, status=ModelStatus.DEPLOYED)

    assert len(everyone.items) == len(registered.items) == 2
    assert deployed.items == []
