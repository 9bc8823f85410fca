"""`python -m bench [--quick]`: every figure on SQLite, and on PostgreSQL when a server is
named, taskhub and its reference alternating, one table printed and saved as JSON."""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from bench import delayed, drain, fairness, flow, listing, streams, submit, tracing, workflows
from bench.environment import Broker, broker, database, machine, postgres_server_url
from bench.loadgen import Load, generator_name
from bench.memory import process_tree_mb
from bench.processes import Processes, stop_on_sigterm
from bench.report import Figure, Report, percentile
from bench.stack import Systems
from bench.taskhub_client import TaskhubClient

console = Console(width=160)


@dataclass(frozen=True)
class Plan:
    runs: int
    tasks: int  # drained per throughput run
    seconds: float  # per HTTP load run
    latency_samples: int  # per run
    list_rows: int
    list_samples: int  # per run
    delayed_due: int = 1000  # tasks due at the same second ...
    delayed_stored: int = 10_000  # ... among these waiting further ahead
    workflow_tasks: int = 1000  # in the fan-out/fan-in workflow
    chain_steps: int = 200
    streams: int = 1000  # concurrent SSE streams on one API process


FULL = Plan(runs=3, tasks=5000, seconds=5, latency_samples=500, list_rows=1_000_000,
            list_samples=200)  # fmt: skip
QUICK = Plan(runs=3, tasks=1000, seconds=2, latency_samples=100, list_rows=100_000,
             list_samples=100)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer tasks, shorter runs")
    parser.add_argument("--tasks", type=int, help="tasks per throughput run (default 5000)")
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    parser.add_argument(
        "--only",
        choices=["delayed", "drain", "fairness", "flow", "streams", "tracing", "workflows"],
        help="measure this part alone",
    )
    parser.add_argument("--streams", type=int, help="concurrent event streams (default 1000)")
    parser.add_argument("--delayed-due", type=int, help="tasks due at once (default 1000)")
    parser.add_argument("--delayed-stored", type=int, help="delayed tasks stored (10000)")
    parser.add_argument(
        "--workflow-tasks", type=int, help="tasks in the fan-out/fan-in (default 1000)"
    )
    parser.add_argument(
        "--workflows-only", action="store_true", help="only the workflow throughput figures"
    )
    arguments = parser.parse_args()
    plan = QUICK if arguments.quick else FULL
    if arguments.tasks:
        plan = Plan(**{**plan.__dict__, "tasks": arguments.tasks})
    for name in ("delayed_due", "delayed_stored", "streams"):
        if getattr(arguments, name):
            plan = Plan(**{**plan.__dict__, name: getattr(arguments, name)})
    if arguments.workflow_tasks:
        plan = Plan(**{**plan.__dict__, "workflow_tasks": arguments.workflow_tasks,
                       "chain_steps": min(plan.chain_steps, arguments.workflow_tasks)})  # fmt: skip
    only = "workflows" if arguments.workflows_only else arguments.only
    backends = ["sqlite"]
    if postgres_server_url() and not arguments.sqlite_only:
        backends.append("postgresql")
    report = Report(machine(), {**plan.__dict__, "load_generator": generator_name()})
    if "postgresql" not in backends:
        report.notes.append("PostgreSQL skipped: set TASKHUB_BENCH_DATABASE_URL to include it")
    logs = Path(tempfile.mkdtemp(prefix="taskhub-bench-"))
    started = time.monotonic()
    try:
        with stop_on_sigterm(), Processes(logs) as processes, broker(processes) as found:
            for backend in backends:
                console.print(f"[bold]{backend}[/]: measuring ({logs})")
                run_backend(report, plan, backend, found, logs / backend, only)
    except BaseException:
        console.print(f"[red]benchmark stopped; process logs kept in {logs}[/]")
        raise
    shutil.rmtree(logs, ignore_errors=True)
    report.notes.append(f"load generator: {generator_name()}")
    report.notes.append(f"whole run: {time.monotonic() - started:.0f} s")
    report.print(console)
    console.print(f"saved to {report.save()}")


