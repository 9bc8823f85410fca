"""Fixtures shared by the model registry's use-case tests."""

from __future__ import annotations

import pytest

from adapters.in_memory.catalog import StaticTaskTypeCatalog
from adapters.in_memory.clock import FixedClock
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from application.model_tasks import ModelTaskRequester
from application.publishing import TaskPublisher
from application.use_cases.register_model import RegisterModel
from domain.model import Model, ModelType
from domain.user import User


@pytest.fixture
def requester(
    uow: InMemoryUnitOfWork,
    catalog: StaticTaskTypeCatalog,
    publisher: TaskPublisher,
    clock: FixedClock,
) -> ModelTaskRequester:
    return ModelTaskRequester(
        uow=uow, catalog=catalog, publisher=publisher, clock=clock, max_active_tasks=100
    )


@pytest.fixture
def model(uow: InMemoryUnitOfWork, clock: FixedClock, alice: User) -> Model:
    return RegisterModel(uow=uow, clock=clock).execute(
        alice, name="churn", model_type=ModelType.ONNX, artifact_location="/models/churn.onnx"
    )
