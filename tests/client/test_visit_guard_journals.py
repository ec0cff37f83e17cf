"""One settlement per visit whatever journal each window has (issue 11, deliverable 2).

A harness ran two windows with separate journals (and one msgid counter, as README then
allowed) charging the same 30 visits at the same moment: 26 ended with two live settlements.
The visit guard is a journal row, so it holds among the clients of one journal only. Now a
visit is charged and refunded only through the journal that registered (or adopted) it, a
counter already serving another journal of the institution is refused at start-up, and so is
a journal file on a network filesystem.
"""

from __future__ import annotations

import pickle
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from nhsa.client import (
    Certificate,
    Client,
    ClientConfig,
    FeeLine,
    Journal,
    VisitNotInJournalError,
)
from nhsa.client.errors import ClientConfigError, JournalError
from nhsa.envelope import china_now
from nhsa.mock import MockPlatform
from tests.client.conftest import CARD_SN, CLINIC, DIAGNOSES, FAST, WINDOW, card, fees
from tests.client.pg_window import run_windows
from tests.client.platform import AREA, TENANT, TENANT_NAME, EnginePlatform
from tests.client.test_journal_postgres import PEOPLE
from tests.client.test_stays import DRUG, PNEUMONIA, WARD

ConfigFor = Callable[..., ClientConfig]
VISITS = 30


@pytest.mark.slow
@pytest.mark.parametrize("counter", ["shared", "own"])
def test_two_processes_with_separate_journals_end_with_one_settlement_per_visit(
    tmp_path: Path, counter: str
) -> None:
    """Window 1 registers the visits; both windows, each with a journal of its own, then
    charge all of them in the same order, so each visit is charged by both at the same moment.
    With one msgid counter (the harness's setup) window 2 is refused at start-up; with a
    counter each, every charge it tries is refused before anything is sent. Either way: one
    settlement per visit (without the rule, most visits end with two)."""
    visits_count = VISITS if counter == "shared" else 12
    with MockPlatform() as mock, mock.serve() as url:
        journals = [tmp_path / "window-1.sqlite3", tmp_path / "window-2.sqlite3"]
        shared = [str(tmp_path / "msgids.sqlite3")] if counter == "shared" else []
        counter_path = shared[0] if shared else None
        config = ClientConfig(
            TENANT, TENANT_NAME, AREA, journal_path=journals[0], base_url=url, retry=FAST,
            msgid_state_path=counter_path,
        )  # fmt: skip
        with Client(config, WINDOW) as registrar:  # window 1 registers every visit
            visits = [
                registrar.register(
                    Certificate.id_card(PEOPLE[i % len(PEOPLE)][0]),
                    insutype=PEOPLE[i % len(PEOPLE)][1],
                    clinic=CLINIC,
                )
                for i in range(visits_count)
            ]
        (tmp_path / "visits.pickle").write_bytes(pickle.dumps(visits))
        # one order for both windows: each visit is charged by both at the same moment
        first, second = run_windows(
            [str(j) for j in journals], url, tmp_path / "visits.pickle", ["1", "1"], tmp_path,
            *shared,
        )  # fmt: skip
        ledger = mock.settlements(TENANT)

    live = Counter(
        r["mdtrt_id"] for r in ledger if r["infno"] == "2207" and r["status"] == "active"
    )
    assert live == {visit.mdtrt_id: 1 for visit in visits}  # was 26 of 30 with two
    n = visits_count
    assert first == {"settled": n, "busy": 0, "already": n, "foreign": 0, "failed": 0}
    if counter == "shared":
        assert "two journals for one institution cannot guard" in second["config_refused"].lower()
    else:
        assert second == {"settled": 0, "busy": 0, "already": 0, "foreign": 2 * n, "failed": 0}


def test_a_window_refuses_a_visit_it_did_not_register_and_sends_nothing(
    platform: EnginePlatform, config_for: ConfigFor, tmp_path: Path
) -> None:
    # The registration desk keeps its own journal and msgid counter; its clock runs a minute
    # behind, so its msgids never meet the window's (two counters can issue one msgid).
    with Client(
        config_for(platform), WINDOW, transport=platform.transport(), clock=_minute_behind
    ) as desk:
        visit = desk.register(card(), insutype="310", clinic=CLINIC)
    other = config_for(platform, journal_path=tmp_path / "other.sqlite3")
    with Client(other, WINDOW, transport=platform.transport()) as window:
        sent = len(platform.seen)
        with pytest.raises(VisitNotInJournalError) as refused:
            window.charge(visit, fees(), diagnoses=DIAGNOSES)
        assert len(platform.seen) == sent
        message = str(refused.value)
        assert visit.mdtrt_id in message
        assert "journal_url='postgresql://" in message
        assert "adopt_visit" in message
        assert window.adopt_visit(visit) is True  # registered outside this journal: taken in
        assert window.adopt_visit(visit) is False  # once
        adopted = window.journal.holds_visit(TENANT, visit.mdtrt_id)
        assert adopted is not None
        assert (adopted.infno, adopted.state) == ("2201", "adopted")
        paid = window.charge(visit, fees(), diagnoses=DIAGNOSES)
        assert window.refund(paid).setl_id
        assert window.journal.pending(TENANT) == []


