"""The console's schedule pages: the list with next fire times, a schedule's coming fires,
latest runs and ledger, creating one from a form its task type's schema gives, pause,
resume, trigger and delete. Each calls the use case the REST route calls."""

from __future__ import annotations

from uuid import UUID

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from application.ports import TaskTypeCatalog
from domain.errors import InvalidFieldsError, ValidationError
from domain.schedule import CatchUp, Cron, Interval, Overlap, ScheduleId, TaskTemplate, Trigger
from domain.task import Priority
from entrypoints.http.console.forms import argument_fields, arguments_from, messages_by_input
from entrypoints.http.console.rendering import console_router, render, see
from entrypoints.http.console.session import CheckedForm, SignedInUser
from entrypoints.http.use_cases import (
    CreateScheduleUseCase,
    DeleteScheduleUseCase,
    GetScheduleUseCase,
    InstalledTaskTypes,
    ListScheduleFiresUseCase,
    ListSchedulesUseCase,
    PauseScheduleUseCase,
    ResumeScheduleUseCase,
    TriggerScheduleUseCase,
)

router = console_router()

# The form's own inputs (errors are shown beside them); the task's name is `task_name`.
SCHEDULE_INPUTS = (
    "name",
    "task_name",
    "priority",
    "cron",
    "timezone",
    "interval_seconds",
    "start_at",
    "end_at",
    "max_runs",
    "overlap",
)


@router.get("/schedules")
def schedule_list(
    request: Request,
    user: SignedInUser,
    list_schedules: ListSchedulesUseCase,
    cursor: str = "",
) -> HTMLResponse:
    """Newest first, each with its next fire time: the user's own (an admin's: everyone's)."""
    page = list_schedules.execute(user, cursor=cursor or None)
    return render(
        request, "schedules.html", {"schedules": page.items, "next_cursor": page.next_cursor}
    )


def _form_context(catalog: TaskTypeCatalog, task_type: str) -> dict[str, object]:
    spec = catalog.get(task_type) if task_type else None
    if spec is not None and spec.internal:
        spec = None
    return {
        "task_types": [s for s in catalog.all() if not s.internal],
        "spec": spec,
        "fields": argument_fields(spec.arguments_schema) if spec else [],
        "values": {},
        "errors": {},
        "priorities": list(Priority),
        "overlaps": list(Overlap),
    }


@router.get("/schedules/new")
def new_schedule(
    request: Request, user: SignedInUser, catalog: InstalledTaskTypes, task_type: str = ""
) -> HTMLResponse:
    """Pick the task type, then fill in the timing and the arguments its schema gives."""
    return render(request, "schedule_new.html", _form_context(catalog, task_type))


@router.post("/schedules")
def create(
    request: Request,
    user: SignedInUser,
    form: CheckedForm,
    catalog: InstalledTaskTypes,
    create_schedule: CreateScheduleUseCase,
) -> Response:
    spec = catalog.get(str(form.get("task_type", "")))
    context = _form_context(catalog, spec.name)
    values = {key: str(value) for key, value in form.items() if isinstance(value, str)}
    try:
        priority = values.get("priority", "")
        schedule = create_schedule.execute(
            user,
            name=values.get("name", ""),
            template=TaskTemplate(
                name=values.get("task_name", "") or values.get("name", ""),
                task_type=spec.name,
                priority=Priority(priority) if priority in set(Priority) else None,
                kwargs=arguments_from(form, argument_fields(spec.arguments_schema)),
            ),
            trigger=_trigger(values),
            max_runs=_whole_number(values.get("max_runs", ""), "max_runs"),
            overlap=_choice(Overlap, values.get("overlap", ""), Overlap.SKIP),
            catch_up=CatchUp.NONE,
        )
    except ValidationError as error:
        # The REST API's messages (`task.kwargs.seconds`), each beside its input.
        shown = [(_input_of(field), message) for field, message in error.field_errors]
        context |= {"values": values, "errors": messages_by_input(shown, SCHEDULE_INPUTS)}
        return render(request, "schedule_new.html", context, status=422)
    return see(f"/ui/schedules/{schedule.id}")


def _input_of(field: str) -> str:
    """`task.kwargs.seconds` -> `kwargs.seconds`; `task.name` -> `task_name`."""
    if field == "task.name":
        return "task_name"
    return field.removeprefix("task.")


def _trigger(values: dict[str, str]) -> Trigger:
    cron = values.get("cron", "").strip()
    seconds = values.get("interval_seconds", "").strip()
    if cron and seconds:
        raise InvalidFieldsError([("cron", "give a cron expression or an interval, not both")])
    if cron:
        return Cron(cron, values.get("timezone", "").strip() or "UTC")
    interval = _whole_number(seconds, "interval_seconds")
    if interval is None:
        raise InvalidFieldsError([("cron", "give a cron expression or an interval")])
    return Interval(interval)


def _whole_number(value: str, field: str) -> int | None:
    if not value.strip():
        return None
    try:
        return int(value)
    except ValueError:
        raise ValidationError(f"{field} must be a whole number", field=field) from None


def _choice(enum: type[Overlap], value: str, default: Overlap) -> Overlap:
    try:
        return enum(value) if value else default
    except ValueError:
        raise ValidationError("not one of the choices", field="overlap") from None


@router.get("/schedules/{schedule_id}")
def schedule_page(
    request: Request,
    schedule_id: UUID,
    user: SignedInUser,
    get: GetScheduleUseCase,
    fires: ListScheduleFiresUseCase,
) -> HTMLResponse:
    """Its timing, the next fire times, the latest runs and the ledger's latest fires."""
    view = get.execute(user, ScheduleId(schedule_id))
    ledger = fires.execute(user, ScheduleId(schedule_id))
    return render(request, "schedule.html", {"view": view, "fires": ledger.items})


def _acted(form: FormData, schedule_id: UUID) -> Response:
    """Back to where the button was: the list or the schedule's page."""
    if form.get("back") == "list":
        return see("/ui/schedules")
    return see(f"/ui/schedules/{schedule_id}")


@router.post("/schedules/{schedule_id}/pause")
def pause(
    schedule_id: UUID, user: SignedInUser, form: CheckedForm, pause: PauseScheduleUseCase
) -> Response:
    pause.execute(user, ScheduleId(schedule_id))
    return _acted(form, schedule_id)


@router.post("/schedules/{schedule_id}/resume")
def resume(
    schedule_id: UUID, user: SignedInUser, form: CheckedForm, resume: ResumeScheduleUseCase
) -> Response:
    resume.execute(user, ScheduleId(schedule_id))
    return _acted(form, schedule_id)


@router.post("/schedules/{schedule_id}/trigger")
def trigger(
    schedule_id: UUID, user: SignedInUser, form: CheckedForm, trigger: TriggerScheduleUseCase
) -> Response:
    """One run now, recorded in the ledger; its task's page follows when one was made."""
    fire = trigger.execute(user, ScheduleId(schedule_id))
    if fire.task_id is not None:
        return see(f"/ui/tasks/{fire.task_id}")
    return _acted(form, schedule_id)


@router.post("/schedules/{schedule_id}/delete")
def delete(
    schedule_id: UUID, user: SignedInUser, _: CheckedForm, delete: DeleteScheduleUseCase
) -> Response:
    delete.execute(user, ScheduleId(schedule_id))
    return see("/ui/schedules")
