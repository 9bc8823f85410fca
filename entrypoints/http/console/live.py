"""Live updates for the console: the REST API's event stream, opened with the session
cookie, so a page's live parts are asked for again when one of its tasks changes instead
of every few seconds."""

from __future__ import annotations

from uuid import UUID

from fastapi import Request
from fastapi.responses import StreamingResponse

from domain.task import TaskId
from entrypoints.http.console.rendering import console_router
from entrypoints.http.console.session import SESSION_COOKIE, SignedInUser
from entrypoints.http.routers.events import LastEventId, event_id, open_stream
from entrypoints.http.use_cases import ReadTaskEventsUseCase

router = console_router()


@router.get("/events")
async def task_events(
    request: Request,
    user: SignedInUser,
    read: ReadTaskEventsUseCase,
    task_id: UUID | None = None,
    last_event_id: LastEventId = None,
) -> StreamingResponse:
    """One task's events (whoever may read the task: 404 otherwise), or every task of the
    user's own; as `GET /api/v1/events`, with the session's token instead of a stream
    token, so the stream ends when the session does."""
    token = request.cookies[SESSION_COOKIE]  # present: SignedInUser has read it
    return await open_stream(
        request,
        (user, token),
        read,
        event_id(last_event_id),
        task_id=TaskId(task_id) if task_id else None,
    )
