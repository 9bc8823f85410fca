"""The container deployment, checked without a Docker engine: the file is valid Compose
(the Compose specification's JSON schema, and `docker compose config` where a Compose
binary is installed), every command is a real `taskhub` command, every TASKHUB_* variable a
real setting, every long-running service health-checked, the stack reachable through its
proxy, the files area shared, and the image built the way the docs promise."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
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
# Images without a shell or an HTTP client to probe themselves with (distroless).
NO_PROBE = {"otel-collector"}


# What the file asks of its environment (compose.yaml's header); any values do for `config`.
REQUIRED_ENV = {
    "TASKHUB_SECRET_KEY": "s" * 48,
    "TASKHUB_ENCRYPTION_KEYS": "k" * 43 + "=",
    "METRICS_TOKEN": "m" * 43,
    "POSTGRES_PASSWORD": "postgres-password",
    "REDIS_PASSWORD": "redis-password",
    "FLOWER_BASIC_AUTH": "ops:flower-password",
    "GRAFANA_ADMIN_PASSWORD": "grafana-password",
}


def compose_schema_errors(path: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema against the Compose specification's schema it ships (vendored from
    the specification's repository): what `docker compose` validates a file with."""
    return subprocess.run(  # noqa: S603 - a dev dependency, on our own file
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_compose_file_is_valid_for_the_compose_specification() -> None:
    result = compose_schema_errors(DOCKER / "compose.yaml")

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_would_catch_a_misspelt_key(tmp_path: Path) -> None:
    # The check above proves something only if the schema is strict about services' keys.
    broken = json.loads(json.dumps(COMPOSE))
    broken["services"]["api"]["publish"] = ["8000:8000"]
    (tmp_path / "compose.yaml").write_text(yaml.safe_dump(broken))

    result = compose_schema_errors(tmp_path / "compose.yaml")

    assert result.returncode != 0
    assert "publish" in result.stdout + result.stderr


def compose_command() -> list[str] | None:
    """`docker compose` or `docker-compose`, whichever is installed (no engine is needed)."""
    docker = shutil.which("docker")
    if docker:
        version = subprocess.run(  # noqa: S603
            [docker, "compose", "version"], capture_output=True, check=False, timeout=60
        )
        if version.returncode == 0:
            return [docker, "compose"]
    binary = shutil.which("docker-compose")
    return [binary] if binary else None


def test_the_config_check_sets_every_variable_the_file_requires() -> None:
    # `${VAR:?...}` stops `docker compose config` when VAR is unset: one left out of
    # REQUIRED_ENV fails the check below wherever Compose is installed.
    required = set(re.findall(r"\$\{(\w+):\?", (DOCKER / "compose.yaml").read_text()))

    assert set(REQUIRED_ENV) == required


def test_the_readmes_env_file_sets_every_variable_the_file_requires() -> None:
    readme = (DOCKER.parent / "README.md").read_text().split("## Docker", 1)[1]
    env_file = re.search(r"cat > \.env <<EOF\n(.*?)\nEOF", readme, flags=re.DOTALL)
    required = set(re.findall(r"\$\{(\w+):\?", (DOCKER / "compose.yaml").read_text()))

    assert env_file is not None
    assert {line.split("=", 1)[0] for line in env_file[1].splitlines()} == required


def test_docker_compose_config_accepts_the_file_when_compose_is_installed() -> None:
    command = compose_command()
    if command is None:
        pytest.skip("no docker compose here; the schema test above checks the file")

    result = subprocess.run(  # noqa: S603
        [*command, "-f", str(DOCKER / "compose.yaml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **REQUIRED_ENV},
    )

    assert result.returncode == 0, result.stderr


def test_every_volume_and_dependency_a_service_names_exists() -> None:
    # What `docker compose config` checks beyond the schema.
    declared = set(COMPOSE["volumes"])
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if not source.startswith((".", "/")):
                assert source in declared, f"{name}: volume {source} is not declared"
        assert set(service.get("depends_on", {})) <= set(SERVICES), name


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
        "proxy",
        "otel-collector",
        "jaeger",
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


@pytest.mark.parametrize("name", sorted(set(SERVICES) - ONE_SHOT - NO_PROBE))
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
    # Caddy sets X-Forwarded-For to its peer's address and ignores the client's own, unless
    # that peer is one of its `trusted_proxies` (there are none), or a `header_up` passes it on.
    config = (DOCKER / "caddy" / "Caddyfile").read_text()
    directives = [line.split("#")[0].strip() for line in config.splitlines()]

    assert not [d for d in directives if d.startswith("trusted_proxies")]
    assert not [d for d in directives if "header_up" in d and "X-Forwarded-For" in d]
    assert "ignores the ones a client sends" in config


def published(service: dict[str, Any]) -> dict[int, str]:
    """Container port -> the host port as written (`${API_PORT:-8000}`)."""
    ports = {}
    for mapping in service.get("ports", []):
        host, container = str(mapping).rsplit(":", 1)
        ports[int(container)] = host
    return ports


CADDYFILE = (DOCKER / "caddy" / "Caddyfile").read_text()


def caddy_sites() -> dict[str, str]:
    """Each site address of the Caddyfile (as written, placeholders and all) -> its block."""
    sites = re.split(r"^(https?://\S+) \{$", CADDYFILE, flags=re.MULTILINE)[1:]
    return dict(zip(sites[::2], sites[1::2], strict=True))


def caddy_snippets() -> dict[str, str]:
    snippets = re.split(r"^\(([\w-]+)\) \{$", CADDYFILE, flags=re.MULTILINE)[1:]
    return {
        name: block.split("\n}")[0]
        for name, block in zip(snippets[::2], snippets[1::2], strict=True)
    }


DOMAIN = "{$SITE_DOMAIN:localhost}"


def test_the_proxy_serves_the_api_and_flower_over_https_only_on_their_ports() -> None:
    proxy = SERVICES["proxy"]
    ports = published(proxy)
    sites = caddy_sites()

    api = sites[f"https://{DOMAIN}"]
    flower = sites[f"https://{DOMAIN}:5555"]
    assert set(sites) == {f"http://{DOMAIN}", f"https://{DOMAIN}", f"https://{DOMAIN}:5555"}
    assert "name api" in api
    assert re.search(r"port 8000\b", api)  # where `taskhub api` listens
    assert "reverse_proxy flower:5555" in flower
    assert ports == {
        80: "${HTTP_PORT:-80}",
        443: "${HTTPS_PORT:-443}",
        5555: "${FLOWER_PORT:-5555}",
    }
    assert SERVICES["flower"]["command"][-1] == "5555"
    assert any(v.endswith(":/etc/caddy/Caddyfile:ro") for v in proxy["volumes"])
    assert proxy["depends_on"]["api"]["condition"] == "service_healthy"


def test_plain_http_only_redirects_to_https() -> None:
    redirect = caddy_sites()[f"http://{DOMAIN}"]

    directives = [line.strip() for line in redirect.splitlines() if line.strip() not in ("", "}")]
    assert directives == ["redir https://{host}{uri} permanent"]


def test_every_https_site_sends_hsts_and_takes_its_certificate_from_the_chosen_issuer() -> None:
    snippets = caddy_snippets()

    assert "tls internal" in snippets["tls-internal"]
    assert "issuer acme" in snippets["tls-acme"]
    assert re.search(r'Strict-Transport-Security "max-age=(\d+)', snippets["hsts"])
    assert int(re.findall(r"max-age=(\d+)", snippets["hsts"])[0]) >= 180 * 24 * 3600
    for address, block in caddy_sites().items():
        if address.startswith("https://"):
            assert "import tls-{$TLS_ISSUER:internal}" in block, address
            assert "import hsts" in block, address


def test_development_uses_the_local_ca_and_production_can_choose_acme() -> None:
    environment = SERVICES["proxy"]["environment"]

    assert environment["TLS_ISSUER"] == "${TLS_ISSUER:-internal}"
    assert environment["SITE_DOMAIN"] == "${SITE_DOMAIN:-localhost}"
    # Certificates and the local CA outlive the container (no new CA at each restart).
    assert "caddy-data:/data" in SERVICES["proxy"]["volumes"]
    assert "caddy-data" in COMPOSE["volumes"]


def test_taskhub_processes_need_the_encryption_keys() -> None:
    for name, service in TASKHUB_SERVICES.items():
        value = service["environment"]["TASKHUB_ENCRYPTION_KEYS"]
        assert value.startswith("${TASKHUB_ENCRYPTION_KEYS:?"), name


def test_only_the_proxy_and_grafana_publish_host_ports_and_jaeger_on_loopback() -> None:
    publishing = {name for name, service in SERVICES.items() if service.get("ports")}

    assert publishing == {"proxy", "grafana", "jaeger"}
    assert all(port.startswith("127.0.0.1:") for port in SERVICES["jaeger"]["ports"])


def image_environment() -> dict[str, str]:
    dockerfile = (DOCKER / "Dockerfile").read_text()
    final = re.split(r"^FROM ", dockerfile, flags=re.MULTILINE)[-1]
    pairs = re.findall(r"\b(TASKHUB_[A-Z_]+)=(\S+)", final)
    return dict(pairs)


@pytest.mark.parametrize(
    ("volume", "setting"),
    [("files", "TASKHUB_FILES_ROOT"), ("deployments", "TASKHUB_DEPLOYMENT_DIR")],
)
def test_the_api_and_every_worker_share_one_volume_at_the_configured_path(
    volume: str, setting: str
) -> None:
    path = image_environment()[setting]
    mount = f"{volume}:{path}"

    assert volume in COMPOSE["volumes"]
    for name in ("api", "celery-worker", "celery-worker-high"):
        assert mount in SERVICES[name]["volumes"], name
        assert setting not in SERVICES[name]["environment"], f"{name} moves {setting}"


def test_the_image_makes_the_shared_directories_its_user_owns() -> None:
    dockerfile = (DOCKER / "Dockerfile").read_text()
    final = re.split(r"^FROM ", dockerfile, flags=re.MULTILINE)[-1]
    after_user = final.split("USER taskhub", 1)[1]

    assert 'mkdir -p "$TASKHUB_FILES_ROOT" "$TASKHUB_DEPLOYMENT_DIR"' in after_user


def test_workers_split_the_high_queue_from_default_and_low_and_someone_sends_webhooks() -> None:
    assert "high_priority" in SERVICES["celery-worker-high"]["command"]
    assert "default,low_priority,webhooks" in SERVICES["celery-worker"]["command"]


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


def test_the_image_installs_the_extra_requirements_the_build_names() -> None:
    dockerfile = (DOCKER / "Dockerfile").read_text()
    build = re.split(r"^FROM ", dockerfile, flags=re.MULTILINE)[1]
    default = re.search(r"^ARG EXTRA_REQUIREMENTS=(\S+)$", build, flags=re.MULTILINE)

    assert default is not None
    assert "COPY ${EXTRA_REQUIREMENTS} requirements-extra.txt" in build
    assert re.search(
        r"pip wheel .* --wheel-dir /wheels \. --requirement requirements-extra\.txt", build
    )
    assert "pip install --no-cache-dir /wheels/*" in dockerfile  # they reach the final image
    build_args = COMPOSE["x-taskhub"]["build"]["args"]
    assert build_args["EXTRA_REQUIREMENTS"] == f"${{EXTRA_REQUIREMENTS:-{default.group(1)}}}"


def test_the_default_extra_requirements_install_nothing_and_reach_the_build() -> None:
    path = DOCKER / "requirements-extra.txt"
    ignored = (DOCKER.parent / ".dockerignore").read_text().split()

    lines = [line.strip() for line in path.read_text().splitlines()]

    assert all(not line or line.startswith("#") for line in lines)
    assert not {"docker", "docker/", "docker/requirements-extra.txt"} & set(ignored)


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
