"""Flow control's cost: tasks under concurrency keys drained by one worker, each release
written in the transaction that ends the previous run of its key and published from there.

Timed as `drain.py` times no-op tasks: from the MOVE of the staged messages (the first task
of each key; the others are held in the database) until every queue is empty and nothing is
unacknowledged. A released task is published before its predecessor's message is
acknowledged, so the queue never looks idle between the two."""

from __future__ import annotations

from bench import drain
from bench.environment import Broker
from bench.stack import TASKHUB_DB, TASKHUB_STAGING_DB
from bench.taskhub_client import TaskhubClient


def keyed_throughput(client: TaskhubClient, broker: Broker, n: int, keys: int) -> float:
    """Tasks per second; one at a time per key, `keys` keys (0: no concurrency key)."""
    user, _ = client.new_user("flow")
    client.stage_keyed_countdowns(user, n, keys)
    elapsed = drain.release_and_time(broker, TASKHUB_STAGING_DB, TASKHUB_DB, drain.TASKHUB_QUEUES)
    completed = client.count(user, "completed")
    if completed != n:
        raise RuntimeError(f"taskhub completed {completed} of {n} keyed tasks")
    return n / elapsed
