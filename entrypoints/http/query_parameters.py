"""Query parameters an endpoint does not declare are refused (422 naming each), on every
endpoint: a mistyped filter must never silently return everything."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError

# Per route object (they live as long as the app): the query parameter names it declares.
_declared: dict[int, frozenset[str]] = {}


async def refuse_unknown_query_parameters(request: Request) -> None:
    """A router dependency: every query parameter must be one the route's endpoint or its
    dependencies declare. async: it blocks on nothing, so no worker-thread hand-over."""
    if not request.query_params:
        return
    route = request.scope.get("route")
    dependant: Dependant | None = getattr(route, "dependant", None)
    if dependant is None:
        return
    declared = _declared.get(id(route))
    if declared is None:
        declared = _declared[id(route)] = frozenset(_query_names(dependant))
    unknown = [name for name in dict.fromkeys(request.query_params) if name not in declared]
    if unknown:
        takes = ", ".join(sorted(declared)) or "none"
        message = f"Unknown query parameter; this endpoint takes: {takes}"
        raise RequestValidationError(
            [
                {"type": "extra_forbidden", "loc": ("query", name), "msg": message}
                for name in unknown
            ]
        )


def _query_names(dependant: Dependant) -> Iterator[str]:
    yield from (param.alias for param in dependant.query_params)
    for sub in dependant.dependencies:
        yield from _query_names(sub)
