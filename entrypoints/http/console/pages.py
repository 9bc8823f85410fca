"""The console's pages: each handler reads its input, calls the use case the REST route
calls, and renders the answer; a domain error becomes a page saying what went wrong."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from application.ports import TaskTypeCatalog
from application.secret_values import masked
from domain.errors import DomainError, ValidationError
from domain.task import Priority, Task, TaskId, TaskStatus
from domain.user import UserId
from entrypoints.http.console import live, models, schedules, workflows
from entrypoints.http.console.drawings import line_chart
from entrypoints.http.console.forms import argument_fields, arguments_from, messages_by_input
from entrypoints.http.console.rendering import (
    STATIC_DIR,
    console_router,
    is_fragment,
    render,
    see,
)
from entrypoints.http.console.results import result_view
from entrypoints.http.console.session import (
    CheckedForm,
    SignedInUser,
    SignInRequiredError,
    end_session,
    remember_csrf,
    renew_csrf,
    start_session,
)
from entrypoints.http.problems import status_for
from entrypoints.http.use_cases import (
    AuthenticateUseCase,
    CancelTaskUseCase,
    DeleteTaskUseCase,
    DescribeQueuesUseCase,
    DescribeRecentRunsUseCase,
    EndSessionsUseCase,
    GetTaskUseCase,
    InstalledTaskTypes,
    ListTaskAttemptsUseCase,
    ListTaskLogsUseCase,
    ListTasksUseCase,
    ListUsersUseCase,
    SignUpUseCase,
    SubmitTaskUseCase,
    UpdateUserUseCase,
)
from entrypoints.logs import request_id_var

router = console_router()


@router.get("")
def home() -> RedirectResponse:
    return see("/ui/tasks")


@router.get("/login")
def login_page(request: Request) -> HTMLResponse:
    return render(request, "login.html")


@router.post("/login")
def login(
    request: Request,
    form: CheckedForm,
    authenticate: AuthenticateUseCase,
) -> Response:
    email, password = str(form.get("email", "")), str(form.get("password", ""))
    client_ip = request.client.host if request.client else None
    try:
        token = authenticate.execute(email=email, password=password, client_ip=client_ip)
    except DomainError as error:
        context = {"email": email, "error": error.detail}
        return render(request, "login.html", context, status=status_for(error))
    response = see("/ui/tasks")
    start_session(request, response, token.token, token.expires_in)
    renew_csrf(request)
    remember_csrf(request, response)
    return response


@router.get("/signup")
def signup_page(request: Request) -> HTMLResponse:
    return render(request, "signup.html", {"email": "", "errors": {}})


@router.post("/signup")
def signup(request: Request, form: CheckedForm, sign_up: SignUpUseCase) -> HTMLResponse:
    """The REST sign-up: the same answer whether or not the email had an account, so the
    page never confirms one; then the sign-in form."""
    email, password = str(form.get("email", "")), str(form.get("password", ""))
    client_ip = request.client.host if request.client else None
    try:
        sign_up.execute(email=email, password=password, client_ip=client_ip)
    except ValidationError as error:
        errors = messages_by_input(error.field_errors, ("email", "password"))
        context = {"email": email, "errors": errors}
        return render(request, "signup.html", context, status=422)
    notice = "If this email had no account, it has one now: sign in with it."
    return render(request, "login.html", {"email": email, "notice": notice}, status=202)


@router.post("/logout")
def logout(user: SignedInUser, _: CheckedForm, end: EndSessionsUseCase) -> Response:
    """As the REST logout: every session of the user ends, this browser's too."""
    end.execute(user)
    response = see("/ui/login")
    end_session(response)
    return response


# --- the task list ---------------------------------------------------------------------------


def _option(enum: type[TaskStatus] | type[Priority], value: str, field: str) -> Any:
    try:
        return enum(value) if value else None
    except ValueError:
        known = ", ".join(member.value for member in enum)
        raise ValidationError(f"{field} must be one of {known}", field=field) from None


