"""`taskhub api --ssl-certfile --ssl-keyfile`: the API serves HTTPS itself, with a certificate
made here (cryptography, self-signed for 127.0.0.1), and a client that trusts that
certificate and checks the name talks to it; plain HTTP on the same port gets nothing."""

from __future__ import annotations

import ipaddress
import ssl
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.e2e.api_client import wait_until
from tests.e2e.process import ManagedProcess
from tests.e2e.stack import ROOT
from tests.support.databases import migrated_database
from tests.support.redis_server import HOST, free_port


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (subjectAltName IP), signed by its own key: (cert, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "taskhub test")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "api.pem", directory / "api-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


@pytest.fixture
def https_api(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    cert, key = self_signed_certificate(tmp_path)
    port = free_port()
    with migrated_database("sqlite", tmp_path) as database_url:
        env = {
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(ROOT),
            "TASKHUB_ENVIRONMENT": "test",
            "TASKHUB_DATABASE_URL": database_url,
            "TASKHUB_BROKER_URL": "memory://",
            "TASKHUB_DATA_DIR": str(tmp_path / "data"),
        }
        process = ManagedProcess(
            "api",
            [
                sys.executable,
                "-m",
                "entrypoints.cli",
                "api",
                "--host",
                HOST,
                "--port",
                str(port),
                "--ssl-certfile",
                str(cert),
                "--ssl-keyfile",
                str(key),
            ],
            env=env,
            cwd=ROOT,
            log_path=tmp_path / "api.log",
        )
        try:
            process.wait_for_log(r"Uvicorn running on https://", timeout=60)
            yield f"{HOST}:{port}", cert
        finally:
            process.stop()


def test_the_api_serves_https_with_the_certificate_it_was_given(
    https_api: tuple[str, Path],
) -> None:
    address, cert = https_api
    trusting = ssl.create_default_context(cafile=str(cert))  # checks the name, 127.0.0.1

    response = wait_until(
        lambda: _get(f"https://{address}/api/v1/health/live", trusting),
        timeout=30,
        what="the API over HTTPS",
    )

    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    with pytest.raises(httpx.HTTPError):  # plain HTTP on the TLS port: no answer
        httpx.get(f"http://{address}/api/v1/health/live", timeout=5, trust_env=False)
    with pytest.raises(httpx.ConnectError):  # a client that does not trust it: refused
        httpx.get(f"https://{address}/api/v1/health/live", timeout=5, trust_env=False)


def _get(url: str, context: ssl.SSLContext) -> httpx.Response | None:
    try:
        return httpx.get(url, verify=context, timeout=5, trust_env=False)
    except httpx.ConnectError:
        return None


def test_a_certificate_without_its_key_is_refused() -> None:
    from typer.testing import CliRunner

    from entrypoints.cli import app

    result = CliRunner().invoke(app, ["api", "--ssl-certfile", "api.pem"])

    assert result.exit_code == 2
    assert "--ssl-certfile and --ssl-keyfile go together" in result.output