def test_a_stay_is_uploaded_discharged_and_settled_only_where_it_was_admitted(
    platform: EnginePlatform, config_for: ConfigFor, tmp_path: Path
) -> None:
    begin = china_now().replace(microsecond=0) - timedelta(days=2)
    with Client(
        config_for(platform), WINDOW, transport=platform.transport(), clock=_minute_behind
    ) as desk:  # the admission office: a journal of its own
        stay = desk.admit(card(), insutype="310", ward=WARD, diagnoses=PNEUMONIA, begntime=begin)
    fee = FeeLine(DRUG, "HIS-YP-0001", cnt=2, pric=Decimal("100"), fee_ocur_time=begin)
    other = config_for(platform, journal_path=tmp_path / "ward.sqlite3")
    with Client(other, WINDOW, transport=platform.transport()) as ward:
        sent = len(platform.seen)
        steps: list[tuple[str, Callable[[], object]]] = [
            ("2301", lambda: ward.upload_stay_fees(stay, [fee])),
            ("2402", lambda: ward.discharge(stay, diagnoses=PNEUMONIA)),
            ("2304", lambda: ward.settle_midway(stay, Decimal("200.00"), until=begin.date())),
        ]
        for infno, step in steps:
            with pytest.raises(VisitNotInJournalError) as refused:
                step()
            assert (refused.value.infno, stay.mdtrt_id in str(refused.value)) == (infno, True)
        assert len(platform.seen) == sent  # nothing was sent
        assert ward.adopt_visit(stay) is True
        adopted = ward.journal.holds_visit(TENANT, stay.mdtrt_id)
        assert adopted is not None
        assert (adopted.infno, adopted.state) == ("2401", "adopted")
        (batch,) = ward.upload_stay_fees(stay, [fee])
        part = ward.settle_midway(stay, batch.total, until=begin.date(), card_token=CARD_SN)
        assert part.totals.medfee_sumamt == Decimal("200.00")
        assert ward.cancel_stay_settlement(part).refunded.medfee_sumamt == Decimal("-200.00")


def _minute_behind() -> datetime:
    return china_now() - timedelta(minutes=1)


def test_two_journals_on_one_msgid_counter_are_refused_at_start_up(
    platform: EnginePlatform, config_for: ConfigFor, tmp_path: Path
) -> None:
    counter = tmp_path / "msgids.sqlite3"
    first = config_for(platform, journal_path=tmp_path / "a.sqlite3", msgid_state_path=counter)
    with Client(first, WINDOW, transport=platform.transport()):
        pass
    with Client(first, WINDOW, transport=platform.transport()):
        pass  # the same journal again: fine
    second = config_for(platform, journal_path=tmp_path / "b.sqlite3", msgid_state_path=counter)
    with pytest.raises(ClientConfigError) as refused:
        Client(second, WINDOW, transport=platform.transport())
    message = str(refused.value)
    assert str(tmp_path / "a.sqlite3") in message
    assert str(tmp_path / "b.sqlite3") in message
    assert "one journal" in message


def test_a_journal_on_a_network_filesystem_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    share = f"36 1 0:32 / {tmp_path} rw - nfs4 files.example:/his rw\n"
    real = Path.read_text

    def mounts(self: Path, *args: object, **kwargs: object) -> str:
        if str(self) == "/proc/self/mountinfo":
            return share
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "read_text", mounts)
    with pytest.raises(JournalError, match=r"network filesystem \(nfs4 files.example:/his"):
        Journal(tmp_path / "journal.sqlite3")
    config = ClientConfig(TENANT, TENANT_NAME, AREA, journal_path=":memory:",
                          msgid_state_path=tmp_path / "msgids.sqlite3")  # fmt: skip
    with pytest.raises(ClientConfigError, match=r"msgid_state_path: msgid counter .* network"):
        Client(config, WINDOW)
