"""Every module, class, function and setting the docs name exists; excerpts match their source."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from application import ports
from tests.docs.markdown import ROOT, fenced_blocks, without_generated_blocks
from tests.docs.references import problem, references

ARCHITECTURE = ROOT / "docs" / "architecture.md"
DOCUMENTS = [ARCHITECTURE, *sorted((ROOT / "docs").glob("adding-*.md"))]
# Fewer than this many checked references would mean the parser stopped seeing them.
AT_LEAST = {"architecture.md": 100, "adding-a-task-type.md": 15, "adding-an-adapter.md": 25}
EXCERPT_HEADER = re.compile(r"# from (?P<path>\S+)\n")


def checked_references(document: Path) -> list[str]:
    return references(without_generated_blocks(document.read_text(encoding="utf-8")))


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_everything_the_document_names_exists(document: Path) -> None:
    unresolved = {ref: why for ref in checked_references(document) if (why := problem(ref))}

    assert unresolved == {}


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_the_check_sees_the_documents_references(document: Path) -> None:
    assert len(checked_references(document)) >= AT_LEAST[document.name]


def test_the_guides_are_checked() -> None:
    assert sorted(p.name for p in DOCUMENTS[1:]) == [
        "adding-a-task-type.md",
        "adding-an-adapter.md",
    ]


@pytest.mark.parametrize(
    "reference",
    [
        "application/use_cases/submit_task.py:SubmitTask",
        "application/running/run_task.py:RunTask.execute",
        "adapters/in_memory/clock.py:FixedClock",
        "adapters/celery/topology.py",
        "docs/adr/",
        "routers/tasks.py",
        "in_memory/",
        "policy.py",
        "examples.word_count",
        "entrypoints.http.app:create_app",
        "adapters.task_types.builtin.builtin_registry",
        "SubmitTask",
        "RunTask.execute",
        "ModelStatus.VALIDATING",
        "Task.status",
        "Settings.database_url",
        "ctx.progress(percent, message)",
        "TASKHUB_TASK_MODULES",
        "TASKHUB_TEST_REDIS_URL",
    ],
)
def test_each_kind_of_reference_resolves(reference: str) -> None:
    assert problem(reference) is None


@pytest.mark.parametrize(
    ("reference", "why"),
    [
        ("application/use_cases/submit_task.py:SubmitTusk", "has no attribute SubmitTusk"),
        ("application/running/run_task.py:RunTask.walk", "RunTask has no attribute walk"),
        ("adapters/celery/topolgy.py", "no such file"),
        ("docs/adr/0001-hexagonal-layers-and-a-sync-core.md:Context", "not a Python module"),
        ("adapters/nowhere/", "no such file"),
        ("examples.sentence_count", "has no attribute sentence_count"),
        ("SubmitTasks", "no first-party module"),
        ("RunTask.walk", "has no attribute walk"),
        ("ctx.report", "TaskContext has no attribute report"),
        ("TASKHUB_" + "NO_SUCH_SETTING", "neither a setting"),
    ],
)
def test_a_name_that_does_not_exist_is_reported(reference: str, why: str) -> None:
    assert why in (problem(reference) or "")


def test_references_are_read_from_code_spans_mermaid_blocks_and_variables_only() -> None:
    text = "\n".join(
        [
            "`SubmitTask` and `adapters/clock.py:SystemClock`, not SubmitTask in prose;",
            "`the phrase`, `high_priority`, `SKIP LOCKED` and `.taskhub/` are no references.",
            "```python",
            "CompleteTask  # code blocks other than Mermaid are examples, not checked",
            "```",
            "```mermaid",
            "sequenceDiagram",
            "    participant R as entrypoints/http/routers/tasks.py:submit_task",
            "    R->>S: SubmitTask.execute on Redis, set TASKHUB_BROKER_URL",
            "```",
        ]
    )

    found = references(text)

    assert found == [
        "SubmitTask",
        "adapters/clock.py:SystemClock",
        "entrypoints/http/routers/tasks.py:submit_task",
        "SubmitTask.execute",
        "TASKHUB_BROKER_URL",
    ]


def test_every_port_is_in_the_ports_table() -> None:
    section = ARCHITECTURE.read_text(encoding="utf-8").split("## Ports and adapters")[1]
    table = section.split("\n## ")[0]
    protocols = [
        name
        for name, value in vars(ports).items()
        if isinstance(value, type)
        and inspect.isabstract(value)
        and value.__module__ == ports.__name__
    ]

    missing = [name for name in protocols if f"`{name}`" not in table]

    assert len(protocols) >= 10
    assert missing == [], "add a row for each port to the table in docs/architecture.md"


def excerpts() -> list[tuple[str, str, str]]:
    found = []
    for document in sorted((ROOT / "docs").rglob("*.md")):
        for _, body in fenced_blocks(document.read_text(encoding="utf-8")):
            header = EXCERPT_HEADER.match(body)
            if header:
                found.append((document.name, header["path"], body[header.end() :]))
    return found


@pytest.mark.parametrize(
    ("document", "source", "excerpt"), excerpts(), ids=lambda value: value.split("\n")[0][:40]
)
def test_every_excerpt_is_still_in_its_source_file(
    document: str, source: str, excerpt: str
) -> None:
    """A code block starting `# from path` claims to be a verbatim copy of part of that file."""
    text = (ROOT / source).read_text(encoding="utf-8")

    assert excerpt.strip("\n") in text, f"{document}: the excerpt from {source} no longer matches"


def test_the_task_type_guide_quotes_its_example() -> None:
    assert {source for _, source, _ in excerpts()} >= {
        "examples/word_count.py",
        "tests/docs/test_examples.py",
    }


def ports_table_rows() -> list[list[str]]:
    section = ARCHITECTURE.read_text(encoding="utf-8").split("## Ports and adapters")[1]
    lines = [line for line in section.split("\n## ")[0].splitlines() if line.startswith("| `")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]


def test_each_port_has_exactly_one_row_in_the_ports_table() -> None:
    ports_named = [row[0].split("`")[1] for row in ports_table_rows()]

    assert sorted(ports_named) == sorted(set(ports_named))


def test_each_port_names_its_in_memory_adapter_or_the_text_says_why_it_has_none() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8").split("## Ports and adapters")[1]
    without = [
        row[0].split("`")[1] for row in ports_table_rows() if "adapters/in_memory/" not in row[2]
    ]

    explained = text.split("in `adapters/in_memory/` but five:")[1].split(".")[0]
    assert sorted(without) == [
        "CronCalendar",
        "DispatchRecorder",
        "RunObserver",
        "RunSupervisor",
        "TaskExecutor",
    ]
    assert all(f"`{port}`" in explained for port in without)


def test_the_adapter_guide_quotes_the_real_contract_tests_and_test_wiring() -> None:
    quoted = {source for document, source, _ in excerpts() if document == "adding-an-adapter.md"}

    assert quoted >= {
        "tests/integration/security/test_login_throttle_contract.py",
        "tests/unit/http/conftest.py",
    }


ADAPTER_GUIDE = ROOT / "docs" / "adding-an-adapter.md"
PERSISTENCE_TESTS = ROOT / "tests" / "integration" / "persistence"


def ports_without_an_in_memory_twin() -> set[str]:
    return {
        row[0].split("`")[1] for row in ports_table_rows() if "adapters/in_memory/" not in row[2]
    }


def test_the_adapter_guide_names_the_ports_without_a_twin_as_the_ports_table_does() -> None:
    introduction = ADAPTER_GUIDE.read_text(encoding="utf-8").split("The worked example")[0]
    ports_named = {name for name in re.findall(r"`(\w+)`", introduction) if hasattr(ports, name)}

    assert ports_named == ports_without_an_in_memory_twin()


def fixture_names(tree: ast.Module) -> dict[str, set[str]]:
    """Each fixture a module defines, with the names of the fixtures it takes."""
    return {
        node.name: {arg.arg for arg in node.args.args}
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and any("fixture" in ast.unparse(decorator) for decorator in node.decorator_list)
    }


def split_by_store(path: Path) -> tuple[set[str], set[str]]:
    """The tests of a file that run on `new_uow` (every store, the in-memory one included),
    directly or through a fixture that takes it, and the file's other tests."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    fixtures = fixture_names(ast.parse((path.parent / "conftest.py").read_text(encoding="utf-8")))
    fixtures |= fixture_names(tree)
    on_new_uow = {"new_uow"}
    while grown := {n for n, args in fixtures.items() if args & on_new_uow} - on_new_uow:
        on_new_uow |= grown
    tests = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]
    every_store = {t.name for t in tests if {a.arg for a in t.args.args} & on_new_uow}
    return every_store, {t.name for t in tests} - every_store


def test_the_adapter_guide_lists_exactly_the_persistence_contract_files() -> None:
    guide = ADAPTER_GUIDE.read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `(test_\w+\.py)` \|", guide, flags=re.MULTILINE))
    split = {path.name: split_by_store(path) for path in PERSISTENCE_TESTS.glob("test_*.py")}

    assert listed == {name for name, (every_store, _) in split.items() if every_store}


def test_the_adapter_guide_names_the_persistence_tests_a_new_store_does_not_run() -> None:
    guide = ADAPTER_GUIDE.read_text(encoding="utf-8")
    persistence = guide.split("**Persistence works the same way**")[1].split("- **Test only")[0]
    after_the_table = persistence.rsplit("|\n", 1)[1]
    split = {path.name: split_by_store(path) for path in PERSISTENCE_TESTS.glob("test_*.py")}

    named = set(re.findall(r"`(test_\w+\.py)`", after_the_table))
    assert named == {name for name, (_, sql_only) in split.items() if sql_only}
