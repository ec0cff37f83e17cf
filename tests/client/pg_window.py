"""One cashier's PC of the two-window tests: charges every visit it is given, in its own order.

Run as ``python -m tests.client.pg_window JOURNAL PLATFORM_URL VISITS_PICKLE ORDER_SEED
[MSGID_COUNTER]``, in a working directory of its own (its "machine"); JOURNAL is a
``postgresql://`` URL or a file. A configuration the SDK refuses at start-up prints
``{"config_refused": "<why>"}`` instead.
Prints one JSON line: how many charges settled, how many the visit guard refused (another
window was charging it), how many found it settled already, how many were refused because
this window's journal did not register the visit, and how many failed otherwise.
"""

from __future__ import annotations

import json
import os
import pickle
import random
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from nhsa.client import (
    AlreadySettledError,
    Client,
    ClientConfig,
    NhsaClientError,
    VisitBusyError,
    VisitNotInJournalError,
    WindowMode,
)
from nhsa.client.errors import ClientConfigError
from tests.client.conftest import DIAGNOSES, FAST, fees
from tests.client.platform import AREA, TENANT, TENANT_NAME


def run_windows(
    journals: Sequence[str], platform_url: str, visits_file: Path, seeds: Sequence[str],
    home: Path, *counter: str,
) -> list[dict[str, object]]:  # fmt: skip
    """Run one window per journal (each in ``home/pc-N``) at once; their JSON lines, parsed."""
    windows = []
    for number, (journal, seed) in enumerate(zip(journals, seeds, strict=True), start=1):
        machine = home / f"pc-{number}"
        machine.mkdir()
        windows.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.client.pg_window",
                    journal,
                    platform_url,
                    str(visits_file),
                    seed,
                    *counter,
                ],
                cwd=machine,
                stdout=subprocess.PIPE,
                text=True,
                env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
            )
        )
    outputs = [window.communicate(timeout=300)[0] for window in windows]
    assert [window.returncode for window in windows] == [0] * len(windows), outputs
    return [json.loads(output) for output in outputs]


def main() -> None:
    journal, platform_url, visits_file, seed, *counter = sys.argv[1:]
    visits = pickle.loads(Path(visits_file).read_bytes())  # written by the test
    random.Random(int(seed)).shuffle(visits)
    where: dict[str, str] = {
        "journal_url" if journal.startswith("postgresql://") else "journal_path": journal
    }
    if counter:
        where["msgid_state_path"] = counter[0]
    config = ClientConfig(TENANT, TENANT_NAME, AREA, base_url=platform_url, retry=FAST, **where)
    counts = {"settled": 0, "busy": 0, "already": 0, "foreign": 0, "failed": 0}
    try:
        client = Client(config, WindowMode(f"C{seed:0>4}", "收费员"))
    except ClientConfigError as error:
        print(json.dumps({"config_refused": str(error)}, ensure_ascii=False), flush=True)
        return
    with client:
        for visit in visits * 2:  # twice round: the second pass must find every visit settled
            try:
                client.charge(visit, fees(), diagnoses=DIAGNOSES)
                counts["settled"] += 1
            except VisitBusyError:
                counts["busy"] += 1
            except AlreadySettledError:
                counts["already"] += 1
            except VisitNotInJournalError:
                counts["foreign"] += 1
            except NhsaClientError as error:  # anything else: counted, and the run goes on
                counts["failed"] += 1
                print(f"{visit.mdtrt_id}: {type(error).__name__}: {error}", file=sys.stderr)
    print(json.dumps(counts), flush=True)


if __name__ == "__main__":
    main()
