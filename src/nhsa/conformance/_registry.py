"""Checks registered by name, each naming the requirements it verifies (Inferno's rule).

Built-in checks live in :mod:`nhsa.conformance.checks`, one module per theme. A lab adds its
own in a package of its own and announces the module through the entry point group
``nhsa.conformance.checks``::

    # the lab's pyproject.toml
    [project.entry-points."nhsa.conformance.checks"]
    province_rules = "labchecks.province_rules"

    # labchecks/province_rules.py
    from nhsa.conformance import CheckContext, CheckOutcome, check, passed

    @check("kiosk_receipt_number", verifies=["LAB-KSK-001"], args={"prefix": str})
    def kiosk_receipt_number(ctx: CheckContext) -> CheckOutcome:
        \"\"\"Kiosk receipts carry the province's prefix.\"\"\"
        ...

Loading the module runs its decorators; :func:`default_registry` loads the built-ins and every
entry point once. A check naming a requirement id that no requirements file defines is an
error when a run starts (a lab passes its own CSV with ``--requirements``).

Example:
    >>> registry = CheckRegistry()
    >>> @registry.check("always_passes", verifies=["HIS-MSG-001"])
    ... def always_passes(ctx):
    ...     \"\"\"Passes.\"\"\"
    ...     return passed("ok")
    >>> registry["always_passes"].verifies
    ('HIS-MSG-001',)
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Final, TypeVar

from nhsa.conformance._context import CheckContext, CheckOutcome, passed
from nhsa.conformance._errors import CheckRegistryError
from nhsa.conformance._requirements import RequirementSet

__all__ = [
    "ENTRY_POINT_GROUP",
    "CheckFunction",
    "CheckRegistry",
    "CheckSpec",
    "check",
    "default_registry",
    "load_entry_points",
]

ENTRY_POINT_GROUP: Final = "nhsa.conformance.checks"
CheckFunction = Callable[[CheckContext], CheckOutcome]
_F = TypeVar("_F", bound=CheckFunction)
_ARG_TYPES: Final = (str, int, float, bool, list, dict)

# The doctest above refers to ``passed`` through this module's namespace.
__doctest_globals__ = {"passed": passed}


@dataclass(frozen=True)
class CheckSpec:
    """A registered check: name, requirement ids, the function, and the arguments it accepts.

    ``args`` maps each argument a scenario may pass to its type; anything else is refused
    when the scenario is loaded, with the file and line.

    Example:
        >>> spec = default_registry()["msgid_unique"]
        >>> spec.verifies, spec.args
        (('HIS-MSG-003',), {})
    """

    name: str
    verifies: tuple[str, ...]
    function: CheckFunction = field(repr=False)
    title: str
    description: str
    args: Mapping[str, type] = field(default_factory=dict)
    origin: str = ""

    def run(self, ctx: CheckContext) -> CheckOutcome:
        """Call the check function."""
        return self.function(ctx)


class CheckRegistry(Mapping[str, CheckSpec]):
    """Checks by name. Use :meth:`check` as a decorator to register one.

    Example:
        >>> "msgid_unique" in default_registry()
        True
    """

    def __init__(self) -> None:
        """An empty registry."""
        self._checks: dict[str, CheckSpec] = {}

    def __getitem__(self, name: str) -> CheckSpec:
        return self._checks[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._checks)

    def __len__(self) -> int:
        return len(self._checks)

    def check(
        self,
        name: str,
        *,
        verifies: Iterable[str],
        args: Mapping[str, type] | None = None,
    ) -> Callable[[_F], _F]:
        """Register the decorated function as check ``name`` verifying ``verifies``.

        The function's docstring is its description; its first line is the title shown in
        reports, so write it as a sentence a lab assessor understands.
        """

        def register(function: _F) -> _F:
            self.add(_spec_of(name, tuple(verifies), function, dict(args or {})))
            return function

        return register

    def add(self, spec: CheckSpec) -> None:
        """Register ``spec``; a different check under the same name is an error."""
        existing = self._checks.get(spec.name)
        if existing is not None and existing.origin != spec.origin:
            raise CheckRegistryError(
                f"check {spec.name!r} is registered twice: by {existing.origin} and {spec.origin}"
            )
        self._checks[spec.name] = spec

    def verifying(self, requirement_id: str) -> list[CheckSpec]:
        """The checks that verify a requirement."""
        return [c for c in self._checks.values() if requirement_id in c.verifies]

    def validate_against(self, requirements: RequirementSet) -> None:
        """Raise when a check names a requirement id the requirements do not define."""
        problems = [
            f"check {c.name!r} ({c.origin}) verifies unknown requirement {rid}"
            for c in self._checks.values()
            for rid in c.verifies
            if rid not in requirements
        ]
        if problems:
            raise CheckRegistryError(
                "; ".join(problems) + f" (requirements read from {requirements.source})"
            )


def _spec_of(
    name: str, verifies: tuple[str, ...], function: CheckFunction, args: dict[str, type]
) -> CheckSpec:
    origin = f"{getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', '?')}"
    if not name.isidentifier() or name != name.lower():
        raise CheckRegistryError(f"check name {name!r} ({origin}): use lower_snake_case")
    if not verifies:
        raise CheckRegistryError(f"check {name!r} ({origin}): name at least one requirement id")
    bad = [key for key, kind in args.items() if kind not in _ARG_TYPES]
    if bad:
        raise CheckRegistryError(
            f"check {name!r} ({origin}): argument types must be str, int, float, bool, list or"
            f" dict; not for {', '.join(bad)}"
        )
    doc = inspect.getdoc(function) or ""
    if not doc:
        raise CheckRegistryError(f"check {name!r} ({origin}): give it a docstring (its title)")
    title = doc.splitlines()[0].strip()
    # The usage example is for developers; the report shows what the check judges.
    description = doc.split("\nExample", 1)[0].strip()
    return CheckSpec(name, verifies, function, title, description, args, origin)


REGISTRY: Final = CheckRegistry()
"""The process-wide registry the built-in checks and labs' entry points register into."""


