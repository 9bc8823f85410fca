"""What the event endpoints answer besides the stream itself."""

from __future__ import annotations

from pydantic import BaseModel


class StreamTokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the scheme's name, not a secret
    expires_in: int
