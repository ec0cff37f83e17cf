"""What the workers of one mock platform on PostgreSQL must agree on, beyond the business rows.

One process keeps these in memory; several workers over one database cannot. Decided item by
item (``tests/mock/test_workers.py`` checks each across two real worker processes):

==========================  ===================================================================
item                        across workers
==========================  ===================================================================
registrations (directory)   each worker keeps its directory in memory and reloads it when the
                            shared *generation* moved: a transaction writing ``institutions``
                            or ``tenant_settings`` bumps it, every request reads it (one row)
gateway nonces (replay      one table (``replay_memory``, UNLOGGED: like the in-memory guard
guard)                      it need not survive a restart); a claim is one INSERT that
                            succeeds for exactly one worker; expired rows are reused and swept
armed faults                one table (``armed_faults``); firing a fault with ``times`` is an
                            atomic UPDATE, so N workers fire it N times in all, not N × times;
                            probability draws stay per worker (which worker gets a call is not
                            reproducible anyway)
msgid duplicates (durable)  the engine's ``messages`` rows, under the tenant lock (``_postgres``)
ids                         each worker reserves its own blocks from ``id_sequence``
inf_refmsgid serials        per worker, from a random start, as across a restart (a repeat
                            needs the same serial in the same second: odds ≈ 1e-7 a day)
==========================  ===================================================================

Example::

    shared = store.shared
    shared.claim(("nonce", "paas-1", "n-1"), expires_at=now + 300, now=now)   # True once
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Final

from nhsa.mock.store._records import RegisteredInstitution, TenantSetting

if TYPE_CHECKING:
    import psycopg

__all__ = ["SHARED_SCHEMA", "SharedState"]

SHARED_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS shared_generation (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
INSERT INTO shared_generation (name, value) VALUES ('registry', 0) ON CONFLICT DO NOTHING;
CREATE UNLOGGED TABLE IF NOT EXISTS replay_memory (
    kind TEXT NOT NULL, scope TEXT NOT NULL, value TEXT NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (kind, scope, value));
CREATE TABLE IF NOT EXISTS armed_faults (
    fault_id BIGSERIAL PRIMARY KEY, tenant TEXT NOT NULL, spec TEXT NOT NULL,
    origin TEXT NOT NULL, times BIGINT, fired BIGINT NOT NULL DEFAULT 0);
"""
"""Tables beside the record tables (created if missing; they hold no history to migrate)."""

_SWEEP_EVERY: Final = 1000
"""Claims between two sweeps of expired replay-memory rows."""


class SharedState:
    """The platform's shared memory in PostgreSQL (see the module docstring).

    Created by :class:`~nhsa.mock.store.PostgresStore`; it uses the store's connection and
    lock, outside the store's transactions (each call is its own statement).
    """

    watched: Final = frozenset({RegisteredInstitution, TenantSetting})
    """Record types whose writes move the generation (workers reload their directories)."""

    def __init__(
        self,
        connection: psycopg.Connection[tuple[Any, ...]],
        lock: threading.RLock,
        namespace: str,
    ) -> None:
        self._db = connection
        self._lock = lock
        self.namespace = namespace
        self._claims = 0

    # -- the generation -------------------------------------------------------------------

    def generation(self) -> int:
        """How many shared changes were committed so far (a worker compares it per request)."""
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM shared_generation WHERE name = 'registry'"
            ).fetchone()
        return int(str(row[0])) if row else 0

    def changed_in(self, connection: psycopg.Connection[tuple[Any, ...]]) -> None:
        """Move the generation inside the caller's open transaction (seen once it commits)."""
        connection.execute("UPDATE shared_generation SET value = value + 1 WHERE name = 'registry'")

    # -- replay memory --------------------------------------------------------------------

    def claim(self, key: tuple[str, str, str], *, expires_at: float, now: float) -> bool:
        """Remember ``key`` until ``expires_at``; ``False`` when a live entry already has it."""
        kind, scope, value = key
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO replay_memory (kind, scope, value, expires_at)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT (kind, scope, value) DO UPDATE"
                " SET expires_at = EXCLUDED.expires_at WHERE replay_memory.expires_at <= %s",
                (kind, scope, value, expires_at, now),
            )
            self._claims += 1
            if self._claims % _SWEEP_EVERY == 0:
                self._db.execute("DELETE FROM replay_memory WHERE expires_at <= %s", (now,))
        return cursor.rowcount == 1

    def remembered(self, now: float) -> int:
        """How many live entries the replay memory holds."""
        with self._lock:
            row = self._db.execute(
                "SELECT count(*) FROM replay_memory WHERE expires_at > %s", (now,)
            ).fetchone()
        return int(str(row[0])) if row else 0

    # -- armed faults ---------------------------------------------------------------------

    def arm_fault(self, tenant: str, spec_json: str, origin: str, times: int | None) -> int:
        """Store an armed fault; returns its number."""
        with self._lock, self._db.transaction():
            row = self._db.execute(
                "INSERT INTO armed_faults (tenant, spec, origin, times) VALUES (%s, %s, %s, %s)"
                " RETURNING fault_id",
                (tenant, spec_json, origin, times),
            ).fetchone()
            self.changed_in(self._db)
        assert row is not None, "INSERT ... RETURNING always returns the row"
        return int(str(row[0]))

    def armed_faults(self, tenant: str) -> list[tuple[int, str, str, int]]:
        """(number, spec JSON, origin, fired) of the tenant's armed faults, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT fault_id, spec, origin, fired FROM armed_faults WHERE tenant = %s"
                " ORDER BY fault_id",
                (tenant,),
            ).fetchall()
        return [(int(str(a)), str(b), str(c), int(str(d))) for a, b, c, d in rows]

    def fire_fault(self, fault_id: int) -> int | None:
        """Count one firing if the fault still has one left; its new ``fired``, else ``None``.

        A fault that has fired its last time is removed in the same transaction.
        """
        with self._lock, self._db.transaction():
            row = self._db.execute(
                "UPDATE armed_faults SET fired = fired + 1"
                " WHERE fault_id = %s AND (times IS NULL OR fired < times)"
                " RETURNING fired, times",
                (fault_id,),
            ).fetchone()
            if row is None:
                return None
            fired, times = int(str(row[0])), row[1]
            if times is not None and fired >= int(str(times)):
                self._db.execute("DELETE FROM armed_faults WHERE fault_id = %s", (fault_id,))
                self.changed_in(self._db)
        return fired

    def clear_faults(self, tenant: str, fault_id: int | None) -> int:
        """Disarm one fault or all of the tenant's; how many were removed."""
        with self._lock, self._db.transaction():
            if fault_id is None:
                cursor = self._db.execute("DELETE FROM armed_faults WHERE tenant = %s", (tenant,))
            else:
                cursor = self._db.execute(
                    "DELETE FROM armed_faults WHERE tenant = %s AND fault_id = %s",
                    (tenant, fault_id),
                )
            if cursor.rowcount:
                self.changed_in(self._db)
        return cursor.rowcount
