"""The bare reference app: FastAPI, one endpoint that inserts a row with SQLAlchemy and calls
apply_async; served by uvicorn exactly as taskhub's API is (one process, same options)."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import JSON, Column, DateTime, MetaData, String, Table, Uuid, create_engine, event
from sqlalchemy.orm import sessionmaker

from bench.reference.worker import noop, stamp

metadata = MetaData()
tasks = Table(
    "bench_reference_tasks",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200)),
    Column("task_type", String(100)),
    Column("kwargs", JSON),
    Column("created_at", DateTime(timezone=True)),
)
# The same SQLite settings as taskhub's engine, so the database costs both the same.
SQLITE_PRAGMAS = (
    "PRAGMA busy_timeout = 5000",
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
)


class Submit(BaseModel):
    name: str
    task_type: str = "noop"
    kwargs: dict[str, Any] = {}


def create_app() -> FastAPI:
    url = os.environ["BENCH_REFERENCE_DATABASE_URL"]
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    metadata.create_all(engine)
    session_factory = sessionmaker(engine)
    app = FastAPI()

    @app.post("/tasks", status_code=201)
    def submit(body: Submit) -> dict[str, str]:
        task_id = uuid4()
        row = {"id": task_id, "name": body.name, "task_type": body.task_type}
        row |= {"kwargs": body.kwargs, "created_at": datetime.now(UTC)}
        with session_factory.begin() as session:
            session.execute(tasks.insert().values(row))
        task = stamp if body.task_type == "stamp" else noop
        task.apply_async(args=[str(task_id)], task_id=str(task_id))
        return {"id": str(task_id)}

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    uvicorn.run(
        "bench.reference.web:create_app",
        factory=True,
        host="127.0.0.1",
        port=port,
        workers=1,
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    main()
