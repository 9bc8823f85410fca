"""Every internal link of the README and the docs resolves; the README leads to every guide."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs.markdown import (
    ROOT,
    Link,
    anchors,
    documents,
    github_slug,
    is_external,
    link_problem,
    links,
)

README = ROOT / "README.md"
ADR_DIR = ROOT / "docs" / "adr"
ADRS = sorted(ADR_DIR.glob("[0-9][0-9][0-9][0-9]-*.md"))


def internal_links(document: Path) -> list[Link]:
    return [link for link in links(document) if not is_external(link.target)]


@pytest.mark.parametrize("document", documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_internal_link_resolves(document: Path) -> None:
    broken = [f"{link}: {why}" for link in internal_links(document) if (why := link_problem(link))]

    assert broken == []


def test_the_documents_have_links_to_check() -> None:
    assert len(documents()) >= 5
    assert sum(len(internal_links(document)) for document in documents()) >= 30


@pytest.mark.parametrize(
    "target",
    ["docs/architecture.md", "docs/adding-a-task-type.md", "docs/adding-an-adapter.md", "docs/adr"],
)
def test_the_readme_links_to(target: str) -> None:
    linked = {(ROOT / link.target.partition("#")[0]).resolve() for link in internal_links(README)}

    assert (ROOT / target).resolve() in linked


def test_every_decision_record_is_in_the_index() -> None:
    indexed = {Path(link.target).name for link in internal_links(ADR_DIR / "README.md")}

    assert [adr.name for adr in ADRS if adr.name not in indexed] == []


@pytest.mark.parametrize("adr", ADRS, ids=lambda p: p.name[:4])
def test_every_decision_record_has_context_decision_and_consequences(adr: Path) -> None:
    number = int(adr.name[:4])

    assert adr.read_text(encoding="utf-8").startswith(f"# {number}. ")
    assert {"context", "decision", "consequences"} <= anchors(adr)


# --- the checker itself --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        ("A five-minute tour", "a-five-minute-tour"),
        ("Queues and routing", "queues-and-routing"),
        ("1. The arguments", "1-the-arguments"),
        ("Periodic jobs (Beat)", "periodic-jobs-beat"),
        ("The `taskhub dev` stack", "the-taskhub-dev-stack"),
        ("Ports & adapters", "ports--adapters"),
        ("See [the guide](x.md)", "see-the-guide"),
        ("snake_case stays", "snake_case-stays"),
    ],
)
def test_headings_get_githubs_anchors(heading: str, slug: str) -> None:
    assert github_slug(heading) == slug


def test_a_repeated_heading_gets_a_numbered_anchor(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Title\n## Checklist\n## Checklist\n```sh\n# not a heading\n```\n")

    assert anchors(page) == {"title", "checklist", "checklist-1"}


def test_broken_links_are_reported(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other\n## Somewhere\n")
    (tmp_path / "code.py").write_text("")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n[ok](other.md#somewhere) [ok](#page) [ok](https://example.com/x.md)\n"
        "[gone](missing.md) [no anchor](other.md#nowhere) [here](#nowhere) [py](code.py#L1)\n"
        "[out](../../outside.md) `[in code](missing.md)`\n"
        "[ref]: missing-too.md\n"
    )

    problems = {
        link.target: link_problem(link, root=tmp_path)
        for link in links(page)
        if not is_external(link.target)
    }

    assert problems == {
        "other.md#somewhere": None,
        "#page": None,
        "missing.md": "no such file or directory",
        "other.md#nowhere": "no heading with the anchor #nowhere in other.md",
        "#nowhere": "no heading with the anchor #nowhere in page.md",
        "code.py#L1": "an anchor into a file that is not Markdown",
        "../../outside.md": "points outside the repository",
        "missing-too.md": "no such file or directory",
    }
