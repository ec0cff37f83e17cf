"""The public surface of nhsa.conformance is pinned, and the README documents what exists."""

from __future__ import annotations

import nhsa.conformance as conformance
from nhsa._resources import data_dir
from nhsa.conformance import ACTIONS, FAULT_KINDS, default_registry

PINNED = {
    "ACTIONS", "ENTRY_POINT_GROUP", "FAULT_KINDS", "STAGES", "CancelRegistrationRequest",
    "Certificate", "ChargeRequest", "CheckContext", "CheckOutcome", "CheckRegistry",
    "CheckRegistryError", "CheckRun", "CheckSpec", "ConformanceError", "DataFileError", "Driver",
    "DriverError", "DriverHealth", "DriverProtocolError", "DriverResult", "DriverUnavailableError",
    "Evidence", "FaultSpec", "FeeItem", "HisConfiguration", "InProcessMock",
    "InstitutionRegistration", "InstitutionTakenError", "LedgerTotals", "Member", "MockError",
    "MockHandle", "MockUnavailableError", "ModeConfig", "Outcome", "PartialRefundRequest",
    "ReconcileRequest", "RefundRequest", "RegisterRequest", "RemoteMock", "ReportSignatureError",
    "Requirement", "RequirementSet", "RequirementsError", "RunAbortedError", "RunObserver",
    "RunResult", "Runner", "Scenario", "ScenarioError", "ScenarioRun", "SettlementTrace",
    "SignInRequest", "SigningConfig", "StageRun", "Status", "StepRun", "TranscriptRecord",
    "UnknownDriverError", "bundled_requirements", "bundled_stages_dir", "check",
    "default_registry", "failed", "load_entry_points", "load_requirements", "load_scenario",
    "load_stages", "not_applicable", "passed", "roll_up", "settlements",
}  # fmt: skip


def test_exports_are_pinned() -> None:
    assert set(conformance.__all__) == PINNED
    assert all(hasattr(conformance, name) for name in PINNED)


def test_the_readme_documents_every_check_action_and_fault() -> None:
    readme = (data_dir("conformance") / "README.md").read_text(encoding="utf-8")
    missing = [name for name in default_registry() if f"`{name}`" not in readme]
    missing += [action for action in ACTIONS if f"`{action}" not in readme]
    missing += [kind for kind in FAULT_KINDS if f"`{kind}`" not in readme]
    assert not missing, f"conformance/README.md does not mention {missing}"
