"""Requirements as data: ``conformance/requirements.csv`` read into :class:`Requirement` rows.

Columns (a header row names them, in any order):

==================  ==========================================================================
``id``              ``HIS-<AREA>-<nnn>``, unique, e.g. ``HIS-REV-002``
``text``            the requirement, one sentence, SHALL/SHOULD spelled out
``level``           ``SHALL`` (required: a failing check fails the run) or ``SHOULD`` (reported)
``actor``           who must comply: ``HIS``, ``window``, ``kiosk`` (several joined by ``;``)
``source``          where it comes from: a reference section (``§5.2``) or a contract file
``stage``           stages that exercise it: ``lab``, ``self-test``, ``city``, ``district``,
                    ``acceptance`` (several joined by ``;``)
``not_tested_reason``  empty when a check verifies it; otherwise why no check can
==================  ==========================================================================

Example:
    >>> reqs = bundled_requirements()
    >>> reqs["HIS-REV-002"].level, reqs["HIS-REV-002"].tested
    ('SHALL', True)
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final, Literal

from nhsa._resources import data_dir
from nhsa.conformance._errors import RequirementsError, read_data_file

__all__ = [
    "ACTORS",
    "STAGES",
    "Requirement",
    "RequirementSet",
    "bundled_requirements",
    "load_requirements",
]

STAGES: Final = ("lab", "self-test", "city", "district", "acceptance")
ACTORS: Final = ("HIS", "window", "kiosk")
COLUMNS: Final = ("id", "text", "level", "actor", "source", "stage", "not_tested_reason")
_ID = re.compile(r"^[A-Z][A-Z0-9]*-[A-Z0-9]+-[0-9]{3}$")

Level = Literal["SHALL", "SHOULD"]


@dataclass(frozen=True, slots=True)
class Requirement:
    """One requirement a HIS must (SHALL) or should (SHOULD) meet.

    Example:
        >>> r = Requirement("HIS-MSG-001", "The HIS SHALL ...", "SHALL", ("HIS",), "§1.1",
        ...                 ("lab",), "", 4)
        >>> r.required, r.tested
        (True, True)
    """

    id: str
    text: str
    level: Level
    actors: tuple[str, ...]
    source: str
    stages: tuple[str, ...]
    not_tested_reason: str
    line: int

    @property
    def required(self) -> bool:
        """SHALL requirements are required; a failing check of one fails the run."""
        return self.level == "SHALL"

    @property
    def tested(self) -> bool:
        """Whether a check is expected to verify it (no ``not_tested_reason``)."""
        return not self.not_tested_reason


class RequirementSet(Mapping[str, Requirement]):
    """Requirements by id, in file order, remembering the file they came from.

    Example:
        >>> reqs = bundled_requirements()
        >>> all(r.id.startswith("HIS-") for r in reqs.values())
        True
    """

    def __init__(self, requirements: list[Requirement], source: str) -> None:
        """Index ``requirements``; use :func:`load_requirements` to read a file."""
        self._by_id = {r.id: r for r in requirements}
        self.source = source

    def __getitem__(self, key: str) -> Requirement:
        return self._by_id[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)

    def merged(self, other: RequirementSet) -> RequirementSet:
        """This set plus a lab's own requirements; an id defined twice is an error.

        Example:
            >>> base = bundled_requirements()
            >>> len(base.merged(RequirementSet([], "empty.csv"))) == len(base)
            True
        """
        clash = sorted(set(self) & set(other))
        if clash:
            raise RequirementsError(
                other.source, None, f"requirement ids already defined: {', '.join(clash)}"
            )
        return RequirementSet([*self.values(), *other.values()], f"{self.source}+{other.source}")


def load_requirements(path: str | Path) -> RequirementSet:
    """Read and check a requirements CSV (UTF-8); every problem names its line.

    Example:
        >>> load_requirements(data_dir("conformance") / "requirements.csv")["HIS-MSG-001"].level
        'SHALL'
    """
    file = Path(path)
    return parse_requirements(
        read_data_file(file, RequirementsError, encoding="utf-8-sig"), str(file)
    )


def parse_requirements(text: str, source: str) -> RequirementSet:
    """Parse requirements CSV text; ``source`` names it in errors.

    Example:
        >>> parse_requirements("id,text\\n", "x.csv")
        Traceback (most recent call last):
        nhsa.conformance._errors.RequirementsError: x.csv:1: missing columns: level, actor, \
source, stage, not_tested_reason
    """
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise RequirementsError(source, None, "empty file: expected a header row") from None
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise RequirementsError(source, 1, f"missing columns: {', '.join(missing)}")
    unknown = [c for c in header if c not in COLUMNS]
    if unknown:
        raise RequirementsError(source, 1, f"unknown columns: {', '.join(unknown)}")
    rows: list[Requirement] = []
    seen: dict[str, int] = {}
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            raise RequirementsError(
                source, line, f"expected {len(header)} cells, found {len(cells)}"
            )
        row = dict(zip(header, (cell.strip() for cell in cells), strict=True))
        requirement = _requirement(row, source, line)
        if requirement.id in seen:
            raise RequirementsError(
                source,
                line,
                f"duplicate id {requirement.id} (first at line {seen[requirement.id]})",
            )
        seen[requirement.id] = line
        rows.append(requirement)
    return RequirementSet(rows, source)


@cache
def bundled_requirements() -> RequirementSet:
    """The kit's own requirements (``conformance/requirements.csv``), read once.

    Example:
        >>> bundled_requirements()["HIS-MSG-001"].required
        True
    """
    return load_requirements(data_dir("conformance") / "requirements.csv")


def _requirement(row: dict[str, str], source: str, line: int) -> Requirement:
    def fail(problem: str) -> RequirementsError:
        return RequirementsError(source, line, problem)

    if not _ID.match(row["id"]):
        raise fail(f"id {row['id']!r}: expected a form like HIS-REV-002")
    if not row["text"]:
        raise fail(f"{row['id']}: text is empty")
    level = row["level"]
    if level not in ("SHALL", "SHOULD"):
        raise fail(f"{row['id']}: level {level!r} must be SHALL or SHOULD")
    actors = _split(row["actor"])
    bad_actors = [a for a in actors if a not in ACTORS]
    if not actors or bad_actors:
        raise fail(f"{row['id']}: actor must be one or more of {', '.join(ACTORS)} joined by ';'")
    stages = _split(row["stage"])
    bad_stages = [s for s in stages if s not in STAGES]
    if not stages or bad_stages:
        raise fail(f"{row['id']}: stage must be one or more of {', '.join(STAGES)} joined by ';'")
    if not row["source"]:
        raise fail(f"{row['id']}: source is empty; name the reference section")
    return Requirement(
        id=row["id"],
        text=row["text"],
        level="SHALL" if level == "SHALL" else "SHOULD",
        actors=actors,
        source=row["source"],
        stages=stages,
        not_tested_reason=row["not_tested_reason"],
        line=line,
    )


def _split(cell: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in cell.split(";") if part.strip())
