"""Fault injection: the mock platform misbehaving on purpose, deterministically and in scope.

A fault (:class:`FaultSpec`) names a kind (:class:`FaultKind`), a scope (transactions, person,
insured area) and a trigger (the next N calls, or a seeded probability). Faults are armed per
tenant on a :class:`FaultBoard` three ways — the admin API, Python calls on
``MockPlatform``, and the test-only ``x-mock-fault`` request header — and every fault that
fires is written into that call's transcript record. What a fault does to the connection
itself (hang, reset, delay) goes through a :class:`ConnectionControl`, so the same app
misbehaves faithfully under uvicorn and without sockets in-process.

Example:
    >>> board = FaultBoard()
    >>> _ = board.arm("H53010100001", parse_fault_spec({"kind": "commit-then-drop",
    ...                                                 "infno": "2207"}), origin="admin")
    >>> applied = board.take("H53010100001", CallFacts("2207"))
    >>> applied.record()["kind"], applied.spec.stage
    ('commit-then-drop', 'after')
"""

from nhsa.mock.faults._board import (
    AppliedFault,
    ArmedFault,
    CallFacts,
    FaultBoard,
    Origin,
)
from nhsa.mock.faults._connection import (
    CONNECTION_EXTENSION,
    AnswerWithheld,
    ConnectionControl,
    FallbackControl,
    InProcessControl,
    SocketControl,
    control_of,
)
from nhsa.mock.faults._header import FAULT_HEADER, parse_fault_header
from nhsa.mock.faults._model import (
    FaultKind,
    FaultSpec,
    FaultSpecError,
    Stage,
    Withhold,
    parse_fault_spec,
)
from nhsa.mock.faults._wording import garble, realistic_business_error, unreachable_message

__all__ = [
    "CONNECTION_EXTENSION",
    "FAULT_HEADER",
    "AnswerWithheld",
    "AppliedFault",
    "ArmedFault",
    "CallFacts",
    "ConnectionControl",
    "FallbackControl",
    "FaultBoard",
    "FaultKind",
    "FaultSpec",
    "FaultSpecError",
    "InProcessControl",
    "Origin",
    "SocketControl",
    "Stage",
    "Withhold",
    "control_of",
    "garble",
    "parse_fault_header",
    "parse_fault_spec",
    "realistic_business_error",
    "unreachable_message",
]
