"""Kill drill: SIGKILL of ``nhsa mock serve`` and of HIS processes under load, restart,
recover, reconcile.

What it runs and counts is described in ``bench/drills/kill.py``. Prints a table and writes
``bench/results/drill_kill.json``; lost, doubled and unresolved must be 0 and 3201 must
balance. ``--rounds N`` kills per part (default 5), ``--counters N`` (default 4), ``--seed``.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout: bench.drills

from bench.drills.kill import main

if __name__ == "__main__":
    raise SystemExit(main())
