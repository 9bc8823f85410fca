"""A dependency probe for tests: a service that answers, or is down, as the test says."""

from __future__ import annotations

from dataclasses import dataclass

from application.errors import DependencyUnavailableError
from application.ports import DependencyProbe


@dataclass
class FixedProbe(DependencyProbe):
    """Answers while `down` is false; set it to have the service go away mid-test."""

    service: str
    down: bool = False

    @property
    def name(self) -> str:
        return self.service

    def check(self) -> None:
        if self.down:
            raise DependencyUnavailableError(
                f"{self.service} refused the connection", dependency=self.service
            )
