"""Bad input is refused before anything is sent, by an error that names the field and the rule."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from nhsa.client import (
    Certificate,
    ClientConfig,
    FeeLine,
    ForbiddenCertificateError,
    InvalidInputError,
    KioskMode,
    RetryPolicy,
    WindowMode,
)
from nhsa.client.errors import ClientConfigError
from nhsa.models import Input1101, Input1101Data, Input2205, Input2205Data
from tests.client.conftest import (
    CLINIC,
    DIAGNOSES,
    ID_NUMBER,
    KIOSK,
    WINDOW,
    Twin,
    card,
    fees,
)
from tests.client.platform import AREA, TENANT, TENANT_NAME, EnginePlatform

MakeTwin = Callable[..., Twin]
ConfigFor = Callable[..., ClientConfig]


def _check_digit_of(body: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


@pytest.mark.parametrize(
    ("number", "rule"),
    [
        (ID_NUMBER[:-1] + ("9" if ID_NUMBER[-1] != "9" else "8"), "gb11643-check-digit"),
        ("53010219850315001", "gb11643-shape"),
        ("5301021985031500A8", "gb11643-shape"),
        ("530102198502300014"[:17] + _check_digit_of("53010219850230001"), "gb11643-birth-date"),
    ],
)
def test_resident_id_numbers_must_pass_gb11643(number: str, rule: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        Certificate.id_card(number)

    assert (raised.value.field, raised.value.rule) == ("mdtrt_cert_no", rule)
    assert number not in str(raised.value)  # the message masks the number


def test_a_valid_id_number_with_lower_case_x_is_accepted() -> None:
    body = "11010519491231002"
    number = body + _check_digit_of(body)
    assert Certificate.id_card(number.lower()).mdtrt_cert_no == number


def test_a_social_security_card_needs_its_card_sn() -> None:
    with pytest.raises(InvalidInputError) as raised:
        Certificate("03", "TA5300001")
    assert (raised.value.field, raised.value.rule) == ("card_sn", "required-with-card")


@pytest.mark.parametrize(
    ("arguments", "field", "rule"),
    [
        ({"cnt": 1, "pric": 12.5}, "pric", "decimal"),
        ({"cnt": 1.0, "pric": "12.50"}, "cnt", "decimal"),
        ({"cnt": 1, "pric": "twelve"}, "pric", "decimal"),
        ({"cnt": 1, "pric": "NaN"}, "pric", "decimal"),
        ({"cnt": 1, "pric": "-1"}, "pric", "minimum-0"),
        ({"cnt": 0, "pric": "1"}, "cnt", "positive"),
        ({"cnt": -2, "pric": "1"}, "cnt", "minimum-0"),
        ({"cnt": 1, "pric": "1.0000001"}, "pric", "at-most-6-decimal-places"),
        ({"cnt": 1, "pric": "1", "det_item_fee_sumamt": "1.001"}, "det_item_fee_sumamt",
         "at-most-2-decimal-places"),
        ({"cnt": 3, "pric": "3.33", "det_item_fee_sumamt": "10.00"}, "det_item_fee_sumamt",
         "equals-cnt-times-pric"),
        ({"cnt": 1, "pric": "1", "rx_circ_flag": "7"}, "rx_circ_flag", "enum"),
    ],
)  # fmt: skip
def test_fee_lines_refuse_inexact_or_inconsistent_amounts(
    arguments: dict[str, Any], field: str, rule: str
) -> None:
    with pytest.raises(InvalidInputError) as raised:
        FeeLine("110200001000000", "HIS-ZC-0001", **arguments)
    assert (raised.value.field, raised.value.rule) == (field, rule)


def test_fee_line_total_is_quantity_times_price_half_up() -> None:
    line = FeeLine("X", "H", cnt=Decimal("3"), pric=Decimal("3.335"))
    assert line.total == Decimal("10.01")  # 10.005 rounds half up


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"fees": []}, "fees", "minItems"),
        ({"fees": fees() * 334}, "fees", "maxItems"),
        ({"diagnoses": []}, "diagnoses", "minItems"),
        ({"med_type": "99"}, "med_type", "enum"),
        ({"psn_setlway": "09"}, "psn_setlway", "enum"),
        ({"acct_used_flag": "2"}, "acct_used_flag", "enum"),
    ],
)
def test_charge_input_is_checked_before_anything_is_sent(
    platform: EnginePlatform,
    config_for: ConfigFor,
    make_twin: MakeTwin,
    change: dict[str, Any],
    field: str,
    rule: str,
) -> None:
    twin = make_twin(config_for(), WINDOW, platform.transport())
    visit = twin.register(card(), insutype="310", clinic=CLINIC)
    sent = len(platform.seen)
    arguments: dict[str, Any] = {"fees": fees(), "diagnoses": DIAGNOSES} | change

    with pytest.raises(InvalidInputError) as raised:
        twin.charge(visit, arguments.pop("fees"), **arguments)

    assert (raised.value.field, raised.value.rule) == (field, rule)
    assert len(platform.seen) == sent


def test_a_kiosk_refuses_an_id_card_before_anything_is_sent(
    platform: EnginePlatform, config_for: ConfigFor, make_twin: MakeTwin
) -> None:
    twin = make_twin(config_for(), KIOSK, platform.transport())

    with pytest.raises(ForbiddenCertificateError) as raised:
        twin.register(Certificate.id_card(ID_NUMBER), insutype="310", clinic=CLINIC)

    assert raised.value.rule == "mode-certificates"
    assert "e-voucher" in raised.value.patient_message.en
    assert platform.seen == []  # not even a sign-in


def test_a_kiosk_refuses_an_id_card_in_a_raw_typed_call_too(
    platform: EnginePlatform, config_for: ConfigFor, make_twin: MakeTwin
) -> None:
    twin = make_twin(config_for(), KIOSK, platform.transport())
    lookup = Input1101(
        data=Input1101Data(mdtrt_cert_type="02", mdtrt_cert_no=ID_NUMBER, psn_cert_type="01")
    )

    with pytest.raises(ForbiddenCertificateError):
        twin.person_information(lookup)

    assert platform.seen == []


def test_a_typed_call_checks_the_id_number_it_carries(
    platform: EnginePlatform, config_for: ConfigFor, make_twin: MakeTwin
) -> None:
    twin = make_twin(config_for(), WINDOW, platform.transport())
    bad = ID_NUMBER[:-1] + ("9" if ID_NUMBER[-1] != "9" else "8")
    lookup = Input1101(
        data=Input1101Data(
            mdtrt_cert_type="01", mdtrt_cert_no="EC-1", psn_cert_type="01", certno=bad
        )
    )

    with pytest.raises(InvalidInputError) as raised:
        twin.person_information(lookup)

    assert (raised.value.field, raised.value.rule) == ("data.certno", "gb11643-check-digit")
    assert platform.seen == []


def test_a_call_carrying_psn_no_needs_the_insured_place(
    platform: EnginePlatform, config_for: ConfigFor, make_twin: MakeTwin
) -> None:
    twin = make_twin(config_for(), WINDOW, platform.transport())
    cancel = Input2205(data=Input2205Data(mdtrt_id="V1", chrg_bchno="0000", psn_no="P1"))

    with pytest.raises(InvalidInputError) as missing:
        twin.cancel_outpatient_fee_details(cancel)
    with pytest.raises(InvalidInputError) as malformed:
        twin.cancel_outpatient_fee_details(cancel, insuplc_admdvs="44")

    assert (missing.value.field, missing.value.rule) == ("insuplc_admdvs", "insuplc-when-psn")
    assert malformed.value.field == "envelope.insuplc_admdvs"
    assert [r["infno"] for r in platform.seen] == ["9001"]  # the sign-in only


def test_an_unknown_transaction_is_an_input_error(
    platform: EnginePlatform, config_for: ConfigFor, make_twin: MakeTwin
) -> None:
    twin = make_twin(config_for(), WINDOW, platform.transport())
    with pytest.raises(InvalidInputError) as raised:
        twin.call("2299", Input2205(data=Input2205Data(mdtrt_id="V", chrg_bchno="0", psn_no="P")))
    assert (raised.value.field, raised.value.rule) == ("infno", "known-transaction")
    assert platform.seen == []


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: WindowMode("", "收费员甲"), "opter"),
        (lambda: WindowMode("C" * 31, "收费员甲"), "opter"),
        (lambda: WindowMode("C0001", "收费员甲", on_unknown="retry"), "on_unknown"),  # type: ignore[arg-type]
        (lambda: KioskMode("", "SAFE", "K01", "自助机"), "dev_no"),
        (lambda: KioskMode("K01", "SAFE", "K01", ""), "terminal_name"),
    ],
)  # fmt: skip
def test_modes_check_their_fields(build: Callable[[], Any], field: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        build()
    assert raised.value.field == field


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"profile": "sm2"}, "private_key"),
        ({"profile": "tif"}, "paasid"),
        ({"profile": "rsa"}, "profile"),
        ({"base_url": "ftp://platform"}, "base_url"),
    ],
)
def test_a_configuration_that_cannot_work_is_refused(
    tmp_path: Any, overrides: dict[str, Any], words: str
) -> None:
    with pytest.raises(ClientConfigError) as raised:
        ClientConfig(TENANT, TENANT_NAME, AREA, journal_path=tmp_path / "j", **overrides)
    assert words in str(raised.value)


def test_a_retry_policy_that_cannot_work_is_refused() -> None:
    with pytest.raises(ClientConfigError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ClientConfigError, match="deadline"):
        RetryPolicy(deadline=-1)


def test_institution_fields_are_checked(tmp_path: Any) -> None:
    with pytest.raises(ClientConfigError, match="fixmedins_code"):
        ClientConfig("h5301", TENANT_NAME, AREA, journal_path=tmp_path / "j")
    with pytest.raises(ClientConfigError, match="mdtrtarea_admvs"):
        ClientConfig(TENANT, TENANT_NAME, "5301", journal_path=tmp_path / "j")


CONTROL_CHARACTERS = ["\x00", "\x1b", "\t", "\n", "\u202e", "\u200b", "\ufeff", "\u2066"]


@pytest.mark.parametrize("character", CONTROL_CHARACTERS, ids=lambda c: f"U+{ord(c):04X}")
def test_text_with_control_characters_is_refused_before_anything_is_sent(
    platform: EnginePlatform, config_for: ConfigFor, make_twin: MakeTwin, character: str
) -> None:
    # They were accepted and booked (sign-ins, ipt_otp_no): invisible or reordered on a screen.
    twin = make_twin(config_for(), WINDOW, platform.transport())
    with pytest.raises(InvalidInputError) as raised:
        twin.register(card(), insutype="310", clinic=CLINIC, ipt_otp_no=f"MZ{character}0001")
    assert (raised.value.field, raised.value.rule) == ("ipt_otp_no", "plain-text")
    with pytest.raises(ValidationError, match="string_pattern_mismatch"):  # the model too
        Input2205Data(mdtrt_id="1", chrg_bchno=f"B{character}1", psn_no="P1")
    operator = f"收费员{character}"
    with pytest.raises(InvalidInputError) as in_a_mode:
        WindowMode("C0001", operator)
    assert in_a_mode.value.rule == "plain-text"
    assert platform.seen == []


def test_text_of_every_script_a_name_may_use_passes() -> None:
    for name in (
        "张晓峰",
        "阿卜杜拉·买买提",
        "O'Brien-Smith",
        "李　娜",
    ):  # U+3000 ideographic space
        WindowMode("C0001", name)
