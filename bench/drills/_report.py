"""The drills' output: one table per drill on the console, the same figures in
``bench/results/<name>.json``.

Example::

    show("fuzz", ["profile", "requests", "HTTP 5xx"], rows, notes=["…"])
    write("drill_fuzz", {"profiles": …})
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = ["RESULTS", "show", "write"]

RESULTS = Path(__file__).resolve().parents[1] / "results"


def show(
    title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    must_be_zero: Iterable[int] = (),
    notes: Iterable[str] = (),
) -> None:
    """Print a table; columns whose index is in ``must_be_zero`` are red where not 0."""
    red = set(must_be_zero)
    table = Table(title=title, title_justify="left")
    for index, header in enumerate(headers):
        table.add_column(header, justify="left" if index == 0 else "right")
    for row in rows:
        cells = []
        for index, cell in enumerate(row):
            text = _cell(cell)
            failed = index in red and cell not in (0, "0", "yes", "n/a", "—")
            cells.append(f"[red]{text}[/red]" if failed else text)
        table.add_row(*cells)
    console = Console(width=160)
    console.print(table)
    for note in notes:
        console.print(note, highlight=False)


def write(name: str, payload: Mapping[str, Any]) -> Path:
    """Write ``bench/results/<name>.json`` with the machine's description; its path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    document = {
        "drill": name,
        "when": datetime.now().isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
        },
        **payload,
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n")
    return path


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
