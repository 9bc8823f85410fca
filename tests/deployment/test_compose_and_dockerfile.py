"""The container deployment, checked without a Docker engine: every command is a real
`taskhub` command, every TASKHUB_* variable a real setting, every long-running service
health-checked, and the image built the way the docs promise."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from config.settings import Settings

DOCKER = Path(__file__).resolve().parents[2] / "docker"
COMPOSE: dict[str, Any] = yaml.safe_load((DOCKER / "compose.yaml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
TASKHUB_SERVICES = {name: s for name, s in SERVICES.items() if s.get("image") == "taskhub:latest"}
ONE_SHOT = {"migrate"}


def test_the_expected_services_are_all_there() -> None:
    assert set(SERVICES) >= {
        "api",
        "celery-worker",
        "celery-worker-high",
        "celery-beat",
        "redis",
        "db",
        "migrate",
        "flower",
        "prometheus",
        "grafana",
    }


@pytest.mark.parametrize("name", sorted(TASKHUB_SERVICES))
def test_each_taskhub_service_runs_a_real_command_with_real_options(name: str) -> None:
    command = TASKHUB_SERVICES[name]["command"]
    words = [w for w in command if not w.startswith("-")][:2]
    options = [w for w in command if w.startswith("--")]

    result = subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "entrypoints.cli", *words, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )

    assert result.returncode == 0, result.stderr
    for option in options:
        assert option in result.stdout, f"{name}: {option} is not an option of {words}"


def test_every_taskhub_variable_in_compose_is_a_known_setting() -> None:
    known = {f"TASKHUB_{field.upper()}" for field in Settings.model_fields}
    used = set(re.findall(r"\bTASKHUB_[A-Z_]+\b", (DOCKER / "compose.yaml").read_text()))

    assert used
    assert used - known == set()


def test_dockerfile_environment_names_only_known_settings() -> None:
    known = {f"TASKHUB_{field.upper()}" for field in Settings.model_fields}
    used = set(re.findall(r"\bTASKHUB_[A-Z_]+\b", (DOCKER / "Dockerfile").read_text()))

    assert used - known == set()


@pytest.mark.parametrize("name", sorted(set(SERVICES) - ONE_SHOT))
def test_every_long_running_service_has_a_health_check(name: str) -> None:
    health = SERVICES[name].get("healthcheck")

    assert health is not None
    assert health["test"]


def test_the_api_runs_two_replicas_behind_the_proxy_only() -> None:
    api = SERVICES["api"]

    assert api["deploy"]["replicas"] == 2
    assert "ports" not in api
    assert "edge" in api["networks"]
    assert "ports" in SERVICES["proxy"]


def test_the_api_trusts_x_forwarded_for_from_the_proxys_own_address_only() -> None:
    trusted = SERVICES["api"]["environment"]["TASKHUB_FORWARDED_ALLOW_IPS"]
    proxy_address = SERVICES["proxy"]["networks"]["edge"]["ipv4_address"]
    edge = ipaddress.ip_network(COMPOSE["networks"]["edge"]["ipam"]["config"][0]["subnet"])

    assert trusted == proxy_address
    assert ipaddress.ip_address(proxy_address) in edge
    assert set(SERVICES["proxy"]["networks"]) == {"edge"}


def test_the_proxy_replaces_the_clients_x_forwarded_for_instead_of_appending_to_it() -> None:
    config = (DOCKER / "proxy" / "nginx.conf").read_text()
    directives = [line.split("#")[0].strip() for line in config.splitlines()]

    assert "proxy_set_header X-Forwarded-For $remote_addr;" in directives
    assert not [d for d in directives if "$proxy_add_x_forwarded_for" in d]
    assert not [d for d in directives if d.startswith(("set_real_ip_from", "real_ip_header"))]


def test_workers_split_the_high_queue_from_default_and_low() -> None:
    assert "high_priority" in SERVICES["celery-worker-high"]["command"]
    assert "default,low_priority" in SERVICES["celery-worker"]["command"]


def test_redis_needs_a_password_never_evicts_persists_and_has_no_host_port() -> None:
    redis = SERVICES["redis"]
    command = redis["command"]

    assert "--requirepass" in command
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"
    assert command[command.index("--appendonly") + 1] == "yes"
    assert "ports" not in redis


def test_the_database_keeps_its_data_in_a_volume_and_migrations_run_once_first() -> None:
    assert any(v.endswith(":/var/lib/postgresql/data") for v in SERVICES["db"]["volumes"])
    assert SERVICES["migrate"]["command"] == ["db", "upgrade"]
    assert SERVICES["migrate"]["restart"] == "no"
    for name in set(TASKHUB_SERVICES) - ONE_SHOT:
        depends = SERVICES[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name


def test_flower_requires_basic_auth() -> None:
    assert "TASKHUB_FLOWER_BASIC_AUTH" in SERVICES["flower"]["environment"]


def test_the_image_is_multi_stage_slim_non_root_and_without_build_tools() -> None:
    dockerfile = (DOCKER / "Dockerfile").read_text()
    stages = re.split(r"^FROM ", dockerfile, flags=re.MULTILINE)[1:]
    final = stages[-1]

    assert len(stages) >= 2
    assert all(stage.startswith("python:3.11-slim") for stage in stages)
    assert re.search(r"^USER taskhub$", final, flags=re.MULTILINE)
    assert "build-essential" not in final
    assert "build-essential" in stages[0]


def exported_metric_names() -> set[str]:
    """Every sample name the API and the workers can export, read from the code."""
    from prometheus_client import CollectorRegistry

    from entrypoints.http.metrics import HttpMetrics
    from entrypoints.worker.metrics import BacklogCollector, PrometheusRunObserver

    registry = CollectorRegistry()
    HttpMetrics(registry)
    PrometheusRunObserver(registry)
    no_tasks = SimpleNamespace(execute=dict)
    registry.register(BacklogCollector(dict, lambda: no_tasks))  # type: ignore[arg-type, return-value]
    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_sum", "_count"),
        "gauge": ("",),
    }
    return {
        family.name + suffix for family in registry.collect() for suffix in suffixes[family.type]
    }


def test_the_grafana_dashboard_only_uses_metrics_the_code_exports() -> None:
    dashboard = json.loads((DOCKER / "grafana" / "dashboards" / "taskhub.json").read_text())
    expressions = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]

    used = {name for expr in expressions for name in re.findall(r"\btaskhub_\w+", expr)}

    assert used >= {
        "taskhub_queue_depth",
        "taskhub_tasks_succeeded_total",
        "taskhub_tasks_failed_total",
        "taskhub_http_request_duration_seconds_bucket",
    }
    assert used - exported_metric_names() == set()


def test_prometheus_scrapes_the_api_and_the_workers_metrics_ports() -> None:
    config = yaml.safe_load((DOCKER / "prometheus" / "prometheus.yml").read_text())
    targets = {job["job_name"]: job["dns_sd_configs"][0] for job in config["scrape_configs"]}

    assert targets["taskhub-api"]["port"] == 8000
    assert targets["taskhub-workers"]["port"] == Settings().worker_metrics_port


def test_prometheus_scrapes_the_api_with_the_metrics_token_the_api_requires() -> None:
    config = yaml.safe_load((DOCKER / "prometheus" / "prometheus.yml").read_text())
    api_job = next(j for j in config["scrape_configs"] if j["job_name"] == "taskhub-api")
    secret = api_job["authorization"]["credentials_file"].rsplit("/", 1)[-1]

    assert "TASKHUB_METRICS_TOKEN" in SERVICES["api"]["environment"]
    assert secret in SERVICES["prometheus"]["secrets"]
    assert secret in COMPOSE["secrets"]
