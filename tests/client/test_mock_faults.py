"""Every fault kind the mock platform can arm, survived with no lost and no doubled settlement.

Each fault is armed (the mock's own fault machinery, through its admin operations) on the next
2207; the SDK charges, and charges again if the first charge did not settle. Whatever the
fault, the visit ends with exactly one live settlement, no 2207 msgid ever reaches the platform
twice, and day-end reconciliation balances.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from nhsa.client import (
    BusinessError,
    ClientConfig,
    NhsaClientError,
    OutcomeUnknownError,
    Reversed,
)
from nhsa.envelope import china_now
from nhsa.mock import MockPlatform
from tests.client.conftest import CLINIC, DIAGNOSES, KIOSK, WINDOW, Twin, card, e_voucher, fees
from tests.client.platform import TENANT, MockView

MakeTwin = Callable[..., Twin]
ConfigFor = Callable[..., ClientConfig]

FAULTS: list[tuple[str, dict[str, Any], type[NhsaClientError] | None, bool | None]] = [
    # kind, parameters, what the first charge raises (None: it settles), whether 2601 finds
    # the original
    ("commit-then-drop", {}, OutcomeUnknownError, True),
    ("commit-then-drop", {"mode": "reset"}, OutcomeUnknownError, True),
    ("garbled-body", {}, OutcomeUnknownError, True),
    ("empty-body", {}, OutcomeUnknownError, True),
    ("bad-signature", {}, OutcomeUnknownError, True),
    ("http-error", {"status": 504, "after_commit": True}, OutcomeUnknownError, True),
    ("latency", {"ms": 600_000}, OutcomeUnknownError, True),
    ("http-error", {"status": 503}, OutcomeUnknownError, False),
    ("hang", {}, OutcomeUnknownError, False),
    ("reset", {}, OutcomeUnknownError, False),
    ("business-error", {}, BusinessError, None),
    ("insured-place-downtime", {}, BusinessError, None),
    # "…网络异常，无法连接…，请稍后重试" is an explicit try-later: retried under a new msgid.
    ("insured-place-unreachable", {}, None, None),
    ("insured-place-unreachable", {"mode": "hang"}, OutcomeUnknownError, False),
]


@pytest.fixture
def mock() -> Iterator[MockView]:
    with MockPlatform(profile="tif+sm2") as platform:
        yield MockView(platform, "tif+sm2")


@pytest.mark.parametrize(
    ("fault", "params", "raised", "found"),
    FAULTS,
    ids=[f"{kind}{'-' + '-'.join(map(str, p.values())) if p else ''}" for kind, p, _, _ in FAULTS],
)
def test_every_fault_kind_ends_in_exactly_one_settlement(
    mock: MockView,
    config_for: ConfigFor,
    make_twin: MakeTwin,
    fault: str,
    params: dict[str, Any],
    raised: type[NhsaClientError] | None,
    found: bool | None,
) -> None:
    twin = make_twin(config_for(mock), WINDOW, mock)
    visit = twin.register(card(), insutype="310", clinic=CLINIC)
    mock.mock.arm_fault(TENANT, fault, infno="2207", **params)

    if raised is None:
        charge = twin.charge(visit, fees(), diagnoses=DIAGNOSES)
        assert len(mock.requests_of("2207")) == 2
    else:
        with pytest.raises(raised) as first:
            twin.charge(visit, fees(), diagnoses=DIAGNOSES)
        charge = twin.charge(visit, fees(), diagnoses=DIAGNOSES)
        if isinstance(first.value, OutcomeUnknownError):
            resolution = first.value.resolution
            assert isinstance(resolution, Reversed)
            assert resolution.original_found is found
    live = [row for row in mock.mock.settlements(TENANT) if row["live"]]
    assert [row["setl_id"] for row in live] == [charge.setl_id]
    sent = Counter(r["msgid"] for r in mock.records if r["infno"] == "2207")
    assert max(sent.values()) == 1, "no 2207 msgid may reach the platform twice"
    assert twin.reconcile(china_now().date()).balanced


def test_a_kiosk_survives_commit_then_drop_and_the_patient_is_told(
    mock: MockView, config_for: ConfigFor, make_twin: MakeTwin
) -> None:
    twin = make_twin(config_for(mock), KIOSK, mock)
    visit = twin.register(e_voucher(), insutype="310", clinic=CLINIC)
    mock.mock.arm_fault(TENANT, "commit-then-drop", infno="2207")

    with pytest.raises(OutcomeUnknownError) as raised:
        twin.charge(visit, fees(), diagnoses=DIAGNOSES)

    assert "nothing was charged" in raised.value.patient_message.en
    records = mock.records
    dropped = next(r for r in records if r["infno"] == "2207")
    assert dropped["delivered"] is False
    assert dropped["fault"]["kind"] == "commit-then-drop"
    reversal = next(r for r in records if r["infno"] == "2601")
    assert reversal["request"]["input"]["data"]["omsgid"] == dropped["msgid"]
    assert all(r["opter_type"] == "2" for r in records)
    assert not [row for row in mock.mock.settlements(TENANT) if row["live"]]
