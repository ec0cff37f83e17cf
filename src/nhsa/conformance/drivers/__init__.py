"""Drivers: how the suite makes a HIS act — nhsa-kit's SDK, a foreign HIS over HTTP, or a person.

- :class:`SdkDriver` (``--driver sdk``): the SDK in this process (:class:`SdkHis`);
- :class:`HttpDriver` (``--driver http://HOST:PORT``): a HIS implementing
  ``conformance/driver-api.yaml``, every answer validated against that document;
- :class:`ManualDriver` (``--driver manual``): tells an operator what to do at the window or
  kiosk, then watches the mock's transcript for the messages that should follow.

Each public module (``sdk``, ``http``, ``manual``) offers ``create_driver(target, *, mock,
step_timeout)``, which the runner's ``--driver`` lookup (:mod:`nhsa.conformance._setup`) calls.

Example:
    >>> from nhsa.conformance.drivers import SdkDriver
    >>> SdkDriver().health().ready
    True
"""

from nhsa.conformance.drivers._book import MemoryBook, VisitBook
from nhsa.conformance.drivers._recording import RecordingTransport, SentLog
from nhsa.conformance.drivers._sdk_his import DEFAULT_DIAGNOSIS, SdkHis, result_of_error
from nhsa.conformance.drivers.sdk import SdkDriver

__all__ = [
    "DEFAULT_DIAGNOSIS",
    "MemoryBook",
    "RecordingTransport",
    "SdkDriver",
    "SdkHis",
    "SentLog",
    "VisitBook",
    "result_of_error",
]
