"""Whether every service taskhub depends on answers right now."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from application.errors import DependencyUnavailableError
from application.ports import DependencyProbe


@dataclass(frozen=True, slots=True)
class Readiness:
    checks: dict[str, str]  # dependency name -> "ok" or why it is down

    @property
    def ready(self) -> bool:
        return all(state == "ok" for state in self.checks.values())


@dataclass(frozen=True, slots=True)
class CheckReadiness:
    probes: Sequence[DependencyProbe]

    def execute(self) -> Readiness:
        checks = {}
        for probe in self.probes:
            try:
                probe.check()
                checks[probe.name] = "ok"
            except DependencyUnavailableError as exc:
                checks[probe.name] = str(exc)  # the detail, and the cause when known
        return Readiness(checks)
