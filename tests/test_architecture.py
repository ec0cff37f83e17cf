"""The rooms' arrows point one way (DESIGN.md): a test, not a promise in prose.

spec → models → envelope → signing → {client, mock} → conformance → lab → cli. The client never
imports the mock and the mock never imports the client; they meet only in the contract.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "nhsa"

# Which of our rooms each room may import (besides itself). Top-level helper modules
# (_resources, _nesting, idcard, money, redaction) depend on no room and may be used by every room.
ALLOWED: dict[str, set[str]] = {
    "spec": set(),
    "models": {"spec"},
    "envelope": {"spec", "models"},
    "signing": {"spec", "models", "envelope"},
    "client": {"spec", "models", "envelope", "signing"},
    "mock": {"spec", "models", "envelope", "signing"},
    "conformance": {"spec", "models", "envelope", "signing", "client", "mock"},
    "lab": {"spec", "models", "envelope", "signing", "mock", "conformance"},
    "cli": {"spec", "models", "envelope", "signing", "client", "mock", "conformance", "lab"},
}
SHARED = {
    "_resources",
    "_sqlite",
    "_postgres",
    "_nesting",
    "idcard",
    "money",
    "redaction",
    "__init__",
}


def _imported_rooms(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return {n.split(".")[1] for n in names if n.startswith("nhsa.") and n.count(".") >= 1}


@pytest.mark.parametrize("room", sorted(ALLOWED))
def test_room_imports_only_what_it_may(room: str) -> None:
    offending: list[str] = []
    for path in sorted((SRC / room).rglob("*.py")):
        for imported in _imported_rooms(path) - {room} - SHARED:
            if imported not in ALLOWED[room]:
                offending.append(f"{path.relative_to(SRC)} imports nhsa.{imported}")
    assert offending == []


@pytest.mark.parametrize("module", sorted(SHARED - {"__init__"}))
def test_shared_helpers_depend_on_no_room(module: str) -> None:
    assert _imported_rooms(SRC / f"{module}.py") - SHARED == set()
