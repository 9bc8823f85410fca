"""How `taskhub backup` names the database to pg_dump and pg_restore: libpq's URL, TLS
parameters kept, the password out of the command line, a search_path as --schema."""

from __future__ import annotations

from adapters.sqlalchemy.backup import _libpq, _schema_of
from adapters.sqlalchemy.engine import parse_database_url

URL = (
    "postgresql+psycopg://taskhub:s3cret@db.example.com:5432/taskhub"
    "?sslmode=verify-full&sslrootcert=/etc/ssl/pg-ca.pem&options=-csearch_path%3Dth_1"
)


def test_pg_tools_get_a_libpq_url_with_its_tls_parameters_and_no_password() -> None:
    libpq = _libpq(parse_database_url(URL))

    assert libpq.startswith("postgresql://taskhub@db.example.com:5432/taskhub?")
    assert "sslmode=verify-full" in libpq
    assert "sslrootcert=%2Fetc%2Fssl%2Fpg-ca.pem" in libpq  # libpq decodes it
    assert "s3cret" not in libpq


def test_a_search_path_of_the_urls_own_is_the_schema_dumped_and_restored() -> None:
    assert _schema_of(parse_database_url(URL)) == ["--schema=th_1"]
    assert _schema_of(parse_database_url("postgresql://u@h/db")) == []
