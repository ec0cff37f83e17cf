"""The corpus of real-shaped messages: loading it (see README.md in this folder).

Example:
    >>> first = answers()[0]
    >>> first.dialect, first.infno, first.path.is_file()
    ('national', '1101', True)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

HERE = Path(__file__).resolve().parent
DIALECTS = ("national", "guangdong", "guangzhou", "hunan", "jiangsu", "jilin", "sichuan")
"""One folder per dialect (``interface_specs/v1/dialects/<name>.json``)."""


@dataclass(frozen=True)
class Entry:
    """One corpus message and what is expected of it (``index.yaml`` of its dialect)."""

    dialect: str
    kind: Literal["answers", "requests"]
    file: str
    shape: str
    source: str
    details: dict[str, Any]

    @property
    def infno(self) -> str:
        """The transaction: the message's folder."""
        return self.file.split("/", 1)[0]

    @property
    def path(self) -> Path:
        """Where the message is."""
        return HERE / self.dialect / self.kind / self.file

    @property
    def id(self) -> str:
        """A test id: dialect and file."""
        return f"{self.dialect}/{self.file}"


def _entries(kind: Literal["answers", "requests"], dialect: str) -> list[Entry]:
    index = yaml.safe_load((HERE / dialect / "index.yaml").read_text("utf-8"))
    return [
        Entry(
            dialect,
            kind,
            item.pop("file"),
            item.pop("shape"),
            item.pop("source"),
            item,
        )
        for item in index[kind]
    ]


def answers(dialect: str = "national") -> list[Entry]:
    """Every corpus answer of ``dialect``."""
    return _entries("answers", dialect)


def requests(dialect: str = "national") -> list[Entry]:
    """Every corpus request of ``dialect``."""
    return _entries("requests", dialect)