def run_backend(
    report: Report, plan: Plan, backend: str, found: Broker, logs: Path, only: str | None = None
) -> None:
    logs.mkdir(parents=True)
    with database(backend, logs) as url, Processes(logs) as processes:
        client = TaskhubClient(url, found)
        try:
            systems = Systems(url, found, processes)
            if only == "delayed":
                measure_delayed(report, plan, backend, systems, client)
            elif only == "flow":
                measure_flow(report, plan, backend, systems, client)
            elif only == "tracing":
                measure_tracing(report, plan, backend, systems, client)
            elif only == "streams":
                measure_streams(report, plan, backend, systems, client)
            elif only == "fairness":
                measure_fairness(report, plan, backend, systems, client)
            elif only == "drain":
                systems.start_taskhub_worker()
                systems.start_reference_worker()
                measure_drain(report, plan, backend, systems, client)
            elif only == "workflows":
                systems.start_taskhub_worker()
                measure_workflows(report, plan, backend, systems, client)
            else:
                measure(report, plan, backend, systems, client)
        finally:
            processes.stop_all()  # before the database goes
            client.close()


def measure(report: Report, plan: Plan, db: str, systems: Systems, client: TaskhubClient) -> None:
    api, api_url = systems.start_taskhub_api()
    _, reference_url = systems.start_reference_api()
    api_idle = max(process_tree_mb(api.pid).values())
    step("HTTP submit")
    submit.taskhub_submit(client, api_url, 1)  # warm-up
    submit.reference_submit(reference_url, 1)
    ours, theirs = [], []
    for _ in range(plan.runs):
        ours.append(submit.taskhub_submit(client, api_url, plan.seconds))
        theirs.append(submit.reference_submit(reference_url, plan.seconds))
    for load in ours + theirs:
        if load.errors:
            report.notes.append(f"{db}: {load.errors} failed requests in a submit run")
    single = Figure([load.requests_per_second for load in ours], "req/s")
    report.add(db, "POST /tasks, 32 connections", single,
               Figure([load.requests_per_second for load in theirs], "req/s"),
               target=">= 0.8x bare app", check=lambda r: r >= 0.8)  # fmt: skip
    picks: tuple[tuple[str, Callable[[Load], float]], ...] = (
        ("p50", lambda x: x.p50_ms),
        ("p99", lambda x: x.p99_ms),
    )
    for name, pick in picks:
        report.add(db, f"POST /tasks latency {name}", Figure([pick(x) for x in ours], "ms"),
                   Figure([pick(x) for x in theirs], "ms"))  # fmt: skip
    step("batch submit")
    batch = Figure([submit.taskhub_batch_submit(client, api_url, plan.seconds)
                    for _ in range(plan.runs)], "tasks/s")  # fmt: skip
    report.add(db, "POST /tasks/batch (500 a request)", batch, target=">= 10x single submit",
               ratio=batch.median / single.median, check=lambda r: r >= 10)  # fmt: skip
    api_after = max(process_tree_mb(api.pid).values())
    for when, size in (("idle", api_idle), ("after the submit runs", api_after)):
        report.add(db, f"API RSS, {when}", Figure([size], "MB"), target="< 150 MB",
                   check=lambda mb: mb < 150)  # fmt: skip
    drain.purge(systems.broker)
    measure_workers(report, plan, db, systems, client)
    measure_flow(report, plan, db, systems, client)
    measure_fairness(report, plan, db, systems, client)
    measure_delayed(report, plan, db, systems, client)
    measure_listing(report, plan, db, client, api_url)
    measure_streams(report, plan, db, systems, client)
    systems.processes.stop_named("taskhub-worker")  # the tracing runs start their own
    measure_tracing(report, plan, db, systems, client)


