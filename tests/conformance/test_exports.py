"""The public surface of nhsa.conformance is pinned, and the README documents what exists.

The exports are what a lab or a check author uses — run, load, check registration, the driver
protocol, the errors; everything else is reached through its private module.
"""

from __future__ import annotations

import nhsa.conformance as conformance
from nhsa._resources import data_dir
from nhsa.conformance import default_registry
from nhsa.conformance._actions import ACTIONS
from nhsa.mock.faults import FaultKind

PINNED = {
    "STAGES", "CancelRegistrationRequest", "ChargeRequest", "CheckContext", "CheckOutcome",
    "CheckRegistryError", "CheckRun", "ConformanceError", "DataFileError", "Driver",
    "DriverCertificate", "DriverError", "DriverHealth", "DriverProtocolError", "DriverResult",
    "DriverStatus", "DriverUnavailableError", "Evidence", "FeeItem", "HisConfiguration",
    "InProcessMock", "MockError", "MockUnavailableError", "ModeConfig", "PartialRefundRequest",
    "ReconcileRequest", "RefundRequest", "RegisterRequest", "RemoteMock", "ReportSignatureError",
    "RequirementSet", "RequirementsError", "RunAbortedError", "RunObserver", "RunResult", "Runner",
    "Scenario", "ScenarioError", "ScenarioRun", "SettlementTrace", "SignInRequest",
    "SigningConfig", "StageRun", "Status", "StepRun", "TranscriptRecord", "bundled_requirements",
    "bundled_stages_dir", "check", "default_registry", "failed", "load_requirements",
    "load_scenario", "load_stages", "not_applicable", "passed", "settlements",
    # inpatient stays (issue 12)
    "AdmitRequest", "CancelAdmissionRequest", "CancelStaySettlementRequest", "DischargeRequest",
    "StayFeesRequest", "StaySettlementRequest",
}  # fmt: skip
PINNED |= {"CancelChronicRequest", "RegisterChronicRequest"}  # chronic care (issue 12)


def test_exports_are_pinned() -> None:
    assert set(conformance.__all__) == PINNED
    assert all(hasattr(conformance, name) for name in PINNED)


def test_the_readme_documents_every_check_action_and_fault() -> None:
    readme = (data_dir("conformance") / "README.md").read_text(encoding="utf-8")
    missing = [name for name in default_registry() if f"`{name}`" not in readme]
    missing += [action for action in ACTIONS if f"`{action}" not in readme]
    missing += [kind.value for kind in FaultKind if f"`{kind.value}`" not in readme]
    assert not missing, f"conformance/README.md does not mention {missing}"
