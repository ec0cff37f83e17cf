"""Broken HIS variants — DELIBERATELY WRONG — the negative controls of the conformance suite.

A suite that never fails proves nothing. :class:`RawHis` is a minimal HIS written straight on
httpx, ``nhsa.envelope`` and ``nhsa.signing`` (the SDK would make these mistakes impossible);
each :class:`Flaw` makes it commit one mistake found in real integrations, and
:data:`NEGATIVE_CONTROLS` says which bundled scenario exposes it and which requirement and
check must fail. ``python -m examples.broken_his --flaw reuse-msgid --port 9100`` serves a
broken variant over the driver API, so a lab can watch the suite fail over HTTP too.

Example:
    >>> NEGATIVE_CONTROLS[Flaw.KIOSK_AS_WINDOW].check
    'opter_type_matches_mode'
"""

from examples.broken_his.flaws import NEGATIVE_CONTROLS, Flaw, NegativeControl
from examples.broken_his.raw_his import RawHis

__all__ = ["NEGATIVE_CONTROLS", "Flaw", "NegativeControl", "RawHis"]
