"""The layering, written down and checked (issue 20): `domain` imports no other package of
the project and no `temporalio`, and has no import circle; `contract` (everything Temporal
sees) imports only `domain`; `workflows`, `activities` and `edge` import `contract` and
`domain`, never one another's internals; `api` and `cli` add `edge`. An import that must
cross a line for a while goes in KNOWN, with why; the list (empty now) shrinks, never grows."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ("domain", "contract", "workflows", "activities", "edge", "api", "cli")
ALLOWED: dict[str, set[str]] = {
    "domain": {"domain"},
    "contract": {"contract", "domain"},
    "workflows": {"workflows", "contract", "domain"},
    "activities": {"activities", "contract", "domain"},
    "edge": {"edge", "contract", "domain"},
    "api": {"api", "edge", "contract", "domain"},
    "cli": {"cli", "edge", "contract", "domain"},
}
KNOWN: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class Import:
    path: str  # relative to the root
    module: str  # the module imported
    at_run_time: bool  # False inside `if TYPE_CHECKING:`


def imports_of(path: Path, root: Path) -> Iterator[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for child in block.body
        for node in ast.walk(child)
    }
    rel = path.relative_to(root).as_posix()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        else:
            continue
        for name in names:
            yield Import(rel, name, id(node) not in typing_only)


def layering_problems(root: Path) -> list[str]:
    """Every import that crosses a line, and every import of temporalio in the domain."""
    problems = []
    for package, allowed in ALLOWED.items():
        for path in sorted((root / package).rglob("*.py")):
            for found in imports_of(path, root):
                top = found.module.split(".")[0]
                if package == "domain" and top == "temporalio":
                    problems.append(f"{found.path} imports {found.module}: the domain is pure")
                elif (
                    top in PROJECT
                    and top not in allowed
                    and (found.path, found.module) not in KNOWN
                ):
                    problems.append(f"{found.path} imports {found.module}")
    return problems


def circles_in(root: Path, package: str) -> list[list[str]]:
    """Import circles among a package's modules, counting run-time imports only."""
    graph: dict[str, set[str]] = {}
    for path in (root / package).rglob("*.py"):
        name = path.relative_to(root).with_suffix("").as_posix().replace("/", ".")
        graph[name] = {
            i.module
            for i in imports_of(path, root)
            if i.at_run_time and i.module.startswith(f"{package}.")
        }
    circles, done = [], set()

    def visit(node: str, trail: list[str]) -> None:
        if node in trail:
            circles.append([*trail[trail.index(node) :], node])
            return
        if node in done:
            return
        for nxt in sorted(graph.get(node, ())):
            visit(nxt, [*trail, node])
        done.add(node)

    for start in sorted(graph):
        visit(start, [])
    return circles


def test_no_package_reaches_into_another_s_internals() -> None:
    assert layering_problems(ROOT) == []


def test_the_known_exceptions_are_still_there_so_the_list_only_shrinks() -> None:
    found = {
        (i.path, i.module)
        for package in ALLOWED
        for path in (ROOT / package).rglob("*.py")
        for i in imports_of(path, ROOT)
    }
    assert found >= KNOWN, f"remove from KNOWN what is gone: {sorted(KNOWN - found)}"


def test_no_import_circle_inside_the_domain() -> None:
    assert circles_in(ROOT, "domain") == []


@pytest.mark.parametrize(
    ("path", "text", "problem"),
    [
        ("domain/x.py", "from workflows.referral import ReferralWorkflow\n", "imports workflows"),
        ("domain/x.py", "import temporalio.workflow\n", "the domain is pure"),
        ("workflows/x.py", "from activities.notify import Notifier\n", "imports activities"),
        ("edge/x.py", "from api.auth import Identity\n", "imports api"),
        ("contract/x.py", "from edge.settings import Settings\n", "imports edge"),
    ],
)
def test_a_deliberately_wrong_import_is_found(
    tmp_path: Path, path: str, text: str, problem: str
) -> None:
    for package in ALLOWED:
        (tmp_path / package).mkdir()
    (tmp_path / path).write_text(text, encoding="utf-8")
    assert any(problem in p for p in layering_problems(tmp_path))


def test_a_circle_is_found(tmp_path: Path) -> None:
    (tmp_path / "domain").mkdir()
    (tmp_path / "domain" / "a.py").write_text("import domain.b\n", encoding="utf-8")
    (tmp_path / "domain" / "b.py").write_text("from domain.a import x\n", encoding="utf-8")
    assert circles_in(tmp_path, "domain") == [["domain.a", "domain.b", "domain.a"]]
