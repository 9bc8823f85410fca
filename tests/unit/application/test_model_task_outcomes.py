"""A finished model task moves its model: validated, invalid, deployed or failed, atomically."""

from __future__ import annotations

from datetime import timedelta

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from application.model_tasks import ModelTaskRequester
from application.publishing import TaskPublisher
from application.running.outcomes import Completed, Failed
from application.running.start_task import StartTask
from application.use_cases.reap_stale_tasks import ReapStaleTasks
from application.use_cases.request_model_deployment import RequestModelDeployment
from application.use_cases.request_model_validation import RequestModelValidation
from domain.model import Model, ModelStatus
from domain.user import User
from tests.factories import record_outcome

SHA = "ab" * 32


def model_status(uow: InMemoryUnitOfWork, model: Model) -> Model:
    with uow:
        return uow.models.get(model.id)


def validate(
    requester: ModelTaskRequester,
    uow: InMemoryUnitOfWork,
    clock: FixedClock,
    alice: User,
    model: Model,
) -> None:
    _, task = RequestModelValidation(requester).execute(alice, model.id)
    run = StartTask(uow=uow, clock=clock).execute(task.id)
    record_outcome(uow, clock, run, Completed({"size": 42, "sha256": SHA, "format": "onnx"}))


def test_a_completed_validation_records_size_and_digest(
    requester: ModelTaskRequester,
    uow: InMemoryUnitOfWork,
    clock: FixedClock,
    alice: User,
    model: Model,
) -> None:
    validate(requester, uow, clock, alice, model)

    settled = model_status(uow, model)
    assert (settled.status, settled.artifact_size, settled.artifact_sha256) == (
        ModelStatus.VALIDATED,
        42,
        SHA,
    )


def test_a_failed_validation_marks_the_model_invalid_with_the_reason(
    requester: ModelTaskRequester,
    uow: InMemoryUnitOfWork,
    clock: FixedClock,
    alice: User,
    model: Model,
) -> None:
    _, task = RequestModelValidation(requester).execute(alice, model.id)
    run = StartTask(uow=uow, clock=clock).execute(task.id)

    record_outcome(uow, clock, run, Failed("InvalidArtifactError", "truncated"))

    settled = model_status(uow, model)
    assert settled.status is ModelStatus.INVALID
    assert settled.status_reason == "InvalidArtifactError: truncated"


def test_a_completed_deployment_records_where_it_went(
    requester: ModelTaskRequester,
    uow: InMemoryUnitOfWork,
    clock: FixedClock,
    alice: User,
    model: Model,
) -> None:
    validate(requester, uow, clock, alice, model)
    _, task = RequestModelDeployment(requester, deployment_dir="/srv").execute(alice, model.id)
    run = StartTask(uow=uow, clock=clock).execute(task.id)

    record_outcome(uow, clock, run, Completed({"deployed_location": f"/srv/{model.id}/churn.onnx"}))

    settled = model_status(uow, model)
    assert settled.status is ModelStatus.DEPLOYED
    assert settled.deployed_location == f"/srv/{model.id}/churn.onnx"
    assert task.kwargs["artifact_sha256"] == SHA


def test_a_deployment_whose_worker_is_lost_for_good_fails_the_deployment(
    requester: ModelTaskRequester,
    uow: InMemoryUnitOfWork,
    clock: FixedClock,
    publisher: TaskPublisher,
    alice: User,
    model: Model,
) -> None:
    validate(requester, uow, clock, alice, model)
    _, task = RequestModelDeployment(requester, deployment_dir="/srv").execute(alice, model.id)
    reap = ReapStaleTasks(
        uow=uow, publisher=publisher, clock=clock, stale_after=timedelta(seconds=5), batch_size=10
    )
    for _ in range(task.max_attempts):
        StartTask(uow=uow, clock=clock).execute(task.id)
        clock.advance(seconds=6)
        reap.execute()

    assert model_status(uow, model).status is ModelStatus.DEPLOYMENT_FAILED
