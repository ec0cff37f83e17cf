"""The conformance suite: the certification stages as a run a lab can repeat, read and sign.

The system under test is a hospital's HIS — a *client* of the platform — so the mock platform
is the instrument (as ONC's Inferno tests clients): the suite registers a fresh institution,
arms faults, asks the HIS to act through a :class:`Driver`, and judges what the mock saw
(its transcript) and what the driver reported, with checks that each name the requirements
they verify. Requirements and scenarios are data (``conformance/``); checks are code.

What this package exports is what a lab or a check author uses (a test pins it):

- **run**: :class:`Runner` over a :class:`Driver` and the mock (:class:`InProcessMock`,
  :class:`RemoteMock`), its :class:`RunResult` (stages, scenarios, steps, checks, each with a
  :class:`Status`); reports are written by :func:`nhsa.conformance.reports.write_reports`;
- **load**: :func:`load_stages` / :func:`load_scenario` (checked against
  ``conformance/scenario.schema.json``), :func:`load_requirements`;
- **checks**: :func:`check` registers one; it gets a :class:`CheckContext`, returns
  :func:`passed`, :func:`failed` (with :class:`Evidence`) or :func:`not_applicable`, and reads
  the transcript as typed records (:class:`TranscriptRecord`, replayed by :func:`settlements`);
- **the driver protocol**: :class:`Driver`, one frozen request type per action, and
  :class:`DriverResult`; the drivers themselves live in ``nhsa.conformance.drivers``;
- **errors**: the :class:`ConformanceError` tree (``nhsa.conformance._errors`` draws it).

Example:
    >>> from nhsa.conformance import Status, bundled_requirements
    >>> bundled_requirements()["HIS-REV-002"].level, Status.PASS.blocks_exit
    ('SHALL', False)
"""

from nhsa.conformance._context import (
    CheckContext,
    CheckOutcome,
    Evidence,
    StepRun,
    failed,
    not_applicable,
    passed,
)
from nhsa.conformance._driver import (
    AdmitRequest,
    CancelAdmissionRequest,
    CancelChronicRequest,
    CancelRegistrationRequest,
    CancelStaySettlementRequest,
    ChargeRequest,
    DischargeRequest,
    Driver,
    DriverCertificate,
    DriverHealth,
    DriverResult,
    DriverStatus,
    FeeItem,
    HisConfiguration,
    ModeConfig,
    PartialRefundRequest,
    ReconcileRequest,
    RefundRequest,
    RegisterChronicRequest,
    RegisterRequest,
    SigningConfig,
    SignInRequest,
    StayFeesRequest,
    StaySettlementRequest,
)
from nhsa.conformance._errors import (
    CheckRegistryError,
    ConformanceError,
    DataFileError,
    DriverError,
    DriverProtocolError,
    DriverUnavailableError,
    MockError,
    MockUnavailableError,
    ReportSignatureError,
    RequirementsError,
    ScenarioError,
)
from nhsa.conformance._loader import load_scenario, load_stages
from nhsa.conformance._mock_adapters import InProcessMock, RemoteMock
from nhsa.conformance._registry import check, default_registry
from nhsa.conformance._requirements import (
    STAGES,
    RequirementSet,
    bundled_requirements,
    load_requirements,
)
from nhsa.conformance._results import Status
from nhsa.conformance._runner import (
    CheckRun,
    RunAbortedError,
    Runner,
    RunObserver,
    RunResult,
    ScenarioRun,
    StageRun,
)
from nhsa.conformance._scenario import Scenario, bundled_stages_dir
from nhsa.conformance._transcript import SettlementTrace, TranscriptRecord, settlements

__all__ = [
    "STAGES",
    "AdmitRequest",
    "CancelAdmissionRequest",
    "CancelChronicRequest",
    "CancelRegistrationRequest",
    "CancelStaySettlementRequest",
    "ChargeRequest",
    "CheckContext",
    "CheckOutcome",
    "CheckRegistryError",
    "CheckRun",
    "ConformanceError",
    "DataFileError",
    "DischargeRequest",
    "Driver",
    "DriverCertificate",
    "DriverError",
    "DriverHealth",
    "DriverProtocolError",
    "DriverResult",
    "DriverStatus",
    "DriverUnavailableError",
    "Evidence",
    "FeeItem",
    "HisConfiguration",
    "InProcessMock",
    "MockError",
    "MockUnavailableError",
    "ModeConfig",
    "PartialRefundRequest",
    "ReconcileRequest",
    "RefundRequest",
    "RegisterChronicRequest",
    "RegisterRequest",
    "RemoteMock",
    "ReportSignatureError",
    "RequirementSet",
    "RequirementsError",
    "RunAbortedError",
    "RunObserver",
    "RunResult",
    "Runner",
    "Scenario",
    "ScenarioError",
    "ScenarioRun",
    "SettlementTrace",
    "SignInRequest",
    "SigningConfig",
    "StageRun",
    "Status",
    "StayFeesRequest",
    "StaySettlementRequest",
    "StepRun",
    "TranscriptRecord",
    "bundled_requirements",
    "bundled_stages_dir",
    "check",
    "default_registry",
    "failed",
    "load_requirements",
    "load_scenario",
    "load_stages",
    "not_applicable",
    "passed",
    "settlements",
]
