"""A HIS counter as a process of its own, for the kill drill: ``recover()`` at start-up, then
visits until it is told to stop (SIGTERM) or killed (SIGKILL, which is the point).

Run: ``python -m bench.drills._worker URL JOURNAL SEED KIOSK`` with the institution's JSON
(:meth:`Institution.to_json`, keys inside) on stdin — never on the command line. Prints
``ready`` once recovered, and ``done <visits>`` when stopped.
"""

from __future__ import annotations

import logging
import random
import signal
import sys
import threading
import time
from pathlib import Path

from nhsa.client import Client

from ._site import Institution
from ._workflows import KIOSK, WINDOW, Tally, visit


def main(url: str, journal: Path, seed: int, kiosk: bool) -> None:
    """Recover, then visit until SIGTERM."""
    logging.disable(logging.WARNING)  # the SDK's warnings are what the drill provokes
    institution = Institution.from_json(sys.stdin.readline())
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    tally = Tally()
    rng = random.Random(seed)
    config = institution.config(url, journal, read_timeout=10.0)
    with Client(config, KIOSK if kiosk else WINDOW) as client:
        client.recover()
        print("ready", flush=True)
        while not stop.is_set():
            if not visit(client, kiosk=kiosk, rng=rng, tally=tally):
                time.sleep(0.05)  # the platform is away: do not spin
    print("done", tally.visits, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "kiosk")