def check(
    name: str, *, verifies: Iterable[str], args: Mapping[str, type] | None = None
) -> Callable[[_F], _F]:
    """Register a check in the process-wide registry (see :meth:`CheckRegistry.check`).

    Example::

        @check("reversal_after_unknown_2207", verifies=["HIS-REV-002"])
        def reversal_after_unknown_2207(ctx: CheckContext) -> CheckOutcome:
            \"\"\"An unknown 2207 is reversed (2601) before the visit is settled again.\"\"\"
            ...
    """
    return REGISTRY.check(name, verifies=verifies, args=args)


def load_entry_points(
    group: str = ENTRY_POINT_GROUP, *, found: Iterable[EntryPoint] | None = None
) -> list[str]:
    """Import every module announced under ``group``; return their names.

    A module that fails to import is an error naming the entry point and its distribution.

    Example:
        >>> load_entry_points(found=[])
        []
    """
    loaded: list[str] = []
    for entry in entry_points(group=group) if found is None else found:
        where = f"entry point {entry.name!r} = {entry.value!r}"
        if entry.dist is not None:
            where += f" of {entry.dist.name}"
        try:
            target: Any = entry.load()
        except Exception as exc:  # a lab's plug-in may fail in any way; name it, don't crash
            raise CheckRegistryError(
                f"{where} in group {group!r} failed to load: {type(exc).__name__}: {exc}"
            ) from None
        if not inspect.ismodule(target):
            raise CheckRegistryError(
                f"{where}: must name a module whose @check functions register themselves"
            )
        loaded.append(target.__name__)
    return loaded


_loaded = False


def default_registry() -> CheckRegistry:
    """The process-wide registry with the built-in checks and every entry point loaded.

    Example:
        >>> "sign_in_first" in default_registry()
        True
    """
    global _loaded  # noqa: PLW0603 - loading plug-ins is a process-wide, once-only act
    if not _loaded:
        importlib.import_module("nhsa.conformance.checks")
        load_entry_points()
        _loaded = True
    return REGISTRY
