"""Part boundaries, checked on the modules a fresh interpreter really loads (not on what the source text says).

The shared schemas need no server; the server imports no UI; the kiosk and the board import nothing of each other.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SERVER = ("fastapi", "starlette", "sqlalchemy", "sqlmodel", "uvicorn", "alembic")
UI = ("kivy", "kiosk", "display_board")
ROOT = Path(__file__).resolve().parent.parent


def loaded(*modules: str) -> set[str]:
    """Top-level and dotted names of every module loaded by importing `modules` in a fresh interpreter."""
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules) + "print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    return set(out.stdout.split())


def hits(names: set[str], forbidden: tuple[str, ...]) -> list[str]:
    """The loaded modules that are, or are inside, one of the `forbidden` packages."""
    return sorted(n for n in names if n.split(".")[0] in forbidden)


def test_shared_schemas_pull_in_no_server_and_no_ui() -> None:
    names = loaded("queue_server.schemas")
    assert "pydantic" in names
    assert hits(names, SERVER + UI) == []
    assert sorted(n for n in names if n.startswith("queue_server.") and not n.startswith("queue_server.schemas")) == []


def imported_in_source(package: str) -> dict[str, set[str]]:
    """Every module each file of `package` names in an import statement, lazy ones inside functions included."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names = found.setdefault(str(path.relative_to(ROOT)), set())
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module)
    return found


def crossings(package: str, forbidden: tuple[str, ...]) -> list[str]:
    """`file: module` for each import in `package` of a module inside one of the `forbidden` packages."""
    return [
        f"{file}: {name}"
        for file, names in imported_in_source(package).items()
        for name in sorted(names)
        if name.split(".")[0] in forbidden
    ]


def test_the_server_imports_no_ui() -> None:
    assert hits(loaded("queue_server.app", "queue_server.cli"), UI) == []
    assert crossings("queue_server", UI) == []


def test_the_kiosk_and_the_board_import_nothing_of_each_other() -> None:
    assert crossings("kiosk", ("display_board",)) == []
    assert crossings("display_board", ("kiosk",)) == []
    assert hits(loaded("kiosk.app", "kiosk.__main__", "kiosk.feedback.__main__"), ("display_board",)) == []
    assert hits(loaded("display_board.app", "display_board.__main__"), ("kiosk",)) == []


def test_shared_client_code_belongs_to_no_app() -> None:
    assert crossings("hall_client", (*SERVER, "kiosk", "display_board", "peripherals")) == []
    assert crossings("queue_server/schemas", SERVER + UI) == []
    server_parts = [c for c in crossings("hall_client", ("queue_server",)) if not c.endswith("queue_server.schemas")]
    assert server_parts == []  # of the server's package, only the shared schemas
    assert hits(loaded("hall_client.follower", "hall_client.screen"), SERVER + UI) == []
