"""Fuzz drill: ≥ 10,000 malformed requests per signing profile against ``nhsa mock serve``.

What it sends and counts is described in ``bench/drills/fuzz.py``. Prints two tables (by
profile, by family) and writes ``bench/results/drill_fuzz.json``; every failure column must be
0. ``--requests N`` per profile (default 10,000), ``--seed S``.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout: bench.drills

from bench.drills.fuzz import main

if __name__ == "__main__":
    raise SystemExit(main())
