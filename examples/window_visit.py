"""A window visit: a cashier registers a patient by ID card, charges the visit, prints the bill.

Run it as is — it starts the mock national platform in-process, with gateway headers and SM2
message signatures on (profile ``tif+sm2``) — or point it at a running ``nhsa mock serve``:

    python examples/window_visit.py
    nhsa mock serve &                       # in another terminal
    python examples/window_visit.py --url http://127.0.0.1:8700

The patient is invented (fixture person P53010000000001, insured in Kunming, 530100).
:func:`platform_session` is shared by the other examples.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from nhsa.client import (
    Certificate,
    Charge,
    Client,
    ClientConfig,
    Clinic,
    Diagnosis,
    FeeLine,
    Mode,
    WindowMode,
)
from nhsa.envelope import china_now
from nhsa.signing import KeyEntry, KeyRing

HOSPITAL = ("H53010100001", "昆明市测试第一人民医院", "530100")
CLINIC = Clinic("0301", "内科门诊", "D530100000101", "医师丁", "A03")
DIAGNOSES = [Diagnosis("J06.900", "急性上呼吸道感染")]


def fee_lines() -> list[FeeLine]:
    """Three lines of the Kunming catalogue: 甲 consultation, 乙 antibiotic, 丙 vitamin D."""
    return [
        FeeLine("110200001000000", "HIS-ZC-0001", cnt=1, pric=Decimal("25.00")),
        FeeLine("XJ01DCC035A001010100002", "HIS-YP-0002", cnt=2, pric=Decimal("18.50")),
        FeeLine("XA11CCA001A001010100007", "HIS-YP-0007", cnt=1, pric=Decimal("12.80")),
    ]


def shared_msgid_state() -> Path:
    """The msgid counter every example run shares when it talks to a running server.

    Each run has its own throw-away journal; were the counter in it, two runs within one second
    would both start at sequence 0000 and the server would refuse the second one's msgid as a
    duplicate — as the real platform does when two HIS processes keep separate counters.
    """
    return Path(tempfile.gettempdir()) / f"nhsa-examples-{HOSPITAL[0]}-msgid.sqlite3"


@contextlib.contextmanager
def platform_session(
    url: str | None, mode: Mode, *, journal: Path | None = None
) -> Iterator[tuple[Client, Any]]:
    """A client for ``mode`` and, in-process, the mock itself (``None`` with ``--url``).

    In-process the institution is enrolled for ``tif+sm2`` (fresh gateway credentials and SM2
    keys); against ``--url`` the server's default profile (``none``) applies, and the msgid
    counter lives in :func:`shared_msgid_state`, so one example run right after another never
    repeats a msgid the server has already seen.
    """
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nhsa-example-")))
        settings: dict[str, Any] = {"journal_path": journal or folder / "journal.sqlite3"}
        transport: httpx.BaseTransport | None = None
        mock = None
        if url:
            settings |= {"base_url": url, "msgid_state_path": shared_msgid_state()}
        else:
            from nhsa.mock import MockPlatform  # noqa: PLC0415 - an extra: nhsa-kit[mock]

            mock = stack.enter_context(MockPlatform(profile="tif+sm2"))
            enrolled = mock.enroll(HOSPITAL[0])
            transport = mock.transport
            settings |= {
                "base_url": mock.base_url,
                "profile": "tif+sm2",
                "paasid": enrolled.paasid,
                "token": enrolled.token,
                "private_key": enrolled.private_key,
                "platform_keys": KeyRing([KeyEntry(enrolled.platform_key, "NHSA")]),
            }
        config = ClientConfig(*HOSPITAL, **settings)
        client = stack.enter_context(Client(config, mode, transport=transport))
        yield client, mock


def print_bill(charge: Charge) -> None:
    """The patient's bill: who paid what."""
    totals = charge.totals
    print(f"结算 setl_id {charge.setl_id}  (msgid {charge.msgid})")
    for line in charge.lines:
        print(f"  {line.med_list_codg:<24} {line.cnt} × {line.pric} = {line.total}")
    print(f"  医疗费总额 medfee_sumamt   {totals.medfee_sumamt:>10}")
    print(f"  基金支付   fund_pay_sumamt {totals.fund_pay_sumamt:>10}")
    print(f"  个人账户   acct_pay        {totals.acct_pay:>10}")
    print(f"  现金       psn_cash_pay    {totals.psn_cash_pay:>10}")


def main(argv: Sequence[str] | None = None) -> int:
    """Register, charge, reconcile; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", help="a running `nhsa mock serve` (default: in-process mock)")
    args = parser.parse_args(argv)
    cashier = WindowMode("C0001", "收费员甲")
    with platform_session(args.url, cashier) as (client, _):
        report = client.recover()  # first thing at start-up: close what a crash left open
        print(f"recover(): {len(report.resolved)} entries resolved")
        visit = client.register(
            Certificate.id_card("530102198503150018"), insutype="310", clinic=CLINIC
        )
        print(f"挂号 mdtrt_id {visit.mdtrt_id}, insured in {visit.insuplc_admdvs}")
        charge = client.charge(visit, fee_lines(), diagnoses=DIAGNOSES)
        print_bill(charge)
        day = client.reconcile(china_now().date())
        # Against a long-running server, settlements of earlier runs (other journals) make
        # the platform hold more than this run's journal: 3202 then names each such row.
        verdict = "对平 balanced" if day.balanced else f"{len(day.mismatches)} rows differ"
        print(f"对账 3201/3202: {verdict}")
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
