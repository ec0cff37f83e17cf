"""Checks registered by name, through the decorator or a lab's entry point."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

import pytest

from nhsa.conformance import (
    CheckContext,
    CheckOutcome,
    CheckRegistryError,
    bundled_requirements,
    passed,
)
from nhsa.conformance._registry import ENTRY_POINT_GROUP, REGISTRY, CheckRegistry, load_entry_points

LAB_MODULE = '''
from nhsa.conformance import check, passed


@check("lab_receipt_prefix", verifies=["HIS-MOD-004"], args={"prefix": str})
def lab_receipt_prefix(ctx):
    """Kiosk receipts carry the province's prefix."""
    return passed("prefix " + ctx.args.get("prefix", "?"))
'''


def test_the_decorator_registers_with_title_and_arguments() -> None:
    registry = CheckRegistry()

    @registry.check("sample_check", verifies=["HIS-MSG-001"], args={"limit": int})
    def sample_check(ctx: CheckContext) -> CheckOutcome:
        """Samples are fine.

        A longer explanation for the report.
        """
        return passed("fine")

    spec = registry["sample_check"]
    assert (spec.title, spec.verifies, dict(spec.args)) == (
        "Samples are fine.",
        ("HIS-MSG-001",),
        {"limit": int},
    )
    assert spec.origin.endswith("sample_check")
    registry.validate_against(bundled_requirements())


@pytest.mark.parametrize(
    ("name", "verifies", "doc", "problem"),
    [
        ("Bad-Name", ["HIS-MSG-001"], "Doc.", "use lower_snake_case"),
        ("no_requirements", [], "Doc.", "name at least one requirement id"),
        ("no_doc", ["HIS-MSG-001"], None, "give it a docstring"),
    ],
)
def test_bad_registrations_are_refused(
    name: str, verifies: list[str], doc: str | None, problem: str
) -> None:
    registry = CheckRegistry()

    def function(ctx: CheckContext) -> CheckOutcome:
        return passed("x")

    function.__doc__ = doc
    with pytest.raises(CheckRegistryError, match=problem):
        registry.check(name, verifies=verifies)(function)


def test_two_checks_under_one_name_are_refused() -> None:
    registry = CheckRegistry()

    @registry.check("twice", verifies=["HIS-MSG-001"])
    def first(ctx: CheckContext) -> CheckOutcome:
        """First."""
        return passed("1")

    with pytest.raises(CheckRegistryError, match="registered twice"):

        @registry.check("twice", verifies=["HIS-MSG-001"])
        def second(ctx: CheckContext) -> CheckOutcome:
            """Second."""
            return passed("2")


def test_unknown_requirement_ids_are_an_error() -> None:
    registry = CheckRegistry()

    @registry.check("orphan", verifies=["HIS-NOPE-001"])
    def orphan(ctx: CheckContext) -> CheckOutcome:
        """Orphan."""
        return passed("x")

    with pytest.raises(CheckRegistryError, match="verifies unknown requirement HIS-NOPE-001"):
        registry.validate_against(bundled_requirements())


@pytest.fixture
def lab_distribution(tmp_path: Path) -> Iterator[Path]:
    """A fake installed distribution announcing a check module through the entry point group."""
    (tmp_path / "labchecks_demo").mkdir()
    (tmp_path / "labchecks_demo" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "labchecks_demo" / "receipts.py").write_text(LAB_MODULE, encoding="utf-8")
    info = tmp_path / "labchecks_demo-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: labchecks-demo\nVersion: 1.0\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\nreceipts = labchecks_demo.receipts\n", encoding="utf-8"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        yield tmp_path
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.startswith("labchecks_demo")]:
            del sys.modules[name]
        REGISTRY._checks.pop("lab_receipt_prefix", None)  # keep the process-wide registry clean


def test_a_lab_check_arrives_through_its_entry_point(lab_distribution: Path) -> None:
    found = [e for e in entry_points(group=ENTRY_POINT_GROUP) if e.name == "receipts"]
    assert found, "the fake distribution's entry point is visible"
    assert load_entry_points(found=found) == ["labchecks_demo.receipts"]
    spec = REGISTRY["lab_receipt_prefix"]
    assert spec.verifies == ("HIS-MOD-004",)
    assert spec.title == "Kiosk receipts carry the province's prefix."


def test_a_broken_entry_point_is_named() -> None:
    broken = EntryPoint("broken", "labchecks_missing.module", ENTRY_POINT_GROUP)
    with pytest.raises(
        CheckRegistryError,
        match=r"entry point 'broken' = 'labchecks_missing\.module'.*failed to load: ModuleNotFound",
    ):
        load_entry_points(found=[broken])
    not_module = EntryPoint("fn", "nhsa.conformance:passed", ENTRY_POINT_GROUP)
    with pytest.raises(CheckRegistryError, match="must name a module"):
        load_entry_points(found=[not_module])
