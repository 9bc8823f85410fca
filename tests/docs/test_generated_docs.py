"""The generated blocks of docs/architecture.md are what the code generates, and the check bites."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import Field
from typer.testing import CliRunner

from config.settings import Settings
from domain import model as model_module
from domain import task as task_module
from domain.model import Model, ModelStatus
from domain.task import Task, TaskStatus
from entrypoints.cli import app
from entrypoints.docs import (
    ARCHITECTURE,
    DocumentError,
    StateMachine,
    generated_blocks,
    model_state_machine,
    render,
    settings_table,
    state_diagram,
    sync,
    task_state_machine,
)

MACHINES = [
    pytest.param(task_state_machine, Task, id="task"),
    pytest.param(model_state_machine, Model, id="model"),
]


@pytest.fixture
def failed_tasks_can_be_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    """A transition added to the domain, and nothing else changed."""
    monkeypatch.setitem(task_module.TRANSITIONS, TaskStatus.FAILED, frozenset({TaskStatus.PENDING}))


# --- the committed document --------------------------------------------------------------


def test_the_committed_architecture_document_is_what_taskhub_docs_generates() -> None:
    code, message = sync(ARCHITECTURE, check=True)

    assert code == 0, message


@pytest.mark.usefixtures("failed_tasks_can_be_retried")
def test_a_transition_added_to_the_domain_fails_the_check_with_a_diff() -> None:
    code, message = sync(ARCHITECTURE, check=True)

    assert code == 1
    assert "+    failed --> pending" in message
    assert "-    failed --> [*]" in message
    assert "run `taskhub docs`" in message


# --- the state diagrams --------------------------------------------------------------------


def test_a_new_task_transition_changes_only_the_task_diagram(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = generated_blocks()
    monkeypatch.setitem(task_module.TRANSITIONS, TaskStatus.FAILED, frozenset({TaskStatus.PENDING}))

    after = generated_blocks()

    assert after["task-states"] != before["task-states"]
    assert "    failed --> pending" in after["task-states"]
    assert "    failed --> [*]" not in after["task-states"]
    assert after["model-states"] == before["model-states"]


def test_a_removed_model_transition_leaves_the_model_diagram(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    statuses = frozenset({ModelStatus.DEPLOYING})
    monkeypatch.setitem(model_module.MODEL_TRANSITIONS, ModelStatus.DEPLOYED, statuses)

    diagram = state_diagram(model_state_machine())

    assert "deployed --> registered" not in diagram
    assert "    deployed --> deploying: start_deployment (redeploy)" in diagram


def test_the_task_diagram_enters_at_the_initial_status_and_leaves_from_terminal_ones() -> None:
    diagram = state_diagram(task_state_machine()).splitlines()

    assert diagram[:3] == ["```mermaid", "stateDiagram-v2", "    [*] --> pending: submit"]
    assert [line for line in diagram if line.endswith("--> [*]")] == [
        "    completed --> [*]",
        "    failed --> [*]",
        "    cancelled --> [*]",
    ]


def test_the_diagram_is_the_same_whatever_order_the_table_iterates_in() -> None:
    machine = task_state_machine()
    reversed_table = {
        status: frozenset(sorted(targets, reverse=True))
        for status, targets in reversed(list(machine.transitions.items()))
    }

    shuffled = StateMachine(reversed_table, machine.initial, machine.labels)

    assert state_diagram(shuffled) == state_diagram(machine)


def test_an_edge_without_a_label_is_still_drawn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(task_module.TRANSITIONS, TaskStatus.FAILED, frozenset({TaskStatus.PENDING}))

    assert "    failed --> pending\n" in state_diagram(task_state_machine())


@pytest.mark.parametrize(("machine", "entity"), MACHINES)
def test_every_transition_has_a_label(machine: type, entity: type) -> None:
    unlabelled = set(machine().edges()) - set(machine().labels)

    assert unlabelled == set(), "add a label for each new edge in entrypoints/docs.py"


@pytest.mark.parametrize(("machine", "entity"), MACHINES)
def test_every_label_names_an_edge_of_the_table_and_a_method_of_the_entity(
    machine: type, entity: type
) -> None:
    built = machine()
    edges = {*built.edges(), (None, built.initial)}

    stale = set(built.labels) - edges
    not_methods = [v for v in built.labels.values() if not callable(getattr(entity, v.split()[0]))]

    assert stale == set(), "these edges are gone from the table: drop their labels"
    assert not_methods == []


# --- the configuration reference -----------------------------------------------------------


def test_every_setting_is_in_the_reference_with_its_description() -> None:
    table = settings_table()

    for name, field in Settings.model_fields.items():
        assert f"| `TASKHUB_{name.upper()}` |" in table
        assert " ".join((field.description or "").split()) in table


def test_every_setting_has_a_description() -> None:
    undescribed = [name for name, field in Settings.model_fields.items() if not field.description]

    assert undescribed == [], "give each setting a Field(..., description=...)"


def test_a_new_setting_appears_in_the_reference() -> None:
    class MoreSettings(Settings):
        shiny_new_knob: int = Field(7, description="A knob | with a pipe.")

    table = settings_table(MoreSettings)

    assert table.splitlines()[-1] == "| `TASKHUB_SHINY_NEW_KNOB` | `7` | A knob \\| with a pipe. |"


def test_defaults_are_shown_as_an_operator_would_write_them() -> None:
    table = settings_table()

    assert "| `TASKHUB_WORKER_TASK_EVENTS` | `false` |" in table
    assert "| `TASKHUB_ENVIRONMENT` | `development` |" in table
    assert "| `TASKHUB_TASK_MODULES` | *(empty)* |" in table
    assert "| `TASKHUB_FLOWER_BASIC_AUTH` | *(unset)* |" in table
    assert "| `TASKHUB_SECRET_KEY` | *(unset)* |" in table


# --- the markers -----------------------------------------------------------------------------


def test_rendering_replaces_only_what_is_between_the_markers() -> None:
    document = "intro\n<!-- generated:a -->\nold\n<!-- /generated:a -->\noutro\n"

    rendered = render(document, {"a": "new"})

    assert rendered == "intro\n<!-- generated:a -->\nnew\n<!-- /generated:a -->\noutro\n"


def test_a_document_lacking_a_block_is_an_error() -> None:
    with pytest.raises(DocumentError, match="generated:b"):
        render("<!-- generated:a -->\n<!-- /generated:a -->", {"a": "x", "b": "y"})


def test_a_block_nobody_generates_is_an_error() -> None:
    with pytest.raises(DocumentError, match="no generator"):
        render("<!-- generated:zzz -->\n<!-- /generated:zzz -->", {})


# --- the command -----------------------------------------------------------------------------


@pytest.mark.usefixtures("failed_tasks_can_be_retried")
def test_taskhub_docs_check_exits_1_with_the_diff_and_changes_nothing() -> None:
    before = ARCHITECTURE.read_text(encoding="utf-8")

    result = CliRunner().invoke(app, ["docs", "--check"])

    assert result.exit_code == 1
    assert "+    failed --> pending" in result.output
    assert ARCHITECTURE.read_text(encoding="utf-8") == before


def test_taskhub_docs_rewrites_the_generated_blocks(tmp_path: Path) -> None:
    stale = tmp_path / "architecture.md"
    committed = ARCHITECTURE.read_text(encoding="utf-8")
    stale.write_text(committed.replace("completed: complete", "completed: finish"))

    rewritten = CliRunner().invoke(app, ["docs", "--path", str(stale)])
    checked = CliRunner().invoke(app, ["docs", "--check", "--path", str(stale)])

    assert rewritten.exit_code == 0, rewritten.output
    assert stale.read_text(encoding="utf-8") == committed
    assert checked.exit_code == 0, checked.output


def test_taskhub_docs_says_which_markers_are_missing(tmp_path: Path) -> None:
    bare = tmp_path / "bare.md"
    bare.write_text("# nothing generated here\n")

    result = CliRunner().invoke(app, ["docs", "--check", "--path", str(bare)])

    assert result.exit_code == 2
    assert "<!-- generated:task-states -->" in result.output
