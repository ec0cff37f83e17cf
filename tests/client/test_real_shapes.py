"""A window visit against answers in real shapes: register, charge, refund, reconcile, no 2601.

The in-process mock keeps the state; a transport around it gives each of its answers the shape
of the corpus answers marked ``visit`` (``tests/corpus/national/index.yaml``): members left out
or null as real platforms leave them, local codes, members of the platform's own, an
output-level expContent, a refund answered as a full negated setlinfo with nulls. Every answer
is definite, so nothing is reversed, every journal entry is a success and the day balances.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from functools import reduce

import orjson
import pytest

from nhsa.client import Client, ClientConfig
from nhsa.envelope import china_now
from nhsa.mock import MockPlatform
from tests.client.conftest import CLINIC, DIAGNOSES, WINDOW, fees, id_card
from tests.client.platform import TENANT, MockView
from tests.client.reshape import Reshape, Reshaping, like
from tests.corpus import answers


def _real_shapes() -> dict[str, Reshape]:
    """infno → the corpus shapes to give its answers, in index order."""
    chains: dict[str, list[Reshape]] = {}
    for entry in answers():
        for infno in entry.details.get("visit", []):
            chains.setdefault(infno, []).append(like(infno, orjson.loads(entry.path.read_bytes())))
    return {
        infno: reduce(lambda shaped, more: lambda e: more(shaped(e)), chain)
        for infno, chain in chains.items()
    }


@pytest.fixture
def mock() -> Iterator[MockView]:
    with MockPlatform(profile="none") as platform:
        yield MockView(platform, "none")


def test_a_window_visit_against_real_shapes_completes_without_any_reversal(
    mock: MockView,
    config_for: Callable[..., ClientConfig],
    caplog: pytest.LogCaptureFixture,
) -> None:
    shapes = _real_shapes()
    assert {"1101", "2201", "2204", "2206", "2207", "2208"} <= set(shapes)
    transport = Reshaping(mock.mock.transport, shapes)
    with (
        caplog.at_level(logging.WARNING, logger="nhsa.client"),
        Client(config_for(mock), WINDOW, transport=transport) as client,
    ):
        assert client.recover().clean
        visit = client.register(id_card(), insutype="310", clinic=CLINIC)
        paid = client.charge(visit, fees(), diagnoses=DIAGNOSES)
        partial = client.refund(paid, lines=[paid.lines[0].feedetl_sn])
        assert partial.recharge is not None
        full = client.refund(partial.recharge)
        report = client.reconcile(china_now().date())
        entries = client.journal.entries(TENANT)
        assert client.recover().clean

    assert "2601" not in mock.infnos()
    assert mock.infnos().count("2207") == 2
    assert mock.infnos().count("2208") == 2
    assert {entry.state for entry in entries} == {"succeeded"}
    assert report.balanced, report
    assert full.refunded.medfee_sumamt == -partial.recharge.totals.medfee_sumamt
    assert paid.setlinfo.psn_type == "12"  # a local code, read as sent
    assert visit.balc is not None
    read = [r.getMessage() for r in caplog.records if "warning(s)" in r.getMessage()]
    assert any("setldetail.0.crt_payb_lmt_amt missing" in line for line in read)
    assert any("2208" in line and "setlinfo.psn_name not in the contract" in line for line in read)
