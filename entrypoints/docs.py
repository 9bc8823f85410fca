"""`taskhub docs`: the parts of docs/architecture.md generated from the code.

The state diagrams are drawn from the transition tables, the configuration reference from the
settings' fields. Each lives in the document between `<!-- generated:NAME -->` and
`<!-- /generated:NAME -->`; everything else in the document is written by hand.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from pydantic_settings import BaseSettings

from domain import model as model_module
from domain import task as task_module
from domain.model import Model, ModelStatus
from domain.task import Task, TaskStatus
from entrypoints.container import Settings

ROOT = Path(__file__).resolve().parents[1]
ARCHITECTURE = ROOT / "docs" / "architecture.md"

S = TypeVar("S", bound=enum.Enum)

# Edge labels: the entity method that makes each move, and a note. Only the labels live
# here; the edges come from the tables, so a new transition shows up unlabelled and a label
# whose edge is gone fails tests/docs. `None` as the source labels the entry arrow.
TASK_LABELS: dict[tuple[TaskStatus | None, TaskStatus], str] = {
    (None, TaskStatus.PENDING): "submit",
    (TaskStatus.PENDING, TaskStatus.RUNNING): "start (claim, new run token)",
    (TaskStatus.PENDING, TaskStatus.CANCELLED): "cancel",
    (TaskStatus.RUNNING, TaskStatus.COMPLETED): "complete",
    (TaskStatus.RUNNING, TaskStatus.FAILED): (
        "fail or stop_overrun (or retry or abandon_run with no attempts left)"
    ),
    (TaskStatus.RUNNING, TaskStatus.CANCELLED): "cancel",
    (TaskStatus.RUNNING, TaskStatus.PENDING): "retry or abandon_run (attempts left)",
    (TaskStatus.WAITING, TaskStatus.PENDING): "release (every dependency completed)",
    (TaskStatus.WAITING, TaskStatus.CANCELLED): "cancel (or a dependency failed)",
}
MODEL_LABELS: dict[tuple[ModelStatus | None, ModelStatus], str] = {
    (None, ModelStatus.REGISTERED): "register",
    (ModelStatus.REGISTERED, ModelStatus.VALIDATING): "start_validation",
    (ModelStatus.VALIDATING, ModelStatus.VALIDATED): "mark_validated",
    (ModelStatus.VALIDATING, ModelStatus.INVALID): "mark_invalid",
    (ModelStatus.VALIDATING, ModelStatus.REGISTERED): "abandon_request (task cancelled)",
    (ModelStatus.VALIDATED, ModelStatus.DEPLOYING): "start_deployment",
    (ModelStatus.VALIDATED, ModelStatus.VALIDATING): "start_validation (again)",
    (ModelStatus.VALIDATED, ModelStatus.REGISTERED): "replace_artifact",
    (ModelStatus.INVALID, ModelStatus.VALIDATING): "start_validation (again)",
    (ModelStatus.INVALID, ModelStatus.REGISTERED): "replace_artifact",
    (ModelStatus.DEPLOYING, ModelStatus.DEPLOYED): "mark_deployed",
    (ModelStatus.DEPLOYING, ModelStatus.DEPLOYMENT_FAILED): "mark_deployment_failed",
    (ModelStatus.DEPLOYING, ModelStatus.VALIDATED): "abandon_request (task cancelled)",
    (ModelStatus.DEPLOYED, ModelStatus.DEPLOYING): "start_deployment (redeploy)",
    (ModelStatus.DEPLOYED, ModelStatus.REGISTERED): "replace_artifact",
    (ModelStatus.DEPLOYMENT_FAILED, ModelStatus.DEPLOYING): "start_deployment (again)",
    (ModelStatus.DEPLOYMENT_FAILED, ModelStatus.VALIDATING): "start_validation (again)",
    (ModelStatus.DEPLOYMENT_FAILED, ModelStatus.REGISTERED): "replace_artifact",
}

_BLOCK = re.compile(
    r"(?P<open><!-- generated:(?P<name>[\w-]+) -->\n)(?P<body>.*?)"
    r"(?P<close><!-- /generated:(?P=name) -->)",
    re.DOTALL,
)


class DocumentError(ValueError):
    """The document lacks the markers of a generated block, or names one nobody generates."""


@dataclass(frozen=True)
class StateMachine(Generic[S]):
    """A transition table, the state an entity starts in, and the labels of its edges."""

    transitions: Mapping[S, frozenset[S]]
    initial: S
    labels: Mapping[tuple[S | None, S], str]

    def edges(self) -> list[tuple[S, S]]:
        """Every (from, to) of the table, in the order the states are declared."""
        order = list(type(self.initial))
        return [
            (source, target)
            for source in order
            for target in sorted(self.transitions.get(source, ()), key=order.index)
        ]

    def terminal(self) -> list[S]:
        return [state for state in type(self.initial) if not self.transitions.get(state)]


def initial_status(entity: type[Any]) -> Any:
    """The status an entity is created in: the default of its `status` field."""
    return {f.name: f for f in dataclasses.fields(entity)}["status"].default


def task_state_machine() -> StateMachine[TaskStatus]:
    # Looked up on the module at each call, so what is drawn is the table as it is now.
    return StateMachine(task_module.TRANSITIONS, initial_status(Task), TASK_LABELS)


def model_state_machine() -> StateMachine[ModelStatus]:
    return StateMachine(model_module.MODEL_TRANSITIONS, initial_status(Model), MODEL_LABELS)


def state_diagram(machine: StateMachine[Any]) -> str:
    """A Mermaid stateDiagram-v2 of `machine`, in a fenced code block."""
    lines = ["```mermaid", "stateDiagram-v2"]
    lines.append(_arrow("[*]", machine.initial.value, machine.labels.get((None, machine.initial))))
    for source, target in machine.edges():
        lines.append(_arrow(source.value, target.value, machine.labels.get((source, target))))
    lines.extend(_arrow(state.value, "[*]", None) for state in machine.terminal())
    lines.append("```")
    return "\n".join(lines)


def _arrow(source: str, target: str, label: str | None) -> str:
    return f"    {source} --> {target}" + (f": {label}" if label else "")


def settings_table(settings: type[BaseSettings] = Settings) -> str:
    """A Markdown table of every setting: its environment variable, default and description."""
    prefix = str(settings.model_config.get("env_prefix", ""))
    rows = ["| variable | default | description |", "|---|---|---|"]
    for name, field in settings.model_fields.items():
        variable = (prefix + name).upper()
        description = _cell(field.description or "")
        rows.append(f"| `{variable}` | {_default(field)} | {description} |")
    return "\n".join(rows)


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "*(required)*"
    value = field.get_default(call_default_factory=True)
    if value is None or value is PydanticUndefined:
        return "*(unset)*"
    if isinstance(value, SecretStr):
        return "*(a development-only value)*"
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool):
        value = str(value).lower()
    text = str(value)
    return f"`{_cell(text)}`" if text else "*(empty)*"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def generated_blocks() -> dict[str, str]:
    """What belongs between each pair of markers, by block name."""
    return {
        "task-states": state_diagram(task_state_machine()),
        "model-states": state_diagram(model_state_machine()),
        "settings": settings_table(),
    }


def render(document: str, blocks: Mapping[str, str]) -> str:
    """`document` with the body of every generated block replaced by what `blocks` holds."""
    seen: set[str] = set()

    def replace(match: re.Match[str]) -> str:
        name = match["name"]
        if name not in blocks:
            raise DocumentError(f"no generator for the block <!-- generated:{name} -->")
        seen.add(name)
        return f"{match['open']}{blocks[name]}\n{match['close']}"

    rendered = _BLOCK.sub(replace, document)
    missing = sorted(blocks.keys() - seen)
    if missing:
        raise DocumentError(
            "missing markers: "
            + ", ".join(f"<!-- generated:{n} --> ... <!-- /generated:{n} -->" for n in missing)
        )
    return rendered


def sync(path: Path = ARCHITECTURE, *, check: bool) -> tuple[int, str]:
    """Regenerate `path` (or with `check`, only compare); the exit code and what to print."""
    try:
        current = path.read_text(encoding="utf-8")
        expected = render(current, generated_blocks())
    except (OSError, DocumentError) as exc:
        return 2, f"{path}: {exc}"
    if current == expected:
        return 0, f"{path} is up to date"
    if check:
        diff = difflib.unified_diff(
            current.splitlines(keepends=True),
            expected.splitlines(keepends=True),
            fromfile=f"{path} (committed)",
            tofile=f"{path} (generated)",
        )
        return 1, "".join(diff) + "\nthe generated blocks are out of date: run `taskhub docs`"
    path.write_text(expected, encoding="utf-8")
    return 0, f"{path} regenerated"
