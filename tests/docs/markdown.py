"""Just enough Markdown for the docs tests: code spans, Mermaid blocks, links, heading anchors."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parents[2]

_FENCE = re.compile(
    r"^ {0,3}(?P<fence>`{3,}|~{3,})(?P<info>[^\n]*)\n(?P<body>.*?)^ {0,3}(?P=fence)[`~]*[ \t]*$",
    re.M | re.S,
)
_CODE_SPAN = re.compile(r"(?<!`)(?P<ticks>`+)(?!`)(?P<code>.+?)(?<!`)(?P=ticks)(?!`)", re.S)
_LINK = re.compile(
    r"!?\[(?P<text>[^\]]*)\]\(\s*(?P<target><[^>\n]*>|[^)\s]+)(?:\s+\"[^\"]*\")?\s*\)"
)
_REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[[^\]\n]+\]:\s*(?P<target>\S+)", re.M)
_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(?P<text>.*?)(?:[ \t]+#+)?[ \t]*$", re.M)
_HTML_ANCHOR = re.compile(r"<a\s+(?:name|id)=\"(?P<anchor>[^\"]+)\"")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//")
_GENERATED = re.compile(
    r"<!-- generated:(?P<name>[\w-]+) -->.*?<!-- /generated:(?P=name) -->", re.S
)


@dataclass(frozen=True)
class Link:
    source: Path
    target: str
    line: int

    def __str__(self) -> str:
        where = self.source.relative_to(ROOT) if self.source.is_relative_to(ROOT) else self.source
        return f"{where}:{self.line}: ({self.target})"


def documents() -> list[Path]:
    """README.md and every Markdown file under docs/."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(info string, body) of each fenced code block."""
    return [(m["info"].strip(), m["body"]) for m in _FENCE.finditer(text)]


def mermaid_blocks(text: str) -> list[str]:
    return [body for info, body in fenced_blocks(text) if info.split()[:1] == ["mermaid"]]


def prose(text: str) -> str:
    """`text` without its fenced code blocks (blanked, so line numbers stay)."""
    return _FENCE.sub(lambda m: _blank(m[0]), text)


def code_spans(text: str) -> list[str]:
    """The content of every inline code span outside fenced blocks."""
    return [" ".join(m["code"].split()) for m in _CODE_SPAN.finditer(prose(text))]


def links(path: Path) -> list[Link]:
    """Inline links, images and reference definitions outside code."""
    text = _CODE_SPAN.sub(lambda m: _blank(m[0]), prose(path.read_text(encoding="utf-8")))
    found = []
    for pattern in (_LINK, _REFERENCE_DEFINITION):
        for match in pattern.finditer(text):
            target = match["target"].strip("<>")
            found.append(Link(path, target, text.count("\n", 0, match.start()) + 1))
    return found


def without_generated_blocks(text: str) -> str:
    """`text` less what `taskhub docs` generates: that comes from the code, so it is honest."""
    return _GENERATED.sub(lambda m: _blank(m[0]), text)


def is_external(target: str) -> bool:
    return bool(_SCHEME.match(target))


def link_problem(link: Link, root: Path = ROOT) -> str | None:
    """Why an internal link does not resolve (file, then heading anchor), or None."""
    path, _, anchor = link.target.partition("#")
    target = (link.source.parent / unquote(path)).resolve() if path else link.source
    if not target.is_relative_to(root.resolve()):
        return "points outside the repository"
    if not target.exists():
        return "no such file or directory"
    if anchor and target.suffix != ".md":
        return "an anchor into a file that is not Markdown"
    if anchor and anchor not in anchors(target):
        return f"no heading with the anchor #{anchor} in {target.name}"
    return None


def anchors(path: Path) -> set[str]:
    """The fragment ids GitHub gives the file's headings, plus explicit <a id/name> anchors."""
    text = prose(path.read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    found = {m["anchor"] for m in _HTML_ANCHOR.finditer(text)}
    for match in _HEADING.finditer(text):
        slug = github_slug(match["text"])
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def github_slug(heading: str) -> str:
    """GitHub's id for a heading: its rendered text, lower-cased, punctuation but '-' and '_'
    dropped, each space a '-'."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links and images: their text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")


def _blank(text: str) -> str:
    return re.sub(r"[^\n]", " ", text)
