"""The database clock: the server's reading carried forward on the monotonic clock, read again
now and then, and never worse than the host's clock while the server cannot be read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from adapters.in_memory.clock import FixedClock
from adapters.sqlalchemy.clock import DatabaseClock
from application.errors import DependencyUnavailableError

SERVER = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
HOST = FixedClock(SERVER - timedelta(seconds=30))  # a host 30 s behind the database


class Monotonic:
    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


class Server:
    """The server's clock, advancing with the monotonic one; `down` refuses reads."""

    def __init__(self, monotonic: Monotonic) -> None:
        self.monotonic = monotonic
        self.reads = 0
        self.down = False

    def __call__(self) -> tuple[datetime, float]:
        if self.down:
            raise DependencyUnavailableError("the database is unavailable", dependency="database")
        self.reads += 1
        return SERVER + timedelta(seconds=self.monotonic.value - 1000.0), self.monotonic.value


def clock_on(server: Server, monotonic: Monotonic) -> DatabaseClock:
    return DatabaseClock(
        server, fallback=HOST, resync_every=300, retry_every=5, monotonic=monotonic
    )


def test_the_time_is_the_servers_not_the_hosts() -> None:
    monotonic = Monotonic()
    clock = clock_on(Server(monotonic), monotonic)

    assert clock.now() == SERVER


def test_between_readings_the_monotonic_clock_carries_the_servers_time_forward() -> None:
    monotonic = Monotonic()
    server = Server(monotonic)
    clock = clock_on(server, monotonic)
    clock.now()

    monotonic.value += 42.5

    assert clock.now() == SERVER + timedelta(seconds=42.5)
    assert server.reads == 1


def test_the_server_is_read_again_after_the_resync_interval() -> None:
    monotonic = Monotonic()
    server = Server(monotonic)
    clock = clock_on(server, monotonic)
    clock.now()

    monotonic.value += 301

    assert clock.now() == SERVER + timedelta(seconds=301)
    assert server.reads == 2


def test_a_server_in_another_time_zone_gives_utc() -> None:
    monotonic = Monotonic()
    clock = clock_on(
        lambda: (SERVER.astimezone(timezone(timedelta(hours=2))), monotonic.value),  # type: ignore[arg-type]
        monotonic,
    )

    now = clock.now()

    assert (now, now.tzinfo) == (SERVER, UTC)


def test_before_a_first_reading_the_host_clock_answers_and_a_reading_is_retried() -> None:
    monotonic = Monotonic()
    server = Server(monotonic)
    server.down = True
    clock = clock_on(server, monotonic)

    first = clock.now()
    server.down = False
    monotonic.value += 1
    still_waiting = clock.now()
    monotonic.value += 5
    read = clock.now()

    assert first == HOST.now()
    assert still_waiting == HOST.now()
    assert read == SERVER + timedelta(seconds=6)


def test_a_failed_resync_keeps_the_last_reading() -> None:
    monotonic = Monotonic()
    server = Server(monotonic)
    clock = clock_on(server, monotonic)
    clock.now()
    server.down = True

    monotonic.value += 400

    assert clock.now() == SERVER + timedelta(seconds=400)


def test_the_time_a_connection_takes_to_open_does_not_skew_the_reading() -> None:
    monotonic = Monotonic()

    def opens_slowly_then_reads() -> tuple[datetime, float]:
        monotonic.value += 10  # a new connection under load, before the query itself
        return SERVER, monotonic.value

    clock = clock_on(opens_slowly_then_reads, monotonic)  # type: ignore[arg-type]

    assert clock.now() == SERVER
