"""Finding the code a document names, and checking that it exists.

Recognised, in inline code spans:
- `path/to/module.py:Name.attr` and `path/to/file_or_dir/`: the file must exist, the names
  must be attributes of the imported module. A path whose first part is not at the root
  (`routers/tasks.py`, `in_memory/`) must be the end of some path in the project.
- `package.module` and `package.module:Name.attr` for the first-party packages.
- `Name` and `Name.attr` starting with a capital, with a lower-case letter somewhere
  (`SubmitTask`, `RunTask.execute`, `ModelStatus.VALIDATING`): a class, function or constant
  defined or imported at the top of a first-party module. `ctx.name` means TaskContext's.
- a trailing call, `Name.attr(...)`, is ignored; paths starting with "." (`.taskhub/`) are
  made at run time and not checked.
In Mermaid blocks: path references and CamelCase names (`SubmitTask.execute`).
Anywhere: `TASKHUB_*` variables must be settings or appear in the project's Python code.
"""

from __future__ import annotations

import ast
import functools
import importlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from config.settings import Settings
from tests.docs.markdown import ROOT, code_spans, mermaid_blocks

PACKAGES = ("domain", "application", "adapters", "entrypoints", "config", "examples", "tests")
ALIASES = {"ctx": "application.ports:TaskContext"}
_SKIP_DIRS = {".venv", ".git", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
_FILE_SUFFIXES = (".py", ".md", ".toml", ".yaml", ".yml", ".ini", ".cfg", ".txt", ".json")

_ATTRS = r"(?:\.[A-Za-z_]\w*)*"
_PATH = re.compile(rf"(?P<path>[\w.-]+(?:/[\w.-]+)*/?)(?::(?P<attrs>[A-Za-z_]\w*{_ATTRS}))?")
_DOTTED = re.compile(
    rf"(?P<module>(?:{'|'.join(PACKAGES)})(?:\.\w+)+)(?::(?P<attrs>[A-Za-z_]\w*{_ATTRS}))?"
)
_SYMBOL = re.compile(rf"(?P<name>[A-Z]\w*|{'|'.join(ALIASES)})(?P<attrs>{_ATTRS})(?:\(.*\))?")
_MERMAID_PATH = re.compile(r"(?<![\w/.])[\w-]+(?:/[\w.-]+)+\.py(?::[A-Za-z_]\w*" + _ATTRS + ")?")
_MERMAID_SYMBOL = re.compile(
    r"(?<![\w./])[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]+)+" + _ATTRS + r"(?![\w/])"
)
_VARIABLE = re.compile(r"\bTASKHUB_[A-Z0-9][A-Z0-9_]*\b")


def references(text: str) -> list[str]:
    """Every reference in `text` this module knows how to check, in order, once each."""
    found: list[str] = []
    for span in code_spans(text):
        if _kind(span) is not None:
            found.append(span)
    for block in mermaid_blocks(text):
        found += [m[0] for m in _MERMAID_PATH.finditer(block)]
        found += [m[0] for m in _MERMAID_SYMBOL.finditer(block)]
    found += [m[0] for m in _VARIABLE.finditer(text)]
    return list(dict.fromkeys(found))


def problem(reference: str) -> str | None:
    """Why `reference` does not resolve, or None when it does."""
    kind = _kind(reference)
    if kind == "variable":
        return _variable_problem(reference)
    if kind == "path":
        match = _PATH.fullmatch(reference)
        assert match is not None
        return _path_problem(match["path"], match["attrs"])
    if kind == "dotted":
        match = _DOTTED.fullmatch(reference)
        assert match is not None
        return _dotted_problem(match["module"], match["attrs"])
    if kind == "symbol":
        match = _SYMBOL.fullmatch(reference)
        assert match is not None
        return _symbol_problem(match["name"], match["attrs"])
    return "not a reference this check understands"


def _kind(span: str) -> str | None:
    if _VARIABLE.fullmatch(span):
        return "variable"
    path = _PATH.fullmatch(span)
    if path and path["path"].startswith("."):
        return None  # hidden or made at run time (`.venv/`, `.taskhub/`), not part of the project
    if path and ("/" in path["path"] or path["path"].endswith(_FILE_SUFFIXES)):
        return "path"
    if _DOTTED.fullmatch(span):
        return "dotted"
    symbol = _SYMBOL.fullmatch(span)
    if symbol and (symbol["name"] in ALIASES or re.search(r"[a-z]", symbol["name"])):
        return "symbol"
    return None


def _variable_problem(variable: str) -> str | None:
    name = variable.removeprefix("TASKHUB_").lower()
    if name in Settings.model_fields or variable in _python_source():
        return None
    return "neither a setting in config/settings.py nor named in the project's Python code"


def _path_problem(path: str, attrs: str | None) -> str | None:
    matches = _find_paths(path)
    if not matches:
        return f"no such file or directory: {path}"
    if attrs is None:
        return None
    modules = [m for m in matches if m.suffix == ".py"]
    if not modules:
        return f"{path} is not a Python module"
    problems = [_attribute_problem(_module_name(m), attrs) for m in modules]
    return None if None in problems else problems[0]


def _dotted_problem(dotted: str, attrs: str | None) -> str | None:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        module = ".".join(parts[:cut])
        if _is_module(module):
            rest = ".".join([*parts[cut:], *([attrs] if attrs else [])])
            return _attribute_problem(module, rest) if rest else None
    return f"no module {dotted}"


def _symbol_problem(name: str, attrs: str) -> str | None:
    if name in ALIASES:
        module, _, target = ALIASES[name].partition(":")
        return _attribute_problem(module, target + attrs)
    modules = _symbol_index().get(name)
    if not modules and not attrs and name in _separate_distribution_names():
        return None
    if not modules:
        return f"{name} is defined or imported at the top of no first-party module"
    problems = [_attribute_problem(module, name + attrs) for module in modules]
    return None if None in problems else problems[0]


def _attribute_problem(module_name: str, attrs: str) -> str | None:
    obj: Any = importlib.import_module(module_name)
    where = module_name
    for attr in attrs.split("."):
        if not _has_attribute(obj, attr):
            return f"{where} has no attribute {attr}"
        obj = getattr(obj, attr, None)
        where = f"{where}.{attr}"
    return None


def _has_attribute(obj: Any, name: str) -> bool:
    """An attribute, or a field of a dataclass, pydantic model or annotated class."""
    if hasattr(obj, name):
        return True
    if name in getattr(obj, "__dataclass_fields__", {}) or name in getattr(obj, "model_fields", {}):
        return True
    return any(name in getattr(cls, "__annotations__", {}) for cls in getattr(obj, "__mro__", ()))


def _find_paths(path: str) -> list[Path]:
    direct = ROOT / path
    if direct.exists():
        return [direct]
    if path.split("/")[0] in PACKAGES or (ROOT / path.split("/")[0]).exists():
        return []
    wanted = path.rstrip("/")
    return [p for p in _project_paths() if p.as_posix().endswith("/" + wanted)]


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and name.startswith(exc.name):
            return False
        raise
    return True


@functools.cache
def _project_paths() -> tuple[Path, ...]:
    return tuple(_walk(ROOT))


def _walk(directory: Path) -> Iterator[Path]:
    for entry in directory.iterdir():
        if entry.name in _SKIP_DIRS or entry.name.endswith(".egg-info"):
            continue
        yield entry
        if entry.is_dir():
            yield from _walk(entry)


@functools.cache
def _python_files() -> tuple[Path, ...]:
    # Not this test package's own code: its examples of bad references would count as found.
    # Nor a separate distribution's (examples/acme-stats/): it imports only once installed.
    return tuple(
        p
        for p in _project_paths()
        if p.suffix == ".py"
        and p.relative_to(ROOT).parts[0] in PACKAGES
        and p.relative_to(ROOT).parts[:2] != ("tests", "docs")
        and not _in_separate_distribution(p)
    )


def _in_separate_distribution(path: Path) -> bool:
    """Below a folder of the project with a pyproject.toml of its own."""
    return any(
        (parent / "pyproject.toml").exists()
        for parent in path.parents[:-1]
        if parent != ROOT and parent.is_relative_to(ROOT)
    )


@functools.cache
def _separate_distribution_names() -> frozenset[str]:
    """Top-level names of the separate distributions' modules, read without importing them."""
    names: set[str] = set()
    for path in _project_paths():
        if path.suffix == ".py" and _in_separate_distribution(path):
            for node in ast.parse(path.read_text(encoding="utf-8")).body:
                names.update(name for name, _ in _bound_names(node))
    return frozenset(names)


@functools.cache
def _python_source() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in _python_files())


@functools.cache
def _symbol_index() -> dict[str, list[str]]:
    """Top-level names of every first-party module: where defined first, then where imported."""
    defined: dict[str, list[str]] = {}
    imported: dict[str, list[str]] = {}
    for path in _python_files():
        module = _module_name(path)
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            for name, is_import in _bound_names(node):
                (imported if is_import else defined).setdefault(name, []).append(module)
    return {
        name: defined.get(name, []) + imported.get(name, [])
        for name in defined.keys() | imported.keys()
    }


def _bound_names(node: ast.stmt) -> Iterator[tuple[str, bool]]:
    if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
        yield node.name, False
    elif isinstance(node, ast.Assign):
        for target in node.targets:
            if isinstance(target, ast.Name):
                yield target.id, False
    elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        yield node.target.id, False
    elif isinstance(node, ast.ImportFrom):
        for alias in node.names:
            yield alias.asname or alias.name, True
    elif isinstance(node, ast.If):  # `if TYPE_CHECKING:` imports
        for child in node.body:
            yield from _bound_names(child)
