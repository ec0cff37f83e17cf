"""The reference HIS itself: the SDK-based HIS with its own database and journals on disk.

Everything a hospital's system would keep lives in ``data_dir``:

- ``his.db`` — visits, settlements and the configuration (:class:`~store.HisStore`);
- ``journals/journal-<institution>.db`` — the SDK's journal, one per institution: every
  state-changing message is written there before it is sent.

At start-up the service resumes the last configuration and runs ``client.recover()``, which
closes whatever a crash or a lost answer left open (reversing an unknown settlement, for
instance) before the HIS takes new work. The actions themselves are those of
:class:`nhsa.conformance.drivers.SdkHis`: the SDK's workflows, outcomes reported honestly.

Example::

    his = ReferenceHis(Path("his-data"), read_timeout=5)
    his.start()          # resume and recover, if it was configured before
    his.act("sign_in", SignInRequest())
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from examples.reference_his.store import HisStore

from nhsa.client import Timeouts
from nhsa.conformance import DriverHealth, DriverResult, HisConfiguration
from nhsa.conformance.drivers import SdkHis

__all__ = ["ReferenceHis"]

NAME = "nhsa-kit reference HIS"


class ReferenceHis:
    """The HIS behind the driver API (see the module docstring).

    Args:
        data_dir: where the HIS's database and the SDK's journals live (created if missing).
        read_timeout: seconds the SDK waits for an answer; a lost answer costs this long.
        dialect: the one province dialect this HIS speaks whatever ``configure`` says (a HIS
            built for one province); ``None`` speaks the dialect ``configure`` names.
    """

    def __init__(
        self, data_dir: Path, *, read_timeout: float = 10.0, dialect: str | None = None
    ) -> None:
        """Open the database; nothing is contacted until :meth:`start` or ``configure``."""
        data_dir.mkdir(parents=True, exist_ok=True)
        journals = data_dir / "journals"
        journals.mkdir(exist_ok=True)
        self.store = HisStore(data_dir / "his.db")
        self.his = SdkHis(
            book=self.store,
            journal_dir=journals,
            timeouts=Timeouts(read=read_timeout),
            name=NAME,
            dialect=dialect,
        )
        # One counter: actions run one at a time, as a cashier or a kiosk works.
        self._lock = threading.Lock()

    def start(self) -> DriverResult | None:
        """Resume the saved configuration and recover its journal; ``None`` if never configured."""
        saved = self.store.configuration()
        if saved is None:
            return None
        with self._lock:
            return self.his.configure(saved)

    def health(self) -> DriverHealth:
        """Ready, and for which institution it acts."""
        return self.his.health()

    def configure(self, config: HisConfiguration) -> DriverResult:
        """Act as ``config``'s institution from now on (kept for restarts)."""
        with self._lock:
            result = self.his.configure(config)
            if result.status == "ok":
                self.store.save_configuration(config)
            return result

    def act(self, action: str, request: Any) -> DriverResult:
        """Run one business action (``sign_in`` … ``reconcile``) with its request."""
        with self._lock:
            result: DriverResult = getattr(self.his, action)(request)
            return result

    def close(self) -> None:
        """Sign out and close the database."""
        with self._lock:
            self.his.close()
            self.store.close()
