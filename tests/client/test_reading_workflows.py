"""The reading rule in the workflows: a definite success is never reversed.

A window visit runs against the in-process mock with one answer reshaped. When a load-bearing
member is gone the step stops with :class:`UnusableAnswerError` naming it, the mock's transcript
shows no 2601 (nor a refund), and the journal holds the success as a success — so ``recover()``
finds nothing to undo. An answer that is not one (another transaction's body) is still unknown
and reversed as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from nhsa.client import (
    Client,
    ClientConfig,
    OutcomeUnknownError,
    Reversed,
    UnusableAnswerError,
)
from nhsa.envelope import china_now
from nhsa.mock import MockPlatform
from nhsa.spec import contract
from tests.client.conftest import CLINIC, DIAGNOSES, WINDOW, fees, id_card
from tests.client.platform import MockView
from tests.client.reshape import Reshape, Reshaping, with_value, without

OTHER_MSGID = "H53010100001209901010000009999"
UNBALANCED = with_value("stmtinfo.stmt_rslt", "1")  # the platform says the day differs


@pytest.fixture
def mock() -> Iterator[MockView]:
    with MockPlatform(profile="none") as platform:
        yield MockView(platform, "none")


def _client(
    mock: MockView, config_for: Callable[..., ClientConfig], reshapes: Mapping[str, Reshape]
) -> Client:
    transport = Reshaping(mock.mock.transport, reshapes)
    return Client(config_for(mock), WINDOW, transport=transport, sleep=lambda s: None)


def _visit(client: Client) -> None:
    visit = client.register(id_card(), insutype="310", clinic=CLINIC)
    paid = client.charge(visit, fees(), diagnoses=DIAGNOSES)
    client.refund(paid)
    client.reconcile(china_now().date())


CASES = [
    ("9001", "signinoutb.sign_no", {}),
    ("1101", "baseinfo.psn_no", {}),
    ("1101", "insuinfo", {}),
    ("1101", "insuinfo[0].insuplc_admdvs", {}),
    ("2201", "data.mdtrt_id", {}),
    ("2206", "setlinfo.medfee_sumamt", {}),
    ("2206", "setlinfo.inscp_scp_amt", {}),
    ("2207", "setlinfo.setl_id", {}),
    ("2207", "setlinfo.fund_pay_sumamt", {}),
    ("2208", "setlinfo.acct_pay", {}),
    ("3201", "stmtinfo.stmt_rslt", {}),
    ("9101", "file_qury_no", {"3201": UNBALANCED}),
    ("3202", "fileinfo.filename", {"3201": UNBALANCED}),
]


@pytest.mark.parametrize(("infno", "member", "more"), CASES, ids=[f"{i}-{m}" for i, m, _ in CASES])
def test_a_success_lacking_a_load_bearing_member_is_unusable_and_never_reversed(
    mock: MockView,
    config_for: Callable[..., ClientConfig],
    infno: str,
    member: str,
    more: Mapping[str, Reshape],
) -> None:
    with _client(mock, config_for, {infno: without(member), **more}) as client:
        with pytest.raises(UnusableAnswerError) as stopped:
            _visit(client)
        assert [s.member for s in stopped.value.shortfalls] == [member]
        assert stopped.value.infno == infno
        assert "2601" not in mock.infnos()
        if infno == "2207":
            assert "2208" not in mock.infnos()  # the settlement stands: nothing refunds it
            day = client.reconcile(china_now().date())
            assert day.unresolved == ()  # a definite success, counted as one
            assert sum(group.his.count for group in day.groups) == 1
        if infno in ("2206", "2208"):
            assert mock.infnos()[-1] == "2205"  # the fee lines do not linger
        if contract().transaction(infno).kind == "write":
            entry = client.journal.get(stopped.value.msgid or "")
            assert entry is not None
            assert entry.state == "succeeded"
            assert entry.result["unusable"] == member
            assert member in (entry.detail or "")
        assert client.recover().clean


def test_a_settlement_naming_another_msgid_stands_and_is_not_reversed(
    mock: MockView, config_for: Callable[..., ClientConfig]
) -> None:
    reshapes = {"2207": with_value("setlinfo.medins_setl_id", OTHER_MSGID)}
    with _client(mock, config_for, reshapes) as client:
        visit = client.register(id_card(), insutype="310", clinic=CLINIC)
        with pytest.raises(UnusableAnswerError) as stopped:
            client.charge(visit, fees(), diagnoses=DIAGNOSES)
        (shortfall,) = stopped.value.shortfalls
        assert shortfall.member == "setlinfo.medins_setl_id"
        assert OTHER_MSGID in shortfall.problem
        assert mock.infnos()[-1] == "2207"
        assert [r["status"] for r in mock.mock.settlements("H53010100001")] == ["active"]
        assert client.recover().clean


def test_another_transactions_body_is_not_an_answer_and_is_reversed(
    mock: MockView, config_for: Callable[..., ClientConfig]
) -> None:
    person = contract().transaction("1101").examples[0].response["output"]

    def not_ours(envelope: dict[str, Any]) -> dict[str, Any]:
        return {**envelope, "output": person}

    with _client(mock, config_for, {"2207": not_ours}) as client:
        visit = client.register(id_card(), insutype="310", clinic=CLINIC)
        with pytest.raises(OutcomeUnknownError) as unknown:
            client.charge(visit, fees(), diagnoses=DIAGNOSES)
        assert isinstance(unknown.value.resolution, Reversed)
        assert mock.infnos()[-3:] == ["2207", "2601", "2205"]
