"""Tamper and replay drill: signed requests changed by one byte, replayed or stale.

What it sends and counts is described in ``bench/drills/tamper.py``. Prints a table and writes
``bench/results/drill_tamper.json``; every forged or replayed request must be refused, with no
state change. ``--trials N`` per profile (default 500), ``--seed S``.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout: bench.drills

from bench.drills.tamper import main

if __name__ == "__main__":
    raise SystemExit(main())