def measure_streams(
    report: Report, plan: Plan, db: str, systems: Systems, client: TaskhubClient
) -> None:
    """`plan.streams` SSE streams on a fresh API process; progress of 10 tasks, 5 a second."""
    api, api_url = systems.start_taskhub_api()
    step(f"{plan.streams:,} event streams")
    runs = [streams.measure(client, api_url, api.pid, streams=plan.streams)
            for _ in range(plan.runs)]  # fmt: skip
    systems.processes.stop(api)
    label = f"{plan.streams:,} SSE streams on one API"
    report.add(db, f"{label}: memory added per stream",
               Figure([r.added_kb_per_stream for r in runs], "KB"), target="< 20 KB",
               check=lambda kb: kb < 20)  # fmt: skip
    p50 = [percentile(r.latencies_ms, 0.5) for r in runs]
    p99 = [percentile(r.latencies_ms, 0.99) for r in runs]
    report.add(db, f"{label}: progress write -> receipt p50", Figure(p50, "ms"))
    report.add(db, f"{label}: progress write -> receipt p99", Figure(p99, "ms"),
               target="< 100 ms", check=_median_below(p99, 100))  # fmt: skip
    missed = sum(r.missed for r in runs)
    if missed:
        report.notes.append(f"{db}: {missed} stream receipts missing over {plan.runs} runs")


FLOW_KEYS = 50


def measure_flow(
    report: Report, plan: Plan, db: str, systems: Systems, client: TaskhubClient
) -> None:
    """countdown(0) tasks without a concurrency key beside as many under FLOW_KEYS keys
    (limit 1), on one worker, alternating."""
    drain.purge(systems.broker)
    worker = systems.start_taskhub_worker()
    step("flow control: tasks under concurrency keys")
    flow.keyed_throughput(client, systems.broker, 200, 0)  # warm-up
    plain, keyed = [], []
    for _ in range(plan.runs):
        plain.append(flow.keyed_throughput(client, systems.broker, plan.tasks, 0))
        keyed.append(flow.keyed_throughput(client, systems.broker, plan.tasks, FLOW_KEYS))
    report.add(db, f"end-to-end, {plan.tasks} tasks under {FLOW_KEYS} concurrency keys "
               "(limit 1) vs without keys", Figure(keyed, "tasks/s"), Figure(plain, "tasks/s"),
               target=">= 0.5x without keys", check=lambda r: r >= 0.5)  # fmt: skip
    systems.processes.stop(worker)


def measure_tracing(
    report: Report, plan: Plan, db: str, systems: Systems, client: TaskhubClient
) -> None:
    """The no-op drain with the worker's tracing off, then on (OTLP to a local sink),
    alternating, a fresh worker for each run."""
    drain.purge(systems.broker)
    step("tracing: the no-op drain with tracing off and on")
    off: list[float] = []
    on: list[float] = []
    with tracing.span_sink() as sink:
        for _ in range(plan.runs):
            for runs, env in ((off, {}), (on, tracing.tracing_env(sink))):
                worker = systems.start_taskhub_worker(**env)
                drain.taskhub_throughput(client, systems.broker, 200)  # warm-up
                runs.append(drain.taskhub_throughput(client, systems.broker, plan.tasks))
                systems.processes.stop(worker)
        if not sink.exports:
            raise RuntimeError("tracing on exported no span: the figure would measure nothing")
    report.add(db, f"end-to-end no-op, {plan.tasks} tasks, tracing on (OTLP, every span) "
               "vs off", Figure(on, "tasks/s"), Figure(off, "tasks/s"),
               target="none: names the cost")  # fmt: skip


FAIRNESS_BACKLOG = 5000


