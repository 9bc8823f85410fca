"""A small typed wrapper over httpx for the taskhub REST API: dicts in, dicts out, errors raised."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from uuid import UUID

from entrypoints.client.errors import ApiUnreachableError, ClientError, ProblemError

# httpx is imported where a request is made: the server processes import the client with the
# rest of the command line, and never call the API.
if TYPE_CHECKING:
    import httpx

API_PREFIX = "/api/v1"
DEFAULT_URL = "http://127.0.0.1:8000"
TIMEOUT_SECONDS = 30.0


def normalise_url(url: str) -> str:
    """The server's root URL, whether given with or without /api/v1 and a trailing slash."""
    import httpx

    root = url.strip().rstrip("/").removesuffix(API_PREFIX).rstrip("/")
    try:
        parsed = httpx.URL(root)
    except httpx.InvalidURL:
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise ClientError(f"not an API address: {url!r} (expected e.g. {DEFAULT_URL})")
    return root


class ApiClient:
    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        import httpx

        self.url = normalise_url(url)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(
            base_url=self.url + API_PREFIX,
            headers=headers,
            timeout=TIMEOUT_SECONDS,
            transport=transport,
        )

    def login(self, email: str, password: str) -> dict[str, Any]:
        """{access_token, token_type, expires_in}; the OAuth2 password form takes the email."""
        return self._request("POST", "/auth/token", data={"username": email, "password": password})

    def submit_task(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._request("POST", "/tasks", json=body)

    def get_task(self, task_id: UUID) -> dict[str, Any]:
        return self._request("GET", f"/tasks/{task_id}")

    def list_tasks(self, **filters: Any) -> dict[str, Any]:
        """One page {items, next_cursor}; filters that are None are left out."""
        params = {key: str(value) for key, value in filters.items() if value is not None}
        return self._request("GET", "/tasks", params=params)

    def cancel_task(self, task_id: UUID) -> dict[str, Any]:
        return self._request("POST", f"/tasks/{task_id}/cancel")

    def task_events(self, task_id: UUID) -> Iterator[dict[str, Any]]:
        """The task as each of its status and progress events shows it, first its current
        state, until the stream ends (after the terminal event). Raises httpx.HTTPError when
        the stream cannot be had or breaks; the caller falls back to polling."""
        for kind, data in self.task_event_stream(task_id):
            if kind != "log":
                yield data

    def task_event_stream(self, task_id: UUID) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every event of the task's stream as (event name, data), until it ends."""
        import httpx

        # No read timeout: a quiet stream sends a heartbeat comment every 15 s or so.
        timeout = httpx.Timeout(TIMEOUT_SECONDS, read=60.0)
        with self._http.stream("GET", f"/tasks/{task_id}/events", timeout=timeout) as stream:
            stream.raise_for_status()
            kind = "message"  # SSE's default event name
            for line in stream.iter_lines():
                if line.startswith("event: "):
                    kind = line[len("event: ") :]
                elif line.startswith("data: "):
                    yield kind, json.loads(line[len("data: ") :])
                elif not line:
                    kind = "message"

    def create_schedule(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._request("POST", "/schedules", json=body)

    def list_schedules(self, **filters: Any) -> dict[str, Any]:
        """One page {items, next_cursor}; filters that are None are left out."""
        params = {key: str(value) for key, value in filters.items() if value is not None}
        return self._request("GET", "/schedules", params=params)

    def get_schedule(self, schedule_id: UUID) -> dict[str, Any]:
        return self._request("GET", f"/schedules/{schedule_id}")

    def schedule_action(self, schedule_id: UUID, action: str) -> dict[str, Any]:
        """pause, resume (the schedule back) or trigger (the ledger row of the run)."""
        return self._request("POST", f"/schedules/{schedule_id}/{action}")

    def delete_schedule(self, schedule_id: UUID) -> None:
        self._request("DELETE", f"/schedules/{schedule_id}", empty=True)

    def submit_workflow(self, body: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        params = {"dry_run": "true"} if dry_run else None
        return self._request("POST", "/workflows", json=body, params=params)

    def get_workflow(self, workflow_id: UUID) -> dict[str, Any]:
        return self._request("GET", f"/workflows/{workflow_id}")

    def list_workflows(self, **filters: Any) -> dict[str, Any]:
        params = {key: str(value) for key, value in filters.items() if value is not None}
        return self._request("GET", "/workflows", params=params)

    def cancel_workflow(self, workflow_id: UUID) -> dict[str, Any]:
        return self._request("POST", f"/workflows/{workflow_id}/cancel")

    def task_attempts(self, task_id: UUID) -> dict[str, Any]:
        return self._request("GET", f"/tasks/{task_id}/attempts")

    def task_logs(self, task_id: UUID, cursor: str | None = None) -> dict[str, Any]:
        """One page {items, next_cursor, task_status} of the task's log, after `cursor`."""
        params = {"cursor": cursor} if cursor else {}
        return self._request("GET", f"/tasks/{task_id}/logs", params=params)

    def retry_task(self, task_id: UUID) -> dict[str, Any]:
        return self._request("POST", f"/tasks/{task_id}/retry")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _request(
        self, method: str, path: str, *, empty: bool = False, **options: Any
    ) -> dict[str, Any]:
        """The answer's JSON object; with `empty`, an answer without a body (204) is {}."""
        import httpx

        try:
            response = self._http.request(method, path, **options)
        except httpx.TimeoutException:
            raise ApiUnreachableError(
                f"the taskhub API at {self.url} did not answer within {TIMEOUT_SECONDS:g} s"
            ) from None
        except httpx.TransportError as exc:
            raise ApiUnreachableError(
                f"cannot reach the taskhub API at {self.url} ({exc}); is it running?"
            ) from None
        if response.is_error:
            raise ProblemError.of(response.status_code, response.reason_phrase, _json(response))
        if empty and not response.content:
            return {}
        body = _json(response)
        if not isinstance(body, dict):
            raise ClientError(f"{self.url} did not answer like a taskhub API")
        return body


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
