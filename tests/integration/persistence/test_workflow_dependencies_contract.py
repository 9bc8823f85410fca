"""What a workflow task's end reads and writes agrees on every backend: dependencies
counted down without reading the dependents first, the results a claim hands to a
dependent, whether anything is unfinished, and the workflow read by the lock that holds it."""

from __future__ import annotations

from domain.task import RunToken, Task, TaskError, TaskStatus
from domain.user import User
from domain.workflow import WorkflowId
from tests.factories import T0
from tests.integration.persistence.units_of_work import NewUnitOfWork, save_workflow


def store_workflow(
    new_uow: NewUnitOfWork, owner: User, graph: dict[str, list[str]]
) -> tuple[WorkflowId, dict[str, Task]]:
    tasks = save_workflow(new_uow, owner, graph)
    workflow_id = next(iter(tasks.values())).workflow_id
    assert workflow_id is not None
    return workflow_id, tasks


def end(new_uow: NewUnitOfWork, task: Task, *, result: object = None, fail: bool = False) -> None:
    with new_uow() as uow:
        running = uow.tasks.get(task.id)
        running.start(run_token=RunToken("r"), at=T0)
        if fail:
            running.fail(run_token=RunToken("r"), error=TaskError("ValueError", "bad input"), at=T0)
        else:
            running.complete(run_token=RunToken("r"), result=result, at=T0)
        uow.tasks.update(running)
        uow.commit()


def test_a_met_dependency_is_counted_once_per_waiting_task_and_the_last_one_is_returned(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    workflow_id, tasks = store_workflow(
        new_uow, owner, {"a": [], "b": [], "both": ["a", "b"], "one": ["a"]}
    )
    other_id, _ = store_workflow(new_uow, owner, {"a": [], "one": ["a"]})

    with new_uow() as uow:
        waited, ready = uow.tasks.meet_dependency(workflow_id, ["both", "one", "a"])
        uow.commit()
    with new_uow() as uow:
        both = uow.tasks.get(tasks["both"].id)
        other = uow.tasks.of_workflow(other_id, keys=["one"])[0]

    assert waited == 2  # "a" itself does not wait
    assert [(t.workflow_key, t.unmet_dependencies, t.status) for t in ready] == [
        ("one", 0, TaskStatus.WAITING)
    ]
    assert (both.unmet_dependencies, both.status) == (1, TaskStatus.WAITING)
    assert other.unmet_dependencies == 1  # another workflow's task of the same key


def test_a_task_that_no_longer_waits_is_not_counted(new_uow: NewUnitOfWork, owner: User) -> None:
    workflow_id, tasks = store_workflow(new_uow, owner, {"a": [], "b": ["a"]})
    with new_uow() as uow:
        below = uow.tasks.get(tasks["b"].id)
        below.cancel(at=T0)
        uow.tasks.update(below)
        uow.commit()

    with new_uow() as uow:
        waited, ready = uow.tasks.meet_dependency(workflow_id, ["b"])
        uow.commit()

    assert (waited, ready) == (0, [])


def test_a_released_task_can_be_stored_after_its_count_reached_zero(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    workflow_id, tasks = store_workflow(new_uow, owner, {"a": [], "b": ["a"]})

    with new_uow() as uow:
        _, [below] = uow.tasks.meet_dependency(workflow_id, ["b"])
        below.release()
        uow.tasks.update(below)
        uow.commit()
    with new_uow() as uow:
        stored = uow.tasks.get(tasks["b"].id)

    assert (stored.status, stored.unmet_dependencies, stored.dispatched) == (
        TaskStatus.PENDING,
        0,
        False,
    )


def test_a_dependent_reads_how_each_of_its_dependencies_ended(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    workflow_id, tasks = store_workflow(
        new_uow, owner, {"a": [], "b": [], "c": [], "d": ["a", "b", "c"]}
    )
    end(new_uow, tasks["a"], result={"rows": 3})
    end(new_uow, tasks["b"], fail=True)

    with new_uow() as uow:
        upstream = uow.tasks.upstream_of(workflow_id, keys=["a", "b"])

    assert {key: u.as_json() for key, u in upstream.items()} == {
        "a": {"status": "completed", "result": {"rows": 3}, "error": None},
        "b": {"status": "failed", "result": None, "error": "ValueError: bad input"},
    }


def test_a_workflow_is_unfinished_until_every_task_ended(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    workflow_id, tasks = store_workflow(new_uow, owner, {"a": [], "b": []})
    end(new_uow, tasks["a"])
    with new_uow() as uow:
        unfinished_after_one = uow.tasks.workflow_has_unfinished_tasks(workflow_id)
    end(new_uow, tasks["b"], fail=True)
    with new_uow() as uow:
        unfinished_after_both = uow.tasks.workflow_has_unfinished_tasks(workflow_id)

    assert unfinished_after_one is True
    assert unfinished_after_both is False


def test_the_lock_returns_the_workflow_as_stored_and_again_after_an_update(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    workflow_id, _ = store_workflow(new_uow, owner, {"a": []})

    with new_uow() as uow:
        held = uow.workflows.lock(workflow_id)
        held.cancel(at=T0)
        uow.workflows.update(held)
        again = uow.workflows.lock(workflow_id)
        uow.commit()

    assert held.id == workflow_id
    assert again.status is held.status
    assert again.completed_at == T0
