"""``recover()``: every entry a crash or a lost answer left open is closed against the platform."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from nhsa.client import (
    Client,
    ClientConfig,
    NeedsManualDecision,
    OutcomeUnknownError,
    Reversed,
    StillPending,
    WindowMode,
)
from nhsa.client._journal import NewEntry
from tests.client.conftest import CLINIC, DIAGNOSES, WINDOW, card, fees
from tests.client.platform import TENANT, EnginePlatform

ConfigFor = Callable[..., ClientConfig]


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _orphan(journal: Path, entry: NewEntry) -> None:
    """Write ``entry`` as if a process that has since died had been sending it."""
    db = sqlite3.connect(journal)
    with db:
        db.execute("UPDATE journal SET owner_pid = ? WHERE msgid = ?", (_dead_pid(), entry.msgid))
    db.close()


def _entry(msgid: str, infno: str, facts: dict[str, str]) -> NewEntry:
    return NewEntry(
        msgid=msgid,
        tenant=TENANT,
        infno=infno,
        opter_type="1",
        opter="C0001",
        body_sha256="00" * 32,
        facts=facts,
        amounts={},
        insuplc_admdvs="530100",
    )


def test_a_reversal_that_could_not_be_sent_is_finished_by_recover(
    platform: EnginePlatform, config_for: ConfigFor
) -> None:
    config = config_for()
    with Client(config, WINDOW, transport=platform.transport(), sleep=lambda s: None) as client:
        visit = client.register(card(), insutype="310", clinic=CLINIC)
        platform.script.on("2207", "drop")
        for attempt in range(1, 5):
            platform.script.on("2601", "connect-error", nth=attempt)
        with pytest.raises(OutcomeUnknownError) as raised:
            client.charge(visit, fees(), diagnoses=DIAGNOSES)
        assert isinstance(raised.value.resolution, StillPending)
        msgid = platform.requests_of("2207")[0]["msgid"]
        assert client.journal.get(msgid).state == "reversing"

        report = client.recover()

    (recovered,) = report.resolved
    assert recovered.msgid == msgid
    assert isinstance(recovered.resolution, Reversed)
    assert recovered.resolution.original_found is True
    assert platform.requests_of("2601")[-1]["input"]["data"]["omsgid"] == msgid
    assert sum(row.medfee_sumamt for row in platform.settlements()) == Decimal(0)


def test_recover_closes_each_orphan_by_its_contract_path(
    platform: EnginePlatform, config_for: ConfigFor
) -> None:
    config = config_for()
    with Client(config, WINDOW, transport=platform.transport(), sleep=lambda s: None) as client:
        visit = client.register(card(), insutype="310", clinic=CLINIC)
        ids = {"psn_no": visit.psn_no, "mdtrt_id": visit.mdtrt_id}
        orphans = {
            "2207": _entry("H53010100001202001010000000001", "2207", ids),
            "2204": _entry(
                "H53010100001202001010000000002", "2204", ids | {"chrg_bchno": "CB-LOST"}
            ),
            "2201": _entry("H53010100001202001010000000003", "2201", {"psn_no": visit.psn_no}),
            "9001": _entry("H53010100001202001010000000004", "9001", {}),
        }
        for entry in orphans.values():
            client.journal.record_sending(entry)
            _orphan(Path(config.journal_path), entry)
        live = _entry("H53010100001202001010000000005", "2207", ids)
        client.journal.record_sending(live)  # this process is alive: still in flight

        report = client.recover()

    by_infno = {r.infno: r.resolution for r in report.resolved}
    assert set(by_infno) == {"2207", "2204", "2201"}
    assert isinstance(by_infno["2207"], Reversed)
    assert by_infno["2207"].original_found is False  # it never arrived: a tombstone now
    (undo,) = platform.requests_of("2205")
    assert undo["input"]["data"]["chrg_bchno"] == "CB-LOST"
    # The platform has no such batch: "nothing to cancel" closes the entry, never arrived.
    assert isinstance(by_infno["2204"], Reversed)
    assert (by_infno["2204"].by_infno, by_infno["2204"].original_found) == ("2205", False)
    assert isinstance(by_infno["2201"], NeedsManualDecision)
    assert report.abandoned == (orphans["9001"].msgid,)
    assert report.in_flight == (live.msgid,)
    assert platform.requests_of("2601")[0]["input"]["data"]["omsgid"] == orphans["2207"].msgid


def test_held_entries_are_listed_and_left_for_the_cashier(
    platform: EnginePlatform, config_for: ConfigFor
) -> None:
    hold = WindowMode("C0001", "收费员甲", on_unknown="hold")
    with Client(config_for(), hold, transport=platform.transport(), sleep=lambda s: None) as client:
        visit = client.register(card(), insutype="310", clinic=CLINIC)
        platform.script.on("2207", "drop")
        with pytest.raises(OutcomeUnknownError):
            client.charge(visit, fees(), diagnoses=DIAGNOSES)

        report = client.recover()

    assert report.held == (platform.requests_of("2207")[0]["msgid"],)
    assert report.resolved == ()
    assert platform.requests_of("2601") == []


def test_recover_on_a_clean_journal_does_nothing(
    platform: EnginePlatform, config_for: ConfigFor
) -> None:
    with Client(config_for(), WINDOW, transport=platform.transport()) as client:
        assert client.recover().clean
    assert platform.seen == []
