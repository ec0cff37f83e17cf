"""Chaos drill: ≥ 10,000 SDK visits with ≥ 20 % of calls faulted, then recover and reconcile.

What it runs and counts is described in ``bench/drills/chaos.py``. Prints a table and writes
``bench/results/drill_chaos.json``; lost, doubled, unresolved and SDK crashes must be 0 and
3201 must balance. ``--visits N`` in-process (default 10,000), ``--socket-visits``,
``--pairs``, ``--processes``, ``--deadline`` (seconds per part), ``--seed``.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout: bench.drills

from bench.drills.chaos import main

if __name__ == "__main__":
    raise SystemExit(main())
