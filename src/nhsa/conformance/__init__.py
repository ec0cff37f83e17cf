"""The conformance suite: the certification stages as a run a lab can repeat, read and sign.

The system under test is a hospital's HIS — a *client* of the platform — so the mock platform
is the instrument (as ONC's Inferno tests clients): the suite registers a fresh institution,
arms faults, asks the HIS to act through a :class:`Driver`, and judges what the mock saw
(its transcript) and what the driver reported, with checks that each name the requirements
they verify. Requirements and scenarios are data (``conformance/``); checks are code.

Rooms of this package:

- requirements (``requirements.csv``), scenarios (``stages/<stage>/*.yaml``) — loaders that
  name the file and line of every problem;
- :class:`Driver` (the HIS) and :class:`MockHandle` (the platform) — the two seams, with
  :class:`InProcessMock` and :class:`RemoteMock` adapters; drivers live in
  ``nhsa.conformance.drivers``;
- checks (:func:`check`, :mod:`nhsa.conformance.checks`), the typed transcript record they read
  (:class:`TranscriptRecord`, replayed by :func:`settlements`) and the :class:`Runner`;
- reports (JSON, JUnit XML, HTML) and their SM2 signatures.

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
    ACTIONS,
    CancelRegistrationRequest,
    Certificate,
    ChargeRequest,
    Driver,
    DriverHealth,
    DriverResult,
    FeeItem,
    HisConfiguration,
    ModeConfig,
    Outcome,
    PartialRefundRequest,
    ReconcileRequest,
    RefundRequest,
    RegisterRequest,
    SigningConfig,
    SignInRequest,
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
    UnknownDriverError,
)
from nhsa.conformance._mock_adapters import InProcessMock, RemoteMock
from nhsa.conformance._mock_handle import (
    FAULT_KINDS,
    FaultSpec,
    InstitutionRegistration,
    InstitutionTakenError,
    LedgerTotals,
    MockHandle,
)
from nhsa.conformance._registry import (
    ENTRY_POINT_GROUP,
    CheckRegistry,
    CheckSpec,
    check,
    default_registry,
    load_entry_points,
)
from nhsa.conformance._requirements import (
    STAGES,
    Requirement,
    RequirementSet,
    bundled_requirements,
    load_requirements,
)
from nhsa.conformance._results import Member, Status, roll_up
from nhsa.conformance._runner import (
    CheckRun,
    RunAbortedError,
    Runner,
    RunObserver,
    RunResult,
    ScenarioRun,
    StageRun,
)
from nhsa.conformance._scenario import Scenario, bundled_stages_dir, load_scenario, load_stages
from nhsa.conformance._transcript import SettlementTrace, TranscriptRecord, settlements

__all__ = [
    "ACTIONS",
    "ENTRY_POINT_GROUP",
    "FAULT_KINDS",
    "STAGES",
    "CancelRegistrationRequest",
    "Certificate",
    "ChargeRequest",
    "CheckContext",
    "CheckOutcome",
    "CheckRegistry",
    "CheckRegistryError",
    "CheckRun",
    "CheckSpec",
    "ConformanceError",
    "DataFileError",
    "Driver",
    "DriverError",
    "DriverHealth",
    "DriverProtocolError",
    "DriverResult",
    "DriverUnavailableError",
    "Evidence",
    "FaultSpec",
    "FeeItem",
    "HisConfiguration",
    "InProcessMock",
    "InstitutionRegistration",
    "InstitutionTakenError",
    "LedgerTotals",
    "Member",
    "MockError",
    "MockHandle",
    "MockUnavailableError",
    "ModeConfig",
    "Outcome",
    "PartialRefundRequest",
    "ReconcileRequest",
    "RefundRequest",
    "RegisterRequest",
    "RemoteMock",
    "ReportSignatureError",
    "Requirement",
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
    "StepRun",
    "TranscriptRecord",
    "UnknownDriverError",
    "bundled_requirements",
    "bundled_stages_dir",
    "check",
    "default_registry",
    "failed",
    "load_entry_points",
    "load_requirements",
    "load_scenario",
    "load_stages",
    "not_applicable",
    "passed",
    "roll_up",
    "settlements",
]
