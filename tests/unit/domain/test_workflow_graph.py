"""The workflow rules: graph validation, readiness, failure propagation, aggregate status."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import InvalidFieldsError, ValidationError
from domain.task import TaskStatus
from domain.workflow import Graph, Node, OnFailure, WorkflowStatus, aggregate_status

W, P, R, C, F, X = (
    TaskStatus.WAITING,
    TaskStatus.PENDING,
    TaskStatus.RUNNING,
    TaskStatus.COMPLETED,
    TaskStatus.FAILED,
    TaskStatus.CANCELLED,
)


def field_errors(nodes: list[Node], **kwargs: int) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        Graph(nodes, **kwargs)
    return dict(caught.value.field_errors)


def test_a_cycle_is_refused_naming_the_cycles_keys_under_the_depends_on_field() -> None:
    nodes = [Node("a"), Node("b", ("a", "d")), Node("c", ("b",)), Node("d", ("c",))]
    errors = field_errors(nodes)
    assert list(errors) == ["tasks[1].depends_on"]
    assert errors["tasks[1].depends_on"] == "cycle: b -> c -> d -> b"


def test_unknown_duplicate_and_self_dependencies_are_each_named() -> None:
    nodes = [Node("a", ("a",)), Node("a"), Node("b", ("zz",)), Node("bad key")]
    with pytest.raises(InvalidFieldsError) as caught:
        Graph(nodes)
    assert caught.value.field_errors == [
        ("tasks[1].key", "duplicate key 'a' (tasks[0])"),
        ("tasks[3].key", "must be 1 to 100 letters, digits, '_', '.' or '-'"),
        ("tasks[0].depends_on", "a task cannot depend on itself"),
        ("tasks[2].depends_on", "unknown key 'zz'"),
    ]


def test_more_tasks_than_the_limit_are_refused_under_tasks() -> None:
    assert "tasks" in field_errors([Node(f"t{n}") for n in range(4)], max_tasks=3)


def test_a_chain_of_a_thousand_is_checked_without_recursion() -> None:
    nodes = [Node("t0")] + [Node(f"t{n}", (f"t{n - 1}",)) for n in range(1, 1000)]
    assert len(Graph(nodes).levels()) == 1000


def test_levels_group_what_may_run_in_parallel() -> None:
    graph = Graph(
        [Node("prepare"), Node("a", ("prepare",)), Node("b", ("prepare",)), Node("z", ("a", "b"))]
    )
    assert graph.levels() == [["prepare"], ["a", "b"], ["z"]]


def test_a_failure_cancels_everything_below_it_in_topological_order() -> None:
    graph = Graph([Node("c", ("b",)), Node("a"), Node("b", ("a",)), Node("d")])
    steps = graph.after_end("a", F, OnFailure.CANCEL_DEPENDENTS)
    assert steps.cancel == ("b", "c")
    assert steps.met == ()


def test_a_completion_meets_one_dependency_of_each_direct_dependent_only() -> None:
    graph = Graph([Node("a"), Node("b", ("a",)), Node("c", ("a", "b")), Node("d", ("c",))])
    steps = graph.after_end("a", C, OnFailure.CANCEL_DEPENDENTS)
    assert steps.met == ("b", "c")
    assert steps.cancel == ()


@pytest.mark.parametrize("ended", [F, X])
def test_under_continue_a_failure_or_cancel_meets_a_dependency_as_a_completion_does(
    ended: TaskStatus,
) -> None:
    graph = Graph([Node("a"), Node("b"), Node("c", ("a", "b"))])
    steps = graph.after_end("a", ended, OnFailure.CONTINUE)
    assert steps.met == ("c",)
    assert steps.cancel == ()


@pytest.mark.parametrize(
    ("statuses", "cancelled", "expected"),
    [
        ([C, W], False, WorkflowStatus.RUNNING),
        ([C, P], False, WorkflowStatus.RUNNING),
        ([C, C], False, WorkflowStatus.COMPLETED),
        ([C, F, X], False, WorkflowStatus.FAILED),
        ([C, X], False, WorkflowStatus.CANCELLED),
        ([C, C], True, WorkflowStatus.CANCELLED),
    ],
)
def test_aggregate_status(
    statuses: list[TaskStatus], cancelled: bool, expected: WorkflowStatus
) -> None:
    assert aggregate_status(statuses, cancelled=cancelled) is expected


@st.composite
def dags(draw: st.DrawFn) -> list[Node]:
    """A random DAG: each node depends on a random subset of the nodes before it, listed in
    a random order (so the submission order is not the topological one)."""
    size = draw(st.integers(1, 25))
    nodes = []
    for n in range(size):
        parents = draw(st.sets(st.integers(0, n - 1), max_size=4)) if n else set()
        nodes.append(Node(f"k{n}", tuple(f"k{p}" for p in sorted(parents))))
    return draw(st.permutations(nodes))


@settings(max_examples=300, deadline=None)
@given(
    nodes=dags(),
    on_failure=st.sampled_from(OnFailure),
    seed=st.integers(0, 2**32),
    failure_rate=st.sampled_from([0.0, 0.2, 0.5]),
)
def test_random_dags_in_random_completion_orders(
    nodes: list[Node], on_failure: OnFailure, seed: int, failure_rate: float
) -> None:
    """Every task runs only after all its parents completed (finished, under continue),
    exactly once; nothing runs below a failed task under cancel_dependents; every task
    ends."""
    rng = random.Random(seed)
    graph = Graph(nodes)
    statuses = {n.key: (W if n.depends_on else P) for n in nodes}
    unmet = {n.key: len(n.depends_on) for n in nodes}
    runs: list[str] = []
    failed: set[str] = set()
    while True:
        runnable = [key for key, status in statuses.items() if status is P]
        if not runnable:
            break
        key = rng.choice(runnable)
        for parent in graph.parents(key):
            if on_failure is OnFailure.CANCEL_DEPENDENTS:
                assert statuses[parent] is C
            else:
                assert statuses[parent].is_terminal
        runs.append(key)
        statuses[key] = F if rng.random() < failure_rate else C
        if statuses[key] is F:
            failed.add(key)
        steps = graph.after_end(key, statuses[key], on_failure)
        for below in steps.cancel:
            if statuses[below] is W:
                statuses[below] = X
        for below in steps.met:
            if statuses[below] is X:
                continue  # cancelled below another dependency's failure
            assert statuses[below] is W  # a dependent waits until its last dependency ends
            unmet[below] -= 1
            if unmet[below] == 0:
                statuses[below] = P
    assert len(runs) == len(set(runs))
    assert all(status.is_terminal for status in statuses.values())
    if on_failure is OnFailure.CANCEL_DEPENDENTS:
        assert not graph.below(failed) & set(runs)
        assert set(runs) | graph.below(failed) == set(statuses)
    else:
        assert set(runs) == set(statuses)
