"""The requirement × check matrix: which check verifies each requirement, in which scenarios.

A SHALL requirement without a not-tested reason is *covered* only when at least one check
verifies it **and** one of those checks runs in at least one scenario; otherwise it is a gap
and ``nhsa conformance coverage`` exits 1. (A check no scenario runs verifies nothing.)
A requirement with a not-tested reason is listed with its reason and is never a gap.

Example:
    >>> from nhsa.conformance import (bundled_requirements, bundled_stages_dir,
    ...                               default_registry, load_stages)
    >>> from nhsa.conformance import STAGES
    >>> registry = default_registry()
    >>> stages = load_stages(bundled_stages_dir(), STAGES, registry)
    >>> rows = coverage(bundled_requirements(), registry, stages)
    >>> [row.requirement.id for row in rows if row.gap]
    []
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from nhsa.conformance._registry import CheckRegistry
from nhsa.conformance._requirements import Requirement, RequirementSet
from nhsa.conformance._scenario import Scenario

__all__ = ["CoverageRow", "coverage"]


@dataclass(frozen=True)
class CoverageRow:
    """One requirement: the checks verifying it and the scenarios that run those checks.

    Example::

        row.status, row.gap   # ('covered', False)
    """

    requirement: Requirement
    checks: tuple[str, ...]
    scenarios: tuple[str, ...]

    @property
    def status(self) -> str:
        """``covered``, ``not tested`` (with a reason), ``no check`` or ``not exercised``."""
        if not self.requirement.tested:
            return "not tested"
        if not self.checks:
            return "no check"
        if not self.scenarios:
            return "not exercised"
        return "covered"

    @property
    def gap(self) -> bool:
        """A SHALL requirement that should be checked but is not."""
        return self.requirement.required and self.status in ("no check", "not exercised")


def coverage(
    requirements: RequirementSet,
    registry: CheckRegistry,
    stages: Mapping[str, Iterable[Scenario]],
) -> list[CoverageRow]:
    """The matrix, one row per requirement in file order.

    Example::

        gaps = [row for row in coverage(requirements, registry, stages) if row.gap]
    """
    uses: dict[str, list[str]] = {}
    for scenarios in stages.values():
        for scenario in scenarios:
            for use in scenario.checks:
                uses.setdefault(use.name, []).append(scenario.id)
    rows = []
    for requirement in requirements.values():
        checks = tuple(sorted(c.name for c in registry.verifying(requirement.id)))
        using = tuple(sorted({s for name in checks for s in uses.get(name, ())}))
        rows.append(CoverageRow(requirement, checks, using))
    return rows
