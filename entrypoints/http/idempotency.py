"""The Idempotency-Key header of submissions (IETF httpapi idempotency-key draft): the claim
a use case checks, made of the key and a fingerprint of the request."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated

from fastapi import Header, Request, Response
from pydantic import BaseModel

from application.idempotency import IdempotencyClaim

REPLAYED_HEADER = "Idempotent-Replayed"

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Makes the submission safe to retry: the same key with the same body "
        "returns the original tasks (201, `Idempotent-Replayed: true`); with another body "
        "it is refused (422); while the first is in progress, 409. Kept 24 hours.",
    ),
]


def claim_of(request: Request, key: str | None, body: BaseModel) -> IdempotencyClaim | None:
    """None without a key. The fingerprint covers the method, the path and the body as
    validated, so the same request spelled with other whitespace or key order matches."""
    if key is None:
        return None
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(f"{request.method} {request.url.path}\n{canonical}".encode())
    return IdempotencyClaim(key=key, fingerprint=digest.hexdigest())


def mark_replayed(response: Response, replayed: bool) -> None:
    if replayed:
        response.headers[REPLAYED_HEADER] = "true"
