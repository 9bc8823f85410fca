"""Figures (median of runs, with min and max), the targets they are held to, the table."""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

RESULTS = Path(__file__).with_name("results")


@dataclass
class Figure:
    runs: list[float]
    unit: str

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    def show(self) -> str:
        if len(self.runs) == 1:
            return f"{_fmt(self.median)} {self.unit}"
        return f"{_fmt(self.median)} {self.unit} [{_fmt(min(self.runs))}-{_fmt(max(self.runs))}]"


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}" if value < 10 else f"{value:.1f}"


def percentile(samples: Sequence[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Row:
    backend: str
    metric: str
    taskhub: Figure
    reference: Figure | None = None
    target: str = ""
    ratio: float | None = None
    met: bool | None = None


@dataclass
class Report:
    machine: dict[str, Any]
    settings: dict[str, Any]
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(
        self,
        backend: str,
        metric: str,
        taskhub: Figure,
        reference: Figure | None = None,
        *,
        target: str = "",
        ratio: float | None = None,
        check: Callable[[float], bool] | None = None,
    ) -> None:
        if ratio is None and reference is not None:
            ratio = taskhub.median / reference.median
        value = ratio if ratio is not None else taskhub.median
        met = check(value) if check else None
        self.rows.append(Row(backend, metric, taskhub, reference, target, ratio, met))

    def table(self) -> Table:
        table = Table(title="taskhub benchmarks: median of runs [min-max]")
        for column in ("db", "metric", "taskhub", "reference", "ratio", "target", "met"):
            table.add_column(column, no_wrap=column not in ("metric", "reference"))
        for row in self.rows:
            met = {True: "[green]yes[/]", False: "[red]NO[/]", None: ""}[row.met]
            table.add_row(
                row.backend,
                row.metric,
                row.taskhub.show(),
                row.reference.show() if row.reference else "",
                f"{row.ratio:.2f}x" if row.ratio is not None else "",
                row.target,
                met,
            )
        return table

    def print(self, console: Console) -> None:
        console.print(self.table())
        for note in self.notes:
            console.print(f"• {note}")

    def save(self) -> Path:
        RESULTS.mkdir(exist_ok=True)
        now = datetime.now(UTC)
        path = RESULTS / f"{now:%Y-%m-%d}.json"
        document = {"date": now.isoformat(timespec="seconds"), **asdict(self)}
        for row in document["rows"]:
            for key in ("taskhub", "reference"):
                if row[key] is not None:
                    row[key]["median"] = statistics.median(row[key]["runs"])
        path.write_text(json.dumps(document, indent=2) + "\n")
        return path
