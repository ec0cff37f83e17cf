"""A whole signed visit with DEBUG logging on leaks none of the patient's identifiers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest

from nhsa.client import BusinessError, ClientConfig, OutcomeUnknownError
from nhsa.mock import MockPlatform
from nhsa.mock.transcript import masked
from tests.client.conftest import (
    CARD_NO,
    CARD_SN,
    CLINIC,
    DIAGNOSES,
    EC_TOKEN,
    ID_NUMBER,
    KIOSK,
    NAME,
    WINDOW,
    Twin,
    card,
    e_voucher,
    fees,
    id_card,
)
from tests.client.platform import MockView

SECRETS = (ID_NUMBER, NAME, CARD_NO, CARD_SN, EC_TOKEN)


@pytest.fixture
def mock() -> Iterator[MockView]:
    with MockPlatform(profile="tif+sm2") as platform:
        yield MockView(platform, "tif+sm2")


def test_debug_logs_of_a_signed_visit_carry_no_personal_identifiers(
    mock: MockView,
    config_for: Callable[..., ClientConfig],
    make_twin: Callable[..., Twin],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    window = make_twin(config_for(mock), WINDOW, mock)
    visit = window.register(id_card(), insutype="310", clinic=CLINIC)
    charge = window.charge(visit, fees(), diagnoses=DIAGNOSES)
    window.refund(charge, lines=[charge.lines[0].feedetl_sn])
    kiosk = make_twin(config_for(mock), KIOSK, mock)
    for certificate in (card(), e_voucher()):
        kiosk_visit = kiosk.register(certificate, insutype="310", clinic=CLINIC)
        kiosk.cancel_registration(kiosk_visit)
    lost = kiosk.register(card(), insutype="310", clinic=CLINIC)
    mock.arm("2207", "drop")
    with pytest.raises(OutcomeUnknownError):
        kiosk.charge(lost, fees(), diagnoses=DIAGNOSES)

    client_lines = [
        record.getMessage() for record in caplog.records if record.name.startswith("nhsa.client")
    ]
    assert any("2207" in line and "sending" in line for line in client_lines)  # bodies logged
    assert any("9001" in line for line in client_lines)
    everything = "\n".join(record.getMessage() for record in caplog.records)
    for secret in SECRETS:
        escaped = repr(secret.encode())[2:-1]  # as it would show in a logged bytes repr
        assert secret not in everything, f"{secret[:4]}… leaked into the logs"
        assert escaped not in everything, f"{secret[:4]}… leaked into the logs (as bytes)"


def test_an_err_msg_naming_the_patient_is_masked_in_the_error_and_settled_reprs(
    mock: MockView, config_for: Callable[..., ClientConfig], make_twin: Callable[..., Twin]
) -> None:
    # str(BusinessError) showed the platform's err_msg as sent (ID number, name), and
    # repr(Charge) showed setlinfo.psn_name and certno.
    window = make_twin(config_for(mock), WINDOW, mock)
    visit = window.register(id_card(), insutype="310", clinic=CLINIC)
    paid = window.charge(visit, fees(), diagnoses=DIAGNOSES)
    assert paid.setlinfo.psn_name == NAME  # the value itself is untouched
    for shown in (repr(paid), repr(paid.setlinfo), repr(visit)):
        assert NAME not in shown
        assert ID_NUMBER not in shown
    other = window.register(id_card(), insutype="310", clinic=CLINIC)
    said = f"结算失败：{NAME}（{ID_NUMBER}）本日已在他院结算，请核实"
    mock.mock.arm_fault("H53010100001", "business-error", infno="2207", err_msg=said)
    with pytest.raises(BusinessError) as refused:
        window.charge(other, fees(), diagnoses=DIAGNOSES)
    error = refused.value
    assert error.outcome is not None
    for shown in (str(error), repr(error), error.err_msg or "", repr(error.outcome)):
        assert "结算失败" in shown
        assert NAME not in shown, shown
        assert ID_NUMBER not in shown, shown
    assert ID_NUMBER[-4:] in str(error)  # enough to tell two patients apart
    (record,) = [r for r in mock.records if r["err_msg"] == said]
    masked_record = masked(record)
    assert NAME not in repr(masked_record)
    assert ID_NUMBER not in repr(masked_record)
