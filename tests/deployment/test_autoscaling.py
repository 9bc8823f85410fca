"""The KEDA example of docs/kubernetes/: a ScaledObject per queue, scaling on the work
metric the workers export (not the broker's list length), and a grace period longer than
any task type's time limit, so a scale-down never kills a run."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from adapters.task_types.builtin import builtin_registry
from domain.task import Priority
from tests.deployment.test_compose_and_dockerfile import exported_metric_names

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "kubernetes" / "keda-workers.yaml"
DOCUMENTS: list[dict[str, Any]] = [d for d in yaml.safe_load_all(EXAMPLE.read_text()) if d]
SCALED = [d for d in DOCUMENTS if d["kind"] == "ScaledObject"]


def queries() -> dict[str, str]:
    """Each ScaledObject's Prometheus query, by the queue it names."""
    found = {}
    for scaled in SCALED:
        (trigger,) = scaled["spec"]["triggers"]
        query = trigger["metadata"]["query"]
        (queue,) = re.findall(r'queue="(\w+)"', query)
        found[queue] = query
    return found


def test_every_queue_has_a_scaled_object() -> None:
    assert set(queries()) == {priority.queue for priority in Priority}


def test_they_scale_on_the_work_metric_not_the_broker_list_length() -> None:
    for query in queries().values():
        metrics = set(re.findall(r"\btaskhub_\w+", query))
        assert metrics == {"taskhub_queue_work"}
        assert metrics <= exported_metric_names()


def test_they_never_scale_to_zero_since_the_workers_serve_the_metric() -> None:
    assert all(scaled["spec"]["minReplicaCount"] >= 1 for scaled in SCALED)


def test_a_workers_grace_period_outlasts_the_longest_task_time_limit() -> None:
    limits = [t.time_limit for t in builtin_registry().task_types() if t.time_limit]
    (deployment,) = [d for d in DOCUMENTS if d["kind"] == "Deployment"]

    grace = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]

    assert limits
    assert grace > max(limits)
