"""Task events as Server-Sent Events, and the stream tokens browsers' EventSource needs.

A stream is a coroutine, not a thread: it waits on an asyncio queue fed by the process's one
Redis subscription (`EventFanOut`), reads the events table on a thread only to start, to
resume (Last-Event-ID) and to catch up, and sends a heartbeat comment when quiet.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from application.ports import STREAM_SCOPE
from application.use_cases.read_task_events import EventsRead, ReadTaskEvents, wanted
from domain.errors import AuthenticationError, DomainError, ValidationError
from domain.event import EventKind, TaskEvent
from domain.task import TaskId
from domain.user import User
from domain.workflow import WorkflowId
from entrypoints.http.dependencies import CurrentUser, bearer
from entrypoints.http.schemas.common import PlainText, problem_responses
from entrypoints.http.schemas.events import StreamTokenResponse
from entrypoints.http.use_cases import (
    IssueStreamTokenUseCase,
    ReadTaskEventsUseCase,
)

router = APIRouter(tags=["events"])

EVENT_STREAM = "text/event-stream"
RETRY_MILLISECONDS = 3000
# Without live events (no Redis), a stream reads the table this often.
POLL_SECONDS = 1.0
_STREAM_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A stream of `status` and `progress` events (id, event, data: the "
        "task as JSON with `eta_seconds`), `log` events (data: the task's `id`, "
        "`task_type`, `workflow_id` and the `lines` a run logged together, each with `seq`, "
        "`attempt`, `level`, `message`, `logged_at`), and on GET /events `workflow` events (a "
        "workflow ended; data: the workflow), with `: heartbeat` comments when quiet.",
        # Each event of the stream, as SSE clients (and schemathesis) parse it.
        "content": {
            EVENT_STREAM: {
                "schema": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string", "description": "The per-user event number."},
                        "event": {"type": "string", "enum": [kind.value for kind in EventKind]},
                        "data": {
                            "type": "string",
                            "description": "The task (or workflow), as JSON; for `log`, the lines.",
                        },
                        "retry": {"type": "integer"},
                    },
                }
            }
        },
    }
}


def stream_caller(
    request: Request,
    header_token: Annotated[str | None, Depends(bearer)],
    access_token: Annotated[
        str | None,
        Query(
            description="A stream token (POST /api/v1/auth/stream-token), for clients that "
            "cannot send an Authorization header (EventSource)."
        ),
    ] = None,
) -> tuple[User, str]:
    token = header_token or access_token
    if not token:
        raise AuthenticationError("this endpoint needs a bearer token or a stream token")
    identify = request.app.state.container.core.identify_user()
    user: User = identify.execute(token, scope=STREAM_SCOPE)
    return user, token


StreamCaller = Annotated[tuple[User, str], Depends(stream_caller)]
LastEventId = Annotated[
    str | None,
    Header(
        alias="Last-Event-ID",
        description="Resume after this event id: the events since are sent first.",
    ),
]


@router.post(
    "/auth/stream-token",
    operation_id="issue_stream_token",
    responses=problem_responses(401),
)
def issue_stream_token(user: CurrentUser, issue: IssueStreamTokenUseCase) -> StreamTokenResponse:
    """A token valid for 60 seconds, only for reading event streams (`?access_token=`)."""
    token = issue.execute(user)
    return StreamTokenResponse(access_token=token.token, expires_in=token.expires_in)


@router.get(
    "/tasks/{task_id}/events",
    operation_id="stream_task_events",
    response_class=StreamingResponse,
    responses={**_STREAM_RESPONSE, **problem_responses(401, 404, 422)},
)
async def stream_task_events(
    task_id: UUID,
    request: Request,
    caller: StreamCaller,
    read: ReadTaskEventsUseCase,
    last_event_id: LastEventId = None,
) -> StreamingResponse:
    """The task's events as they happen: first its current state (or, with
    `Last-Event-ID`, what happened since), then each change; ends after the terminal one."""
    return await open_stream(
        request, caller, read, event_id(last_event_id), task_id=TaskId(task_id)
    )


@router.get(
    "/events",
    operation_id="stream_events",
    response_class=StreamingResponse,
    responses={**_STREAM_RESPONSE, **problem_responses(401, 404, 422)},
)
async def stream_events(
    request: Request,
    caller: StreamCaller,
    read: ReadTaskEventsUseCase,
    task_type: PlainText | None = None,
    workflow_id: Annotated[
        UUID | None, Query(description="Only the events of this workflow's tasks.")
    ] = None,
    last_event_id: LastEventId = None,
) -> StreamingResponse:
    """The events of every task of yours from now on (with `Last-Event-ID`: since then);
    with `task_type` or `workflow_id`, of those tasks only."""
    return await open_stream(
        request,
        caller,
        read,
        event_id(last_event_id),
        task_type=task_type,
        workflow_id=WorkflowId(workflow_id) if workflow_id else None,
    )


def event_id(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if not value.isdigit() or len(value) > 18:
        raise ValidationError("an event id is a whole number", field="Last-Event-ID")
    return int(value)


async def open_stream(
    request: Request,
    caller: tuple[User, str],
    read: ReadTaskEvents,
    after: int | None,
    *,
    task_id: TaskId | None = None,
    task_type: str | None = None,
    workflow_id: WorkflowId | None = None,
) -> StreamingResponse:
    user, token = caller
    # Read before answering, so a task the caller may not see is a 404, not an empty stream.
    first: EventsRead = await run_in_threadpool(
        read.execute,
        user,
        after=after,
        task_id=task_id,
        task_type=task_type,
        workflow_id=workflow_id,
    )
    stream = _Stream(
        request,
        user,
        token,
        read,
        first,
        task_id=task_id,
        task_type=task_type,
        workflow_id=workflow_id,
    )
    return StreamingResponse(
        stream.run(),
        media_type=EVENT_STREAM,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


class _Stream:
    def __init__(
        self,
        request: Request,
        user: User,
        token: str,
        read: ReadTaskEvents,
        first: EventsRead,
        *,
        task_id: TaskId | None,
        task_type: str | None,
        workflow_id: WorkflowId | None,
    ) -> None:
        container = request.app.state.container
        self.request = request
        self.user = user
        self.token = token
        self.read = read
        self.first = first
        self.task_id = task_id
        self.task_type = task_type
        self.workflow_id = workflow_id
        self.fan_out = container.event_fan_out()
        settings = container.core.settings()
        self.heartbeat = settings.stream_heartbeat_seconds
        self.tick = self.heartbeat if self.fan_out.live else min(POLL_SECONDS, self.heartbeat)
        self.reached = first.reached

    async def run(self) -> AsyncIterator[str]:
        owner = self.first.owner_id
        queue = self.fan_out.follow(owner)
        try:
            yield f"retry: {RETRY_MILLISECONDS}\n\n"
            for event in self.first.events:
                yield _frame(event)
                if self._ends(event):
                    return
            # Anything committed between the first read and the subscription.
            async for frame in self._catch_up():
                if frame is _END:
                    return
                yield frame
            quiet = 0.0
            loop = asyncio.get_running_loop()
            while True:
                started = loop.time()
                try:
                    item = await asyncio.wait_for(queue.get(), timeout=self.tick)
                except TimeoutError:
                    item = None
                    quiet += loop.time() - started
                    if not await self._still_allowed():
                        return
                    if quiet >= self.heartbeat:
                        quiet = 0.0
                        yield ": heartbeat\n\n"
                if item is not None and item.sequence <= self.reached:
                    continue
                if item is not None and item.sequence == self.reached + 1:
                    self.reached = item.sequence
                    if self._wanted(item):
                        quiet = 0.0
                        yield _frame(item)
                        if self._ends(item):
                            return
                    continue
                # A gap (an event missed, or a catch-up asked for): the table has them all.
                async for frame in self._catch_up():
                    if frame is _END:
                        return
                    quiet = 0.0
                    yield frame
        finally:
            self.fan_out.leave(owner, queue)

    async def _catch_up(self) -> AsyncIterator[str]:
        while True:
            found: EventsRead = await run_in_threadpool(
                self.read.execute,
                self.user,
                after=self.reached,
                task_id=self.task_id,
                task_type=self.task_type,
                workflow_id=self.workflow_id,
            )
            for event in found.events:
                yield _frame(event)
                if self._ends(event):
                    yield _END
                    return
            moved = found.reached > self.reached
            self.reached = max(self.reached, found.reached)
            if not moved or len(found.events) < self.read.limit:
                return

    async def _still_allowed(self) -> bool:
        """The token still valid (not expired, not revoked) and the client still there."""
        if await self.request.is_disconnected():
            return False
        identify = self.request.app.state.container.core.identify_user()
        try:
            await run_in_threadpool(identify.execute, self.token, scope=STREAM_SCOPE)
        except DomainError:
            return False
        return True

    def _wanted(self, event: TaskEvent) -> bool:
        if self.task_id is not None:
            return event.task_id == self.task_id
        return wanted(event, task_type=self.task_type, workflow_id=self.workflow_id)

    def _ends(self, event: TaskEvent) -> bool:
        return self.task_id is not None and event.task_id == self.task_id and event.terminal


_END = "\n"  # marks the end of a task's stream inside _catch_up; never sent


def _frame(event: TaskEvent) -> str:
    data = json.dumps(event.data, separators=(",", ":"))
    return f"id: {event.sequence}\nevent: {event.kind.value}\ndata: {data}\n\n"
