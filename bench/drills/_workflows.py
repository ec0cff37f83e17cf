"""One outpatient visit through the SDK, the way a counter does it, whatever the platform does.

A window (cashier, ID card or social-security card) or a kiosk (e-voucher or card) registers
a fixture patient, then — drawn from a seeded generator — cancels the registration, or
charges three fee lines and keeps the charge, refunds one line (partial refund: 2208 + 2205 +
a new settlement of the rest) or refunds it all and maybe cancels the registration. A step
that fails is tried once more, as a cashier or a patient would; then the visit is left as it
is. Every SDK error is expected (the drill provokes them); any other exception is a bug and
is counted as a crash.

Example::

    tally = Tally()
    visit(client, kiosk=False, rng=random.Random(1), tally=tally)
"""

from __future__ import annotations

import contextlib
import random
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from nhsa.client import (
    Certificate,
    Client,
    Clinic,
    Diagnosis,
    FeeLine,
    KioskMode,
    NhsaClientError,
    ReconcileReport,
    WindowMode,
)

__all__ = [
    "CLINIC", "DIAGNOSES", "KIOSK", "PATIENTS", "WINDOW", "Tally", "fees", "settle_up", "visit",
]  # fmt: skip

T = TypeVar("T")

_LEDGER_WRITES = ("2207", "2208")
WINDOW = WindowMode("C0001", "收费员甲")
KIOSK = KioskMode("K01", "SAFE-K01-0001", "K01", "自助机1号")
CLINIC = Clinic("0301", "内科门诊", "D530100000101", "医师丁", "A03")
DIAGNOSES = (Diagnosis("J06.900", "急性上呼吸道感染"),)

# Invented Kunming patients of the bundled fixtures: (ID number, card, card_sn, e-voucher
# token, insutype).
PATIENTS = (
    ("530102198503150018", "TA5300001", "530100D15600000500000000A1B2C3D4",
     "ECTEST-530100-0001-4F2A9C1E", "310"),
    ("530103195807020020", "TA5300002", "530100D15600000500000000A1B2C3D5",
     "ECTEST-530100-0002-8B7D3E05", "310"),
    ("530102197611200137", "TA5300003", "530100D15600000500000000A1B2C3D6",
     "ECTEST-530100-0003-1C6F0A77", "310"),
    ("530111199005080249", "TA5300004", "530100D15600000500000000A1B2C3D7",
     "ECTEST-530100-0004-6D2E8B90", "390"),
    ("530112196209300461", "TA5300005", "530100D15600000500000000A1B2C3D8",
     "ECTEST-530100-0005-0E9A4C3B", "390"),
    ("530102201504120579", "TA5300006", "530100D15600000500000000A1B2C3D9",
     "ECTEST-530100-0006-B35C7E21", "390"),
)  # fmt: skip


def fees() -> list[FeeLine]:
    """Three lines of the Kunming catalogue: 甲 consultation, 乙 drug, 丙 self-paid."""
    return [
        FeeLine("110200001000000", "HIS-ZC-0001", cnt=1, pric=Decimal("25.00")),
        FeeLine("XJ01DCC035A001010100002", "HIS-YP-0002", cnt=2, pric=Decimal("18.50")),
        FeeLine("XA11CCA001A001010100007", "HIS-YP-0007", cnt=1, pric=Decimal("12.80")),
    ]


@dataclass
class Tally:
    """What the visits did: how many, which steps ended how, which errors the SDK raised."""

    visits: int = 0
    steps: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    crashes: list[str] = field(default_factory=list)

    def merge(self, other: Tally) -> None:
        """Add ``other``'s counts to these."""
        self.visits += other.visits
        self.steps.update(other.steps)
        self.errors.update(other.errors)
        self.crashes += other.crashes

    def as_json(self) -> dict[str, Any]:
        """Plain data for the JSON results."""
        return {
            "visits": self.visits,
            "steps": dict(self.steps),
            "errors": dict(self.errors),
            "crashes": self.crashes[:10],
            "crash_count": len(self.crashes),
        }


def _attempt(tally: Tally, step: str, action: Callable[[], T]) -> T | None:
    """``action()`` tried twice; ``None`` when both failed with SDK errors."""
    for _ in range(2):
        try:
            result = action()
        except NhsaClientError as error:
            tally.errors[type(error).__name__] += 1
            continue
        except Exception:  # a bug in the SDK: the drill's crash column
            tally.crashes.append(traceback.format_exc(limit=8))
            return None
        tally.steps[f"{step} ok"] += 1
        return result
    tally.steps[f"{step} failed"] += 1
    return None


def visit(client: Client, *, kiosk: bool, rng: random.Random, tally: Tally) -> bool:
    """One visit (see the module docstring); whether the platform registered it."""
    tally.visits += 1
    certno, card_no, card_sn, token, insutype = rng.choice(PATIENTS)
    if kiosk:
        certificate = (
            Certificate.e_voucher(token)
            if rng.random() < 0.7
            else Certificate.social_security_card(card_no, card_sn)
        )
    else:
        certificate = (
            Certificate.id_card(certno)
            if rng.random() < 0.5
            else Certificate.social_security_card(card_no, card_sn)
        )
    registration = _attempt(
        tally, "register", lambda: client.register(certificate, insutype=insutype, clinic=CLINIC)
    )
    if registration is None:
        return False
    if rng.random() < 0.1:
        _attempt(tally, "cancel", lambda: client.cancel_registration(registration))
        return True
    charge = _attempt(
        tally, "charge", lambda: client.charge(registration, fees(), diagnoses=DIAGNOSES)
    )
    if charge is None:
        return True
    choice = rng.random()
    if choice < 0.3:
        kept = charge.lines[1].feedetl_sn
        assert kept is not None
        _attempt(tally, "partial refund", lambda: client.refund(charge, lines=[kept]))
    elif choice < 0.6:
        refund = _attempt(tally, "full refund", lambda: client.refund(charge))
        if refund is not None and rng.random() < 0.5:
            _attempt(tally, "cancel", lambda: client.cancel_registration(registration))
    return True


def settle_up(client: Client, code: str, day: date, retried: Counter[str]) -> ReconcileReport:
    """What a HIS does after an incident: ``recover()``; then, the platform answering again,
    the undo of each settlement or refund the SDK had to leave ``manual`` (its 2601 was
    refused) is tried once more, as a person would (``reverse_held``); then ``reconcile()``."""
    client.recover()
    for entry in client.journal.entries(code, infno=_LEDGER_WRITES, states=["manual"]):
        retried[entry.infno] += 1
        with contextlib.suppress(NhsaClientError):
            client.reverse_held(entry.msgid)
    return client.reconcile(day)
