"""The suite's free_port(): a port no other process is handed between choosing and using it."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from tests.support.ports import ephemeral_range
from tests.support.redis_server import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_a_free_port_is_outside_the_range_the_kernel_hands_out_itself() -> None:
    low, high = ephemeral_range()

    ports = [free_port() for _ in range(20)]

    assert not [port for port in ports if low <= port <= high]


def test_a_port_is_never_handed_out_twice() -> None:
    ports = [free_port() for _ in range(200)]

    assert len(set(ports)) == len(ports)


def test_a_port_taken_here_is_refused_to_another_process_until_this_one_ends() -> None:
    port = free_port()
    script = f"from tests.support.ports import reserve; print(reserve({port}))"

    other = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )

    assert other.stdout.strip() == "False"


def test_a_handed_out_port_can_be_bound() -> None:
    port = free_port()

    with socket.socket() as server:
        server.bind(("127.0.0.1", port))
        server.listen()
