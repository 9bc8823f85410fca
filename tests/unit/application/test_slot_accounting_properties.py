"""Property-based check of a concurrency key's slot accounting through the real use cases:
whatever submissions, claims, completions, retries, cancellations and reaped workers come in
whatever order, no more than the limit hold a slot, and no slot stays free while a task
waits for one (no leak)."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from adapters.in_memory.catalog import StaticTaskTypeCatalog
from adapters.in_memory.clock import FixedClock
from adapters.in_memory.dispatcher import RecordingTaskDispatcher
from adapters.in_memory.repositories import InMemoryStore
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from application.argument_limits import ArgumentLimits
from application.ports import TaskTypeSpec
from application.publishing import RecordDispatchedNow, TaskPublisher
from application.running.outcomes import Completed, Failed, Retried, TaskRun
from application.running.record_outcome import RecordOutcome
from application.running.start_task import StartTask
from application.use_cases.cancel_task import CancelTask
from application.use_cases.reap_stale_tasks import ReapStaleTasks
from application.use_cases.submit_task import SubmitTask
from domain.flow import ConcurrencyRule
from domain.task import TaskId, TaskStatus
from tests.factories import make_user

LIMIT = 2
KEY = "deploy:blue"
SPEC = TaskTypeSpec(
    name="deploy",
    description="",
    max_attempts=2,
    concurrency=ConcurrencyRule(scope="deploy", limit=LIMIT, explicit_key=True),
)


class SlotAccounting(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.store = InMemoryStore()
        self.uow = InMemoryUnitOfWork(self.store)
        self.clock = FixedClock()
        self.dispatcher = RecordingTaskDispatcher()
        self.publisher = TaskPublisher(
            dispatcher=self.dispatcher, recorder=RecordDispatchedNow(self.uow), clock=self.clock
        )
        self.owner = make_user()
        with self.uow:
            self.uow.users.add(self.owner)
            self.uow.commit()
        self.runs: dict[TaskId, TaskRun] = {}

    def tasks(self, status: TaskStatus) -> list[TaskId]:
        # In submission order (ids are random), so a replayed example picks the same tasks.
        found = [t for t in self.store.tasks.values() if t.status is status]
        return [t.id for t in sorted(found, key=lambda t: t.created_at)]

    def published(self) -> list[TaskId]:
        """Pending tasks a worker may be handed: their message went out."""
        return [t for t in self.tasks(TaskStatus.PENDING) if self.store.tasks[t].held is None]

    @rule()
    def submit(self) -> None:
        SubmitTask(
            uow=self.uow,
            catalog=StaticTaskTypeCatalog([SPEC]),
            publisher=self.publisher,
            clock=self.clock,
            max_active_tasks=1000,
            argument_limits=ArgumentLimits(),
        ).execute(self.owner, name="deploy", task_type="deploy", concurrency_key="blue")
        self.clock.advance(seconds=1)

    @rule(data=st.data())
    def a_worker_claims(self, data: st.DataObject) -> None:
        if candidates := self.published():
            task_id = candidates[data.draw(st.integers(0, len(candidates) - 1))]
            self.runs[task_id] = StartTask(uow=self.uow, clock=self.clock).execute(task_id)

    @rule(data=st.data(), outcome=st.sampled_from(["completed", "failed", "retried"]))
    def a_run_ends(self, data: st.DataObject, outcome: str) -> None:
        if not (running := self.tasks(TaskStatus.RUNNING)):
            return
        task_id = running[data.draw(st.integers(0, len(running) - 1))]
        execution = {
            "completed": Completed(result=None),
            "failed": Failed("Boom", "boom"),
            "retried": Retried("Flaky", "again", countdown=0),
        }[outcome]
        RecordOutcome(uow=self.uow, publisher=self.publisher, clock=self.clock).execute(
            self.runs[task_id], execution
        )

    @rule(data=st.data())
    def the_owner_cancels(self, data: st.DataObject) -> None:
        active = self.tasks(TaskStatus.PENDING) + self.tasks(TaskStatus.RUNNING)
        if active:
            task_id = active[data.draw(st.integers(0, len(active) - 1))]
            cancel = CancelTask(
                uow=self.uow, dispatcher=self.dispatcher, clock=self.clock, publisher=self.publisher
            )
            cancel.execute(self.owner, task_id)

    @rule()
    def a_worker_is_killed_and_the_reaper_takes_its_runs_back(self) -> None:
        self.clock.advance(minutes=10)
        ReapStaleTasks(
            uow=self.uow,
            publisher=self.publisher,
            clock=self.clock,
            stale_after=timedelta(minutes=5),
            batch_size=100,
        ).execute()

    @invariant()
    def no_more_than_the_limit_hold_a_slot(self) -> None:
        with self.uow:
            assert self.uow.tasks.count_slot_holders(KEY) <= LIMIT

    @invariant()
    def no_slot_is_free_while_a_task_waits_for_one(self) -> None:
        with self.uow:
            holders = self.uow.tasks.count_slot_holders(KEY)
            held = self.uow.tasks.list_held(KEY, limit=100)
        assert not held or holders == LIMIT

    @invariant()
    def every_released_task_was_published(self) -> None:
        enqueued = {e.task_id for e in self.dispatcher.enqueued}
        assert set(self.published()) <= enqueued


TestSlotAccounting = SlotAccounting.TestCase
TestSlotAccounting.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
