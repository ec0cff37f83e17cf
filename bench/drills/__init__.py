"""Reliability drills: the kit attacked the way an independent probe attacks it, as benchmarks.

- :mod:`bench.drills.fuzz` — malformed requests of fourteen families, every field of every
  transaction from the contract among them, against ``nhsa mock serve`` per signing profile;
- :mod:`bench.drills.tamper` — signed requests changed by one byte, replayed, or stale;
- :mod:`bench.drills.chaos` — SDK visits under the mock's faults, then recover and reconcile;
- :mod:`bench.drills.kill` — SIGKILL of the platform and of the HIS under load.

Each is one piece of code with a size: ``bench/drill_<name>.py`` runs it full (it prints a
table and writes ``bench/results/drill_<name>.json``), ``tests/drills/`` runs it short in
``make test``. Everything is bounded in count and time and listens on 127.0.0.1 only.
"""
