"""A HIS process that registers a visit and charges it against a running mock, then waits for
the settlement's answer — the crash test kills it while it waits.

Run: ``python -m tests.client.crash_child BASE_URL JOURNAL``. Prints ``registered <mdtrt_id>``
before charging, so the test knows which visit is in flight.
"""

from __future__ import annotations

import sys
from pathlib import Path

from nhsa.client import Client, ClientConfig, Timeouts
from tests.client.conftest import CLINIC, DIAGNOSES, FAST, WINDOW, card, fees
from tests.client.platform import AREA, TENANT, TENANT_NAME


def main(base_url: str, journal: Path) -> None:
    config = ClientConfig(
        TENANT,
        TENANT_NAME,
        AREA,
        journal_path=journal,
        base_url=base_url,
        retry=FAST,
        timeouts=Timeouts(read=600),  # it waits for the lost answer until it is killed
    )
    with Client(config, WINDOW) as client:
        visit = client.register(card(), insutype="310", clinic=CLINIC)
        print("registered", visit.mdtrt_id, flush=True)
        client.charge(visit, fees(), diagnoses=DIAGNOSES)
    print("unreachable: the answer of 2207 was supposed to be lost", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
