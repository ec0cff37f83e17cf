"""The mock national platform (国家医疗保障信息平台) that HIS developers and CI test against.

It remembers what it issued (``mdtrt_id``, ``setl_id``, fee serials), settles the way the
insured place would, and misbehaves on purpose when asked. Its rooms:

- ``nhsa.mock.settlement`` — the policy calculator: prices fee lines against the treatment
  place's catalogue and settles a bill under the insured place's policy (plain Python, Decimal);
- ``nhsa.mock.fixtures`` — the test patients, institutions, catalogues, policies and province
  profiles, loaded from ``conformance/fixtures/`` (or any folder) into one immutable set;
- ``nhsa.mock.store`` and ``nhsa.mock.engine`` — the durable state and the business rules,
  one handler per infno, no HTTP;
- ``nhsa.mock.app`` — the HTTP skin (gateway and signature checks, contract validation, the
  transcript), served by uvicorn (``nhsa mock serve``) or in-process;
- ``nhsa.mock.faults``, ``nhsa.mock.transcript``, ``nhsa.mock.admin`` — fault injection, the
  record of every request, and the control plane.

Most users need only :class:`MockPlatform` (in-process, with httpx transports and the admin
operations as methods) or the ``nhsa_mock`` pytest fixture.

Example:
    >>> from nhsa.mock.fixtures import bundled_fixtures
    >>> bundled_fixtures().institution("H53010100001").mdtrtarea_admvs
    '530100'
    >>> with MockPlatform() as mock:
    ...     mock.arm_fault("H53010100001", "commit-then-drop", infno="2207")["kind"]
    'commit-then-drop'
"""

from nhsa.mock.admin import AdminError
from nhsa.mock.faults import FaultKind, FaultSpec, FaultSpecError
from nhsa.mock.platform import DEFAULT_BASE_URL, Enrollment, MockPlatform, assemble

__all__ = [
    "DEFAULT_BASE_URL",
    "AdminError",
    "Enrollment",
    "FaultKind",
    "FaultSpec",
    "FaultSpecError",
    "MockPlatform",
    "assemble",
]
