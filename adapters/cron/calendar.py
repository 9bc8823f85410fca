"""Cron expressions read by cronsim, in the schedule's IANA time zone (zoneinfo)."""

from __future__ import annotations

from datetime import UTC, datetime

from cronsim import CronSim, CronSimError

from application.ports import CronCalendar
from domain.errors import ValidationError
from domain.schedule import Cron, zone


class CronsimCalendar(CronCalendar):
    """cronsim walks wall-clock time in the zone the way Debian's cron does: a time skipped
    by a spring-forward change fires once right after the gap, a time repeated by a
    fall-back change fires once, at its first occurrence; a job of every hour or minute fires
    through both repeated hours. Five fields (minute to weekday), plus cronsim's `L`, `#`."""

    def check(self, cron: Cron) -> None:
        try:
            CronSim(cron.expression, datetime.now(zone(cron.timezone)))
        except CronSimError as exc:
            raise ValidationError(
                f"cron expression {cron.expression!r} is invalid: {exc}", field="cron"
            ) from None

    def next_after(self, cron: Cron, after: datetime) -> datetime:
        local = after.astimezone(zone(cron.timezone))
        for fire_time in CronSim(cron.expression, local):
            if fire_time > after:
                return fire_time.astimezone(UTC)
        raise ValidationError(  # pragma: no cover - cronsim iterates without end
            f"cron expression {cron.expression!r} never fires", field="cron"
        )
