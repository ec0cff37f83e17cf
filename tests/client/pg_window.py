"""One cashier's PC of the two-machine test: charges every visit it is given, in its own order.

Run as ``python -m tests.client.pg_window JOURNAL_URL PLATFORM_URL VISITS_PICKLE ORDER_SEED``,
in a working directory of its own (its "machine"); prints one JSON line: how many charges
settled, how many the visit guard refused (another window was charging it), how many found it
settled already.
"""

from __future__ import annotations

import json
import pickle
import random
import sys
from pathlib import Path

from nhsa.client import AlreadySettledError, Client, ClientConfig, VisitBusyError, WindowMode
from tests.client.conftest import DIAGNOSES, FAST, fees
from tests.client.platform import AREA, TENANT, TENANT_NAME


def main() -> None:
    journal_url, platform_url, visits_file, seed = sys.argv[1:5]
    visits = pickle.loads(Path(visits_file).read_bytes())  # written by the test
    random.Random(int(seed)).shuffle(visits)
    config = ClientConfig(
        TENANT, TENANT_NAME, AREA, journal_url=journal_url, base_url=platform_url, retry=FAST
    )
    counts = {"settled": 0, "busy": 0, "already": 0}
    with Client(config, WindowMode(f"C{seed:0>4}", "收费员")) as client:
        for visit in visits * 2:  # twice round: the second pass must find every visit settled
            try:
                client.charge(visit, fees(), diagnoses=DIAGNOSES)
                counts["settled"] += 1
            except VisitBusyError:
                counts["busy"] += 1
            except AlreadySettledError:
                counts["already"] += 1
    print(json.dumps(counts), flush=True)


if __name__ == "__main__":
    main()
