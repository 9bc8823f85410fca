"""Where the shapes of the console's server-drawn SVG pictures go: a workflow's graph laid
out in columns by dependency level, and a numeric series as a line chart. Presentation
only: the levels come from the domain's Graph, the numbers from the use cases."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from application.workflows import WorkflowView
from domain.task import Task
from domain.workflow import Graph, Node

NODE_WIDTH = 168
NODE_HEIGHT = 48
COLUMN_GAP = 56
ROW_GAP = 16
MARGIN = 8


@dataclass(frozen=True, slots=True)
class PlacedTask:
    task: Task
    key: str
    x: int
    y: int


@dataclass(frozen=True, slots=True)
class Edge:
    """A dependency, drawn from the right side of the task depended on to the left side of
    the task that waits for it, as an SVG path."""

    parent: str
    child: str
    path: str


@dataclass(frozen=True, slots=True)
class GraphDrawing:
    width: int
    height: int
    nodes: list[PlacedTask]
    edges: list[Edge]
    node_width: int = NODE_WIDTH
    node_height: int = NODE_HEIGHT


def workflow_graph(view: WorkflowView) -> GraphDrawing:
    """Each level of the graph a column, left to right; in a column, tasks top to bottom in
    the order submitted."""
    by_key = {task.workflow_key: task for task in view.tasks if task.workflow_key}
    graph = Graph([Node(key, tuple(task.depends_on)) for key, task in by_key.items()], checked=True)
    levels = graph.levels() if by_key else []
    placed: dict[str, PlacedTask] = {}
    for column, keys in enumerate(levels):
        for row, key in enumerate(keys):
            x = MARGIN + column * (NODE_WIDTH + COLUMN_GAP)
            y = MARGIN + row * (NODE_HEIGHT + ROW_GAP)
            placed[key] = PlacedTask(by_key[key], key, x, y)
    edges = [
        Edge(parent, node.key, _curve(placed[parent], node))
        for node in placed.values()
        for parent in node.task.depends_on
        if parent in placed
    ]
    tallest = max((len(keys) for keys in levels), default=0)
    return GraphDrawing(
        width=2 * MARGIN + max(len(levels) * (NODE_WIDTH + COLUMN_GAP) - COLUMN_GAP, 0),
        height=2 * MARGIN + max(tallest * (NODE_HEIGHT + ROW_GAP) - ROW_GAP, 0),
        nodes=list(placed.values()),
        edges=edges,
    )


def _curve(parent: PlacedTask, child: PlacedTask) -> str:
    x1, y1 = parent.x + NODE_WIDTH, parent.y + NODE_HEIGHT // 2
    x2, y2 = child.x, child.y + NODE_HEIGHT // 2
    middle = (x1 + x2) // 2
    return f"M{x1},{y1} C{middle},{y1} {middle},{y2} {x2},{y2}"


CHART_WIDTH = 600
CHART_HEIGHT = 200
CHART_PADDING = 32


@dataclass(frozen=True, slots=True)
class LineChart:
    """A series of numbers as a polyline in a `width` x `height` box, with its least and
    greatest values for the axis labels."""

    title: str
    points: str
    low: float
    high: float
    count: int
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    padding: int = CHART_PADDING


def line_chart(title: str, values: Sequence[float]) -> LineChart:
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    inner_width = CHART_WIDTH - 2 * CHART_PADDING
    inner_height = CHART_HEIGHT - 2 * CHART_PADDING
    step = inner_width / max(len(values) - 1, 1)
    points = " ".join(
        f"{CHART_PADDING + index * step:.1f},"
        f"{CHART_PADDING + inner_height - (value - low) / span * inner_height:.1f}"
        for index, value in enumerate(values)
    )
    return LineChart(title, points, low, high, len(values))
