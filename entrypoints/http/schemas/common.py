"""Schemas every resource shares: problem documents and strict request bodies."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from domain.text import LINE_BREAKS, first_forbidden_character


def _refuse_control_characters(allowed: frozenset[str]) -> AfterValidator:
    # The domain's rule, raised as pydantic expects, so the 422 names the field like any other.
    def check(text: str) -> str:
        problem = first_forbidden_character(text, allowed=allowed)
        if problem is not None:
            raise ValueError(f"must not contain {problem}")
        return text

    return AfterValidator(check)


# Every text a client sends: no control characters, no lone surrogates.
PlainText = Annotated[str, _refuse_control_characters(frozenset())]
# Prose (descriptions): line breaks and tabs too.
ProseText = Annotated[str, _refuse_control_characters(LINE_BREAKS)]


class StrictRequest(BaseModel):
    """A request body: unknown fields are refused, so nobody can set what they must not."""

    model_config = ConfigDict(extra="forbid")


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["urn:taskhub:problem:not_found"])
    title: str
    status: int
    detail: str
    instance: str
    errors: list[FieldError] | None = None


_DESCRIPTIONS = {
    401: "Missing, invalid or expired access token",
    403: "Not allowed for this account",
    404: "No such resource, or not yours",
    409: "Conflicts with the resource's current state",
    422: "Invalid input; `errors` names each field",
    429: "Quota or rate limit reached; see Retry-After",
    503: "A backing service is unavailable",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {
            "model": Problem,
            "description": _DESCRIPTIONS[status],
            "content": {"application/problem+json": {}},
        }
        for status in statuses
    }
