"""A dependency probe for tests: a service that answers, or is down, as the test says."""

from __future__ import annotations

from dataclasses import dataclass

from application.errors import DependencyUnavailableError
from application.ports import DependencyProbe


@dataclass
class FixedProbe(DependencyProbe):
    """Answers while `down` is false; set it to have the service go away mid-test."""

    name: str
    down: bool = False

    def check(self) -> None:
        if self.down:
            raise DependencyUnavailableError(
                f"{self.name} refused the connection", dependency=self.name
            )
