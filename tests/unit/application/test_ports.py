"""The ports are abstract: an adapter that leaves out a method fails where it is built, not
with a silent None on the first call."""

from __future__ import annotations

import inspect

import pytest

from application import ports
from application.ports import TaskDispatcher


def test_an_adapter_missing_a_method_of_its_port_cannot_be_built() -> None:
    class HalfADispatcher(TaskDispatcher):
        def revoke(self, task_id: object) -> None:
            pass

    with pytest.raises(TypeError, match="enqueue"):
        HalfADispatcher()  # type: ignore[abstract]


PORTS = [
    "TaskRepository",
    "UserRepository",
    "ModelRepository",
    "UnitOfWork",
    "DispatchRecorder",
    "TaskDispatcher",
    "TaskTypeCatalog",
    "PasswordHasher",
    "TokenService",
    "LoginThrottle",
    "QueueDepths",
    "Clock",
    "DependencyProbe",
    "TaskContext",
    "TaskExecutor",
    "RunSupervisor",
    "RunObserver",
]


@pytest.mark.parametrize("port", PORTS)
def test_every_port_is_abstract(port: str) -> None:
    assert inspect.isabstract(getattr(ports, port))
