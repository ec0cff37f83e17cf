"""The lab console: a web page where a certification lab runs, watches and explains a run.

``nhsa lab serve`` puts the mock national platform and the console on one port, over one
database: the platform at its usual paths (a HIS under test talks to it there), the console
under ``/console``, behind the mock's admin token. From the page a lab starts a conformance
run (stages, the ``sdk`` driver or a HIS's driver API URL) and watches it live, reads each
institution's transcript, ledger, filings, e-voucher tokens and downtime board, opens one visit
message by message, arms and clears faults, and downloads the signed reports of its past runs,
which the console keeps in the mock's database. Several labs share one server without seeing
each other: a session is bound to its lab, and a lab to the institutions its runs registered.

For problem coordination (问题协同) a visit is exported as one file (:func:`export_visit`,
``conformance/visit-export.schema.json``) and ``nhsa mock replay FILE`` re-runs it against a
fresh mock (:func:`replay`), saying field by field where the answers differ.

Example:
    >>> original = {"infcode": 0, "setl_id": "4000000000007"}
    >>> replayed = {"infcode": -1, "setl_id": "4000000000001"}
    >>> [d.describe() for d in diff(original, replayed, IdMap())]
    ['infcode: 0 → -1']
"""

from nhsa.lab._auth import lab_token
from nhsa.lab._compare import IGNORED, Difference, IdMap, diff
from nhsa.lab._export import (
    VisitExport,
    VisitExportError,
    VisitNotFoundError,
    encode_export,
    export_visit,
    read_export,
)
from nhsa.lab._pages import lab_server_app
from nhsa.lab._replay import ReplayedRecord, ReplayError, ReplayReport, replay
from nhsa.lab._visit import ROLES, VisitPart, visit_records, visit_verdict

__all__ = [
    "IGNORED",
    "ROLES",
    "Difference",
    "IdMap",
    "ReplayError",
    "ReplayReport",
    "ReplayedRecord",
    "VisitExport",
    "VisitExportError",
    "VisitNotFoundError",
    "VisitPart",
    "diff",
    "encode_export",
    "export_visit",
    "lab_server_app",
    "lab_token",
    "read_export",
    "replay",
    "visit_records",
    "visit_verdict",
]
