"""The Prometheus alert rules of docker/: well formed, loaded by Prometheus, and asking only
for metrics the code exports (checked with promtool too, where it is installed)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deployment.test_compose_and_dockerfile import SERVICES, exported_metric_names

PROMETHEUS = Path(__file__).resolve().parents[2] / "docker" / "prometheus"
RULES_FILE = PROMETHEUS / "alerts.yml"
RULES: list[dict[str, Any]] = [
    rule for group in yaml.safe_load(RULES_FILE.read_text())["groups"] for rule in group["rules"]
]
# What Prometheus itself records about each scrape.
PROMETHEUS_OWN = {"up"}
# PromQL's words that look like a metric name in an expression.
PROMQL_WORDS = {
    "sum", "max", "min", "by", "rate", "delta", "absent", "and", "or", "unless", "job",
    "queue", "instance",
}  # fmt: skip


def metric_names(expression: str) -> set[str]:
    without_strings = re.sub(r'"[^"]*"', "", expression)
    without_ranges = re.sub(r"\[[^\]]*\]", "", without_strings)
    words = set(re.findall(r"\b[a-zA-Z_][a-zA-Z0-9_]*\b", without_ranges))
    return {word for word in words if not re.fullmatch(r"\d+[smhd]?", word)} - PROMQL_WORDS


def test_the_alerts_cover_workers_waiting_failures_and_the_relay() -> None:
    used = {name for rule in RULES for name in metric_names(rule["expr"])}

    assert {
        "up",
        "taskhub_oldest_waiting_task_seconds",
        "taskhub_tasks_failed_total",
        "taskhub_tasks_undispatched",
    } <= used


@pytest.mark.parametrize("rule", RULES, ids=[rule["alert"] for rule in RULES])
def test_every_rule_uses_only_metrics_the_code_exports(rule: dict[str, Any]) -> None:
    unknown = metric_names(rule["expr"]) - exported_metric_names() - PROMETHEUS_OWN

    assert unknown == set(), f"{rule['alert']} uses metrics nothing exports: {unknown}"


@pytest.mark.parametrize("rule", RULES, ids=[rule["alert"] for rule in RULES])
def test_every_rule_waits_a_while_has_a_severity_and_says_what_is_wrong(
    rule: dict[str, Any],
) -> None:
    assert re.fullmatch(r"\d+m", rule["for"])
    assert rule["labels"]["severity"] in {"page", "warn"}
    assert rule["annotations"]["summary"]


def test_the_metric_check_would_catch_a_misspelt_metric() -> None:
    misspelt = "max by (queue) (taskhub_oldest_waiting_tasks_seconds) > 600"

    assert metric_names(misspelt) - exported_metric_names() - PROMETHEUS_OWN == {
        "taskhub_oldest_waiting_tasks_seconds"
    }


def test_prometheus_loads_the_rules_file() -> None:
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    mounts = SERVICES["prometheus"]["volumes"]

    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    assert "./prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro" in mounts


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_promtool_accepts_the_rules() -> None:
    result = subprocess.run(  # noqa: S603 - promtool on our own file
        [str(shutil.which("promtool")), "check", "rules", str(RULES_FILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