def measure_fairness(
    report: Report, plan: Plan, db: str, systems: Systems, client: TaskhubClient
) -> None:
    """One worker, the API and Beat: B's single task behind A's backlog, and one user's
    throughput with fair sharing on vs off, alternating."""
    drain.purge(systems.broker)
    worker = systems.start_taskhub_worker()
    step("fair sharing: a second user's task behind a backlog; one user's throughput")
    delays = [fairness.second_user_start_delay(client, systems, FAIRNESS_BACKLOG)
              for _ in range(plan.runs)]  # fmt: skip
    report.add(db, f"fair share: user B's 1 task behind user A's {FAIRNESS_BACKLOG}, "
               "POST to start", Figure(delays, "s"), target="< 2 s",
               check=lambda s: s < 2)  # fmt: skip
    on, off = [], []
    for _ in range(plan.runs):
        off.append(fairness.one_user_throughput(client, systems, plan.tasks, fair=False))
        on.append(fairness.one_user_throughput(client, systems, plan.tasks, fair=True))
    report.add(db, f"one user's {plan.tasks} no-op tasks through the API, fair sharing on "
               "vs off", Figure(on, "tasks/s"), Figure(off, "tasks/s"),
               target=">= 0.95x off", check=lambda r: r >= 0.95)  # fmt: skip
    systems.processes.stop(worker)


def measure_drain(
    report: Report, plan: Plan, db: str, systems: Systems, client: TaskhubClient
) -> None:
    """The end-to-end no-op drain beside raw Celery's, on workers already started."""
    step("end-to-end throughput")
    drain.taskhub_throughput(client, systems.broker, 200)  # warm-up
    drain.reference_throughput(systems.broker, 200)
    ours, theirs = [], []
    for _ in range(plan.runs):
        ours.append(drain.taskhub_throughput(client, systems.broker, plan.tasks))
        theirs.append(drain.reference_throughput(systems.broker, plan.tasks))
    report.add(db, f"end-to-end no-op, {plan.tasks} tasks", Figure(ours, "tasks/s"),
               Figure(theirs, "tasks/s"), target=">= 0.6x raw Celery",
               check=lambda r: r >= 0.6)  # fmt: skip


def measure_workers(
    report: Report, plan: Plan, db: str, systems: Systems, client: TaskhubClient
) -> None:
    worker = systems.start_taskhub_worker()
    systems.start_reference_worker()
    idle = process_tree_mb(worker.pid)
    measure_drain(report, plan, db, systems, client)
    measure_workflows(report, plan, db, systems, client)
    after = process_tree_mb(worker.pid)
    for when, sizes in (("idle", idle), ("after the drains", after)):
        each = ", ".join(f"{name} {mb:.0f}" for name, mb in sizes.items())
        report.add(db, f"worker RSS, {when}: largest of {each}",
                   Figure([max(sizes.values())], "MB"), target="< 120 MB per process",
                   check=lambda mb: mb < 120)  # fmt: skip
    step("submit -> start latency")
    p50s, p99s, ref50s, ref99s = [], [], [], []
    for _ in range(plan.runs):
        ours = submit.taskhub_latencies(client, systems.broker, systems.urls["taskhub-api"],
                                        plan.latency_samples)  # fmt: skip
        theirs = submit.reference_latencies(systems.broker, systems.urls["reference-api"],
                                            plan.latency_samples)  # fmt: skip
        p50s.append(percentile(ours, 0.5))
        p99s.append(percentile(ours, 0.99))
        ref50s.append(percentile(theirs, 0.5))
        ref99s.append(percentile(theirs, 0.99))
    report.add(db, "submit -> start p50", Figure(p50s, "ms"), Figure(ref50s, "ms"),
               target="<= 2x raw Celery", check=lambda r: r <= 2)  # fmt: skip
    report.add(db, "submit -> start p99", Figure(p99s, "ms"), Figure(ref99s, "ms"),
               target="< 25 ms", check=lambda _: statistics_median(p99s) < 25)  # fmt: skip
    for process in ("taskhub-worker", "reference-worker"):
        systems.processes.stop(systems.processes.find(process))


