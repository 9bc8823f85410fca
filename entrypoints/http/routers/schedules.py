"""Schedules: recurring tasks by cron expression or interval, and their fire ledger."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status

from domain.schedule import CatchUp, Overlap, ScheduleId
from domain.user import UserId
from entrypoints.http.dependencies import CurrentUser
from entrypoints.http.idempotency import IdempotencyKeyHeader, claim_of, mark_replayed
from entrypoints.http.schemas.common import problem_responses
from entrypoints.http.schemas.schedules import (
    CreateScheduleRequest,
    FirePage,
    FireResponse,
    SchedulePage,
    ScheduleResponse,
    UpdateScheduleRequest,
)
from entrypoints.http.use_cases import (
    CreateScheduleUseCase,
    DeleteScheduleUseCase,
    GetScheduleUseCase,
    ListScheduleFiresUseCase,
    ListSchedulesUseCase,
    PauseScheduleUseCase,
    ResumeScheduleUseCase,
    TriggerScheduleUseCase,
    UpdateScheduleUseCase,
)

router = APIRouter(prefix="/schedules", tags=["schedules"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    operation_id="create_schedule",
    responses=problem_responses(401, 403, 409, 422, 429),
)
def create_schedule(
    body: CreateScheduleRequest,
    user: CurrentUser,
    create: CreateScheduleUseCase,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ScheduleResponse:
    """A recurring task: `cron` (with `timezone`) or `interval_seconds`. The task is checked
    like a submission (422 naming `task.<field>`), as are the cron expression and zone.
    With an `Idempotency-Key`, a retry returns the schedule the first request created."""
    trigger = body.trigger()
    assert trigger is not None  # the request's validator requires one
    schedule, replayed = create.execute_once(
        user,
        claim_of(request, idempotency_key, body),
        name=body.name,
        template=body.task.template(),
        trigger=trigger,
        start_at=body.start_at,
        end_at=body.end_at,
        max_runs=body.max_runs,
        overlap=body.overlap or Overlap.SKIP,
        catch_up=body.catch_up or CatchUp.NONE,
    )
    mark_replayed(response, replayed)
    return ScheduleResponse.of(schedule)


@router.get("", operation_id="list_schedules", responses=problem_responses(401, 403, 422))
def list_schedules(
    user: CurrentUser,
    list_schedules: ListSchedulesUseCase,
    user_id: Annotated[UUID | None, Query(description="Admins only: that user's.")] = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
    cursor: str | None = None,
) -> SchedulePage:
    """Your schedules (an admin's: everyone's), newest first."""
    page = list_schedules.execute(
        user, limit=limit, cursor=cursor, user_id=UserId(user_id) if user_id else None
    )
    return SchedulePage(
        items=[ScheduleResponse.of(s) for s in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/{schedule_id}", operation_id="get_schedule", responses=problem_responses(401, 404, 422)
)
def get_schedule(
    schedule_id: UUID,
    user: CurrentUser,
    get: GetScheduleUseCase,
) -> ScheduleResponse:
    """The schedule with its next five fire times and its latest runs."""
    return ScheduleResponse.of_view(get.execute(user, ScheduleId(schedule_id)))


@router.patch(
    "/{schedule_id}",
    operation_id="update_schedule",
    responses=problem_responses(401, 404, 409, 422),
)
def update_schedule(
    schedule_id: UUID,
    body: UpdateScheduleRequest,
    user: CurrentUser,
    update: UpdateScheduleUseCase,
) -> ScheduleResponse:
    """Change any field; a new timing counts fire times afresh from now."""
    return ScheduleResponse.of(update.execute(user, ScheduleId(schedule_id), body.changes()))


@router.delete(
    "/{schedule_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="delete_schedule",
    responses=problem_responses(401, 404, 422),
)
def delete_schedule(
    schedule_id: UUID,
    user: CurrentUser,
    delete: DeleteScheduleUseCase,
) -> Response:
    """Delete the schedule and its ledger; the tasks it created stay."""
    delete.execute(user, ScheduleId(schedule_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{schedule_id}/pause",
    operation_id="pause_schedule",
    responses=problem_responses(401, 404, 409, 422),
)
def pause_schedule(
    schedule_id: UUID,
    user: CurrentUser,
    pause: PauseScheduleUseCase,
) -> ScheduleResponse:
    return ScheduleResponse.of(pause.execute(user, ScheduleId(schedule_id)))


@router.post(
    "/{schedule_id}/resume",
    operation_id="resume_schedule",
    responses=problem_responses(401, 404, 409, 422),
)
def resume_schedule(
    schedule_id: UUID,
    user: CurrentUser,
    resume: ResumeScheduleUseCase,
) -> ScheduleResponse:
    """Fires again from the next fire time after now; none is owed for the pause."""
    return ScheduleResponse.of(resume.execute(user, ScheduleId(schedule_id)))


@router.post(
    "/{schedule_id}/trigger",
    status_code=status.HTTP_201_CREATED,
    operation_id="trigger_schedule",
    responses=problem_responses(401, 404, 409, 422),
)
def trigger_schedule(
    schedule_id: UUID,
    user: CurrentUser,
    trigger: TriggerScheduleUseCase,
) -> FireResponse:
    """One run now, recorded in the ledger (reason `manual`)."""
    return FireResponse.of(trigger.execute(user, ScheduleId(schedule_id)))


@router.get(
    "/{schedule_id}/fires",
    operation_id="list_schedule_fires",
    responses=problem_responses(401, 404, 422),
)
def list_schedule_fires(
    schedule_id: UUID,
    user: CurrentUser,
    fires: ListScheduleFiresUseCase,
    limit: Annotated[int | None, Query(ge=1)] = None,
    cursor: str | None = None,
) -> FirePage:
    """The fire ledger, latest first: each fire time once, fired, skipped or missed."""
    page = fires.execute(user, ScheduleId(schedule_id), limit=limit, cursor=cursor)
    return FirePage(items=[FireResponse.of(f) for f in page.items], next_cursor=page.next_cursor)
