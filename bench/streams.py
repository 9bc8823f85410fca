"""Event streams: `streams` concurrent SSE streams (GET /api/v1/events) held open on one API
process, the memory they add to it, and the time from a progress write (the use case a
worker runs, here in the benchmark's process: database commit, then the Redis publish) to
its event's receipt by each stream following that task's owner.

`users` accounts hold the streams, `streams / users` each; `writers` of them have a running
task whose progress moves `rate` times a second, so each write reaches `streams / users`
streams while the others stay open and quiet. Clients and writes share one clock (this
process's monotonic one)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field

import httpx

from bench.memory import rss_mb
from bench.taskhub_client import TaskhubClient
from domain.task import RunToken, TaskId
from domain.user import User

CONNECT_TIMEOUT = 60.0


@dataclass
class StreamFigures:
    streams: int
    added_kb_per_stream: float
    latencies_ms: list[float] = field(default_factory=list)
    missed: int = 0  # expected receipts that never came


@dataclass
class _Writes:
    at: dict[tuple[str, int], float] = field(default_factory=dict)  # (task, percent) -> time
    fan_out: dict[str, int] = field(default_factory=dict)  # task -> streams following it


def measure(
    client: TaskhubClient,
    api_url: str,
    api_pid: int,
    *,
    streams: int,
    users: int = 100,
    writers: int = 10,
    rate: float = 5.0,
    seconds: float = 10.0,
) -> StreamFigures:
    accounts = [client.new_user("streams") for _ in range(users)]
    runs: list[tuple[TaskId, RunToken]] = []
    submit = client.container.core.submit_task()
    start = client.container.core.start_task()
    for user, _ in accounts[:writers]:
        task = submit.execute(user, name="streamed", task_type="countdown", kwargs={"seconds": 60})
        runs.append((task.id, start.execute(task.id).run_token))
    return asyncio.run(_measure(client, api_url, api_pid, accounts, runs, streams, rate, seconds))


async def _measure(
    client: TaskhubClient,
    api_url: str,
    api_pid: int,
    accounts: list[tuple[User, str]],
    runs: list[tuple[TaskId, RunToken]],
    streams: int,
    rate: float,
    seconds: float,
) -> StreamFigures:
    writes = _Writes()
    received: list[float] = []
    opened = asyncio.Semaphore(0)
    stop = asyncio.Event()
    limits = httpx.Limits(max_connections=streams + 10, max_keepalive_connections=0)
    timeout = httpx.Timeout(CONNECT_TIMEOUT, read=None)
    async with httpx.AsyncClient(base_url=api_url, limits=limits, timeout=timeout) as http:
        # A few streams first, so the API's one subscription and its code are warm.
        warm = [asyncio.create_task(_follow(http, accounts[0][1], opened, stop, writes, received))]
        await asyncio.wait_for(opened.acquire(), CONNECT_TIMEOUT)
        before = rss_mb(api_pid)
        per_user = max(1, streams // len(accounts))
        followers: list[asyncio.Task[None]] = []
        for n in range(streams):
            token = accounts[(n // per_user) % len(accounts)][1]
            followers.append(
                asyncio.create_task(_follow(http, token, opened, stop, writes, received))
            )
        for _ in range(streams):
            await asyncio.wait_for(opened.acquire(), CONNECT_TIMEOUT)
        await asyncio.sleep(1.0)
        after = rss_mb(api_pid)
        owners_streams = {
            accounts[i][1]: sum(1 for n in range(streams) if (n // per_user) % len(accounts) == i)
            for i in range(len(accounts))
        }
        writer = threading.Thread(
            target=_write, args=(client, runs, writes, rate, seconds), daemon=True
        )
        writer.start()
        while writer.is_alive():
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # the last events' way to the clients
        stop.set()
        for follower in (*warm, *followers):
            follower.cancel()
        await asyncio.gather(*warm, *followers, return_exceptions=True)
    expected = sum(owners_streams[accounts[i][1]] for i in range(len(runs))) * (
        len(writes.at) // max(1, len(runs))
    )
    expected += len(writes.at) // max(1, len(runs))  # the warm stream follows the first writer
    return StreamFigures(
        streams=streams,
        added_kb_per_stream=(after - before) * 1024 / streams,
        latencies_ms=received,
        missed=max(0, expected - len(received)),
    )


async def _follow(
    http: httpx.AsyncClient,
    token: str,
    opened: asyncio.Semaphore,
    stop: asyncio.Event,
    writes: _Writes,
    received: list[float],
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with http.stream("GET", "/api/v1/events", headers=headers) as response:
        response.raise_for_status()
        kind = ""
        announced = False
        async for line in response.aiter_lines():
            if not announced:  # the stream's first line: it is open
                announced = True
                opened.release()
            if line.startswith("event:"):
                kind = line[6:].strip()
            elif line.startswith("data:") and kind == "progress":
                data = json.loads(line[5:])
                written = writes.at.get((data["id"], data["progress"]))
                if written is not None:
                    received.append((time.monotonic() - written) * 1000)
            if stop.is_set():
                return


def _write(
    client: TaskhubClient,
    runs: list[tuple[TaskId, RunToken]],
    writes: _Writes,
    rate: float,
    seconds: float,
) -> None:
    report = client.container.core.report_progress()
    interval = 1 / rate
    steps = min(99, int(seconds * rate))
    began = time.monotonic()
    for step in range(1, steps + 1):
        for task_id, token in runs:
            writes.at[(str(task_id), step)] = time.monotonic()
            report.execute(task_id, token, step)
        pause = began + step * interval - time.monotonic()
        if pause > 0:
            time.sleep(pause)