def measure_delayed(
    report: Report, plan: Plan, db: str, systems: Systems, client: TaskhubClient
) -> None:
    step(f"{plan.delayed_due:,} delayed tasks due at once, {plan.delayed_stored:,} stored")
    delayed.store_waiting(client, plan.delayed_stored)
    p50s, p99s = [], []
    for _ in range(plan.runs):
        late = delayed.lateness_ms(client, systems, due=plan.delayed_due)
        p50s.append(percentile(late, 0.5))
        p99s.append(percentile(late, 0.99))
    drain.purge(systems.broker)  # the released tasks: nobody consumes them
    label = f"delayed: {plan.delayed_due:,} due at once, {plan.delayed_stored:,} stored, lateness"
    report.add(db, f"{label} p50", Figure(p50s, "ms"))
    report.add(db, f"{label} p99", Figure(p99s, "ms"), target="< 1000 ms",
               check=_median_below(p99s, 1000))  # fmt: skip


def measure_workflows(
    report: Report, plan: Plan, db: str, systems: Systems, client: TaskhubClient
) -> None:
    """A fan-out/fan-in of `plan.workflow_tasks` and a chain of `plan.chain_steps`, beside
    as many independent no-op tasks; per-edge cost is the time beyond the independent
    tasks', over the edges."""
    step("workflows")
    n, steps = plan.workflow_tasks, plan.chain_steps
    fan, line = workflows.fan_out_fan_in(n), workflows.chain(steps)
    workflows.workflow_seconds(client, systems.broker, workflows.fan_out_fan_in(20))  # warm-up
    fans, alone, chains = [], [], []
    for _ in range(plan.runs):
        fans.append(n / workflows.workflow_seconds(client, systems.broker, fan))
        alone.append(drain.taskhub_throughput(client, systems.broker, n))
        chains.append(steps / workflows.workflow_seconds(client, systems.broker, line))
    fan_figure, alone_figure = Figure(fans, "tasks/s"), Figure(alone, "tasks/s")
    report.add(db, f"fan-out/fan-in 1 -> {n - 2} -> 1 vs {n} independent no-ops",
               fan_figure, alone_figure, target=">= 0.7x independent",
               check=lambda r: r >= 0.7)  # fmt: skip
    extra = [
        (n / f - n / a) / workflows.edges(fan) * 1000 for f, a in zip(fans, alone, strict=True)
    ]
    report.add(db, f"fan-out/fan-in cost per edge ({workflows.edges(fan)} edges)",
               Figure(extra, "ms"))  # fmt: skip
    report.add(db, f"chain of {steps} steps", Figure(chains, "tasks/s"))
    report.add(db, "chain: one step to the next (release, publish, claim, run)",
               Figure([1000 / c for c in chains], "ms"))  # fmt: skip


def measure_listing(
    report: Report, plan: Plan, db: str, client: TaskhubClient, api_url: str
) -> None:
    step(f"seeding {plan.list_rows:,} rows")
    users, seconds = listing.seed(client, plan.list_rows)
    report.notes.append(f"{db}: {plan.list_rows:,} rows seeded in {seconds:.0f} s")
    user = users[len(users) // 2]
    token = client.container.core.token_service().issue(user.id, user.token_version).token
    deep = min(listing.DEEP_ROW, plan.list_rows // listing.USERS // 2)
    cursor = listing.deep_cursor(client, user, deep)
    step("listing")
    for page, where in (("first page", None), (f"after row {deep:,}", cursor)):
        runs = [listing.list_latencies(api_url, token, plan.list_samples, where)
                for _ in range(plan.runs)]  # fmt: skip
        label = f"GET /tasks at {plan.list_rows:,} rows, {page}"
        p99 = [percentile(r, 0.99) for r in runs]
        report.add(db, f"{label} p50", Figure([percentile(r, 0.5) for r in runs], "ms"))
        report.add(db, f"{label} p99", Figure(p99, "ms"), target="< 20 ms",
                   check=_median_below(p99, 20))  # fmt: skip


def _median_below(values: list[float], limit: float) -> Callable[[float], bool]:
    return lambda _: statistics_median(values) < limit


def statistics_median(values: list[float]) -> float:
    return Figure(values, "").median


def step(what: str) -> None:
    console.print(f"  {time.strftime('%H:%M:%S')} {what}")


if __name__ == "__main__":
    main()
