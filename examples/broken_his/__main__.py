"""``python -m examples.broken_his --flaw FLAW --port N``: a DELIBERATELY BROKEN HIS over HTTP.

Serves the raw HIS with the chosen flaws behind the same driver API as the reference HIS, so a
lab can watch the conformance suite fail for the right reason::

    export NHSA_MOCK_ADMIN_TOKEN=<a secret of 16+ characters>   # both commands read it
    nhsa mock serve --port 8700 &
    python -m examples.broken_his --flaw reuse-msgid --port 9100 &
    nhsa conformance run --stage lab --driver http://127.0.0.1:9100 \\
        --mock http://127.0.0.1:8700                            # fails HIS-MSG-003
"""

from __future__ import annotations

import argparse
import threading
from typing import Any

from examples.broken_his.flaws import NEGATIVE_CONTROLS, Flaw
from examples.broken_his.raw_his import RawHis
from examples.reference_his.app import build_app, serve

from nhsa.conformance import DriverHealth, DriverResult, HisConfiguration


class _Backend:
    """The raw HIS as the driver API's backend, one action at a time."""

    def __init__(self, his: RawHis) -> None:
        self.his = his
        self._lock = threading.Lock()

    def health(self) -> DriverHealth:
        return self.his.health()

    def configure(self, config: HisConfiguration) -> DriverResult:
        with self._lock:
            return self.his.configure(config)

    def act(self, action: str, request: Any) -> DriverResult:
        with self._lock:
            result: DriverResult = getattr(self.his, action)(request)
            return result


def main() -> None:
    """Parse the flags and serve."""
    parser = argparse.ArgumentParser(description="a DELIBERATELY BROKEN HIS (negative control)")
    parser.add_argument(
        "--flaw", action="append", default=[], choices=[f.value for f in Flaw],
        help="a deliberate mistake (repeatable); none: the raw HIS done right",
    )  # fmt: skip
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100, help="TCP port (0: a free one)")
    parser.add_argument("--read-timeout", type=float, default=5.0)
    args = parser.parse_args()
    flaws = [Flaw(f) for f in args.flaw]
    for flaw in flaws:
        control = NEGATIVE_CONTROLS[flaw]
        print(f"flaw {flaw}: {control.scenario} must fail {control.requirement} ({control.check})")
    his = RawHis(flaws, read_timeout=args.read_timeout)
    try:
        serve(build_app(_Backend(his)), args.host, args.port, what=his.describe())
    finally:
        his.close()


main()