def _day(value: str, field: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise ValidationError(f"{field} is not a date (YYYY-MM-DD)", field=field) from None


@router.get("/tasks")
def task_list(
    request: Request,
    user: SignedInUser,
    list_tasks: ListTasksUseCase,
    catalog: InstalledTaskTypes,
    status: str = "",
    task_type: str = "",
    priority: str = "",
    name: str = "",
    created_from: str = "",
    created_to: str = "",
    user_id: UUID | None = None,
    cursor: str = "",
) -> HTMLResponse:
    """Newest first; the dates are whole days in UTC, both included."""
    filters = {
        "status": status,
        "task_type": task_type,
        "priority": priority,
        "name": name,
        "created_from": created_from,
        "created_to": created_to,
        "user_id": str(user_id) if user_id else "",
    }
    first, last = _day(created_from, "created_from"), _day(created_to, "created_to")
    page = list_tasks.execute(
        user,
        cursor=cursor or None,
        status=_option(TaskStatus, status, "status"),
        task_type=task_type or None,
        priority=_option(Priority, priority, "priority"),
        name=name or None,
        created_after=_start_of(first) - timedelta(microseconds=1) if first else None,
        created_before=_start_of(last + timedelta(days=1)) if last else None,
        user_id=UserId(user_id) if user_id else None,
    )
    context = {
        "tasks": page.items,
        "next_cursor": page.next_cursor,
        "filters": filters,
        "filter_query": urlencode({key: value for key, value in filters.items() if value}),
        "live": any(not task.is_terminal for task in page.items),
        # The stream carries the user's own tasks: a list of others' tasks polls instead.
        "events_url": None if user.is_admin or user_id else "/ui/events",
        "statuses": list(TaskStatus),
        "priorities": list(Priority),
        "task_types": [spec.name for spec in catalog.all() if not spec.internal],
        "now": datetime.now(UTC),
    }
    return render(request, "_task_table.html" if is_fragment(request) else "tasks.html", context)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


# --- submitting ------------------------------------------------------------------------------


def _submittable(catalog: TaskTypeCatalog) -> list[Any]:
    return [spec for spec in catalog.all() if not spec.internal]


@router.get("/tasks/new")
def new_task(
    request: Request,
    user: SignedInUser,
    catalog: InstalledTaskTypes,
    task_type: str = "",
) -> HTMLResponse:
    """Pick a type, then fill in the form its arguments' schema gives."""
    spec = catalog.get(task_type) if task_type else None
    if spec is not None and spec.internal:
        spec = None
    return render(
        request,
        "submit.html",
        {
            "task_types": _submittable(catalog),
            "spec": spec,
            "fields": argument_fields(spec.arguments_schema) if spec else [],
            "values": {},
            "errors": {},
            "priorities": list(Priority),
        },
    )


@router.post("/tasks")
def submit(
    request: Request,
    user: SignedInUser,
    form: CheckedForm,
    catalog: InstalledTaskTypes,
    submit_task: SubmitTaskUseCase,
) -> Response:
    spec = catalog.get(str(form.get("task_type", "")))
    fields = argument_fields(spec.arguments_schema)
    values = {key: str(value) for key, value in form.items() if isinstance(value, str)}
    try:
        task = submit_task.execute(
            user,
            name=values.get("name", ""),
            task_type=spec.name,
            priority=_option(Priority, values.get("priority", ""), "priority"),
            kwargs=arguments_from(form, fields),
            request_id=request_id_var.get(),
        )
    except ValidationError as error:
        # The same messages as the REST API's 422, each beside its input.
        context = {
            "task_types": _submittable(catalog),
            "spec": spec,
            "fields": fields,
            "values": values,
            "errors": messages_by_input(error.field_errors),
            "priorities": list(Priority),
        }
        return render(request, "submit.html", context, status=422)
    return see(f"/ui/tasks/{task.id}")


LOG_PAGE_SIZE = 200  # log lines on a task's page; a link leads to the later ones

# --- one task --------------------------------------------------------------------------------


def _eta(task: Task, now: datetime) -> timedelta | None:
    """Time left if the run goes on at its pace so far: a reading aid, not a promise."""
    percent = task.progress.percent
    if task.status is not TaskStatus.RUNNING or task.started_at is None or not 0 < percent < 100:
        return None
    elapsed = now - task.started_at
    return timedelta(seconds=round(elapsed.total_seconds() * (100 - percent) / percent))


@router.get("/tasks/{task_id}")
def task_page(
    request: Request,
    task_id: UUID,
    user: SignedInUser,
    get: GetTaskUseCase,
    attempts: ListTaskAttemptsUseCase,
    logs: ListTaskLogsUseCase,
    catalog: InstalledTaskTypes,
    logs_after: str = "",
) -> HTMLResponse:
    task = get.execute(user, TaskId(task_id))
    context = {
        "task": task,
        "view": result_view(masked(task.result), _result_hint(catalog, task.task_type)),
        "args": masked(task.args),
        "kwargs": masked(task.kwargs),
        "eta": _eta(task, datetime.now(UTC)),
        "attempts": attempts.execute(user, task.id),
        "logs": logs.execute(user, task.id, cursor=logs_after or None, limit=LOG_PAGE_SIZE),
        "log_page_size": LOG_PAGE_SIZE,
    }
    return render(request, "_task_detail.html" if is_fragment(request) else "task.html", context)


def _result_hint(catalog: TaskTypeCatalog, task_type: str) -> str | None:
    """How the task's type says its result reads best; None for a type no longer installed."""
    try:
        return catalog.get(task_type).result_view
    except ValidationError:
        return None


@router.post("/tasks/{task_id}/cancel")
def cancel(
    task_id: UUID,
    user: SignedInUser,
    _: CheckedForm,
    cancel_task: CancelTaskUseCase,
) -> Response:
    cancel_task.execute(user, TaskId(task_id))
    return see(f"/ui/tasks/{task_id}")


@router.post("/tasks/{task_id}/delete")
def delete(
    task_id: UUID,
    user: SignedInUser,
    _: CheckedForm,
    delete_task: DeleteTaskUseCase,
) -> Response:
    delete_task.execute(user, TaskId(task_id))
    return see("/ui/tasks")


@router.post("/tasks/{task_id}/rerun")
def rerun(
    task_id: UUID,
    user: SignedInUser,
    _: CheckedForm,
    get: GetTaskUseCase,
    submit_task: SubmitTaskUseCase,
) -> Response:
    """A new task with the same type, name, priority and arguments: submitted as any other,
    so the quota and the argument checks apply again."""
    task = get.execute(user, TaskId(task_id))
    again = submit_task.execute(
        user,
        name=task.name,
        task_type=task.task_type,
        priority=task.priority,
        args=task.args,
        kwargs=task.kwargs,
        model_id=task.model_id,
        request_id=request_id_var.get(),
    )
    return see(f"/ui/tasks/{again.id}")


# --- administration --------------------------------------------------------------------------


@router.get("/users")
def users(
    request: Request,
    user: SignedInUser,
    list_users: ListUsersUseCase,
    cursor: str = "",
) -> HTMLResponse:
    """Admins only (403 otherwise, as on the REST API): each user, with a link to their tasks."""
    page = list_users.execute(user, cursor=cursor or None)
    return render(request, "users.html", {"users": page.items, "next_cursor": page.next_cursor})


@router.post("/users/{user_id}")
def update_user(
    user_id: UUID, user: SignedInUser, form: CheckedForm, update: UpdateUserUseCase
) -> Response:
    """Activate or deactivate, make admin or not: the REST API's PATCH, its rules too (an
    admin cannot deactivate or demote themselves: 409)."""
    update.execute(
        user,
        UserId(user_id),
        is_active=_yes_or_no(form.get("is_active")),
        is_admin=_yes_or_no(form.get("is_admin")),
    )
    return see("/ui/users")


def _yes_or_no(value: object) -> bool | None:
    return {"true": True, "false": False}.get(value) if isinstance(value, str) else None


@router.get("/queues")
def queues(
    request: Request,
    user: SignedInUser,
    describe: DescribeQueuesUseCase,
    recent_runs: DescribeRecentRunsUseCase,
) -> HTMLResponse:
    """Admins only (403 otherwise): each queue's depth, unclaimed, running, held back and
    the oldest pending task's wait, as `GET /api/v1/admin/queues` reports them; and charts
    of the last hour's runs: completed, failed, mean run time."""
    reports = describe.execute(user)
    runs = recent_runs.execute(user)
    slices = runs.slices
    charts = [
        line_chart("Runs completed", [s.completed for s in slices]),
        line_chart("Runs failed (retried ones included)", [s.failed for s in slices]),
        line_chart("Mean run time (s)", [s.mean_seconds or 0.0 for s in slices]),
    ]
    context = {"queues": reports, "runs": runs, "charts": charts}
    return render(request, "queues.html", context)


def install_console(app: FastAPI) -> None:
    """The pages, their static files, and the sign-in page for a request without a session."""

    async def sign_in_first(request: Request, exc: Exception) -> Response:
        if is_fragment(request):
            # htmx follows this header with a full page load.
            return Response(status_code=204, headers={"HX-Redirect": "/ui/login"})
        return see("/ui/login")

    app.mount("/ui/static", StaticFiles(directory=STATIC_DIR), name="console-static")
    app.include_router(router)
    for pages in (workflows, schedules, models, live):
        app.include_router(pages.router)
    app.add_exception_handler(SignInRequiredError, sign_in_first)
