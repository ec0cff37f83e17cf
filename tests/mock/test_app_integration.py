"""Where the app meets the engine: who may call, what a refusal records, what it may touch.

- an institution registered in the store by the engine's public services (not through the
  app's directory) is admitted by the gateway and completes a visit;
- the transcript record carries the refusal's ``errors.json`` id as ``error_id``;
- a success note from the engine (``Answer.warn_msg``) reaches the envelope's ``warn_msg``;
- a business refusal by the engine writes exactly one ``messages`` row (the msgid memory)
  and its transcript record, and no business table changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import orjson
import pytest

from nhsa.mock import MockPlatform
from nhsa.mock.engine import PlatformServices
from nhsa.mock.store import RECORD_TYPES, Message
from tests.mock.conftest import CATALOGUE
from tests.mock.test_app_his import KUNMING, ZHANG, SyntheticHis
from tests.mock.test_app_pipeline import business_state

NEW_HOSPITAL = "H53010199901"
NEW_NAME = "昆明市测试新院区"


@pytest.fixture
def mock() -> Iterator[MockPlatform]:
    with MockPlatform(profile="none") as platform:
        yield platform


@pytest.fixture
def his(mock: MockPlatform) -> SyntheticHis:
    client = httpx.Client(transport=mock.transport, base_url=mock.base_url, timeout=5)
    his = SyntheticHis(client)
    his.sign_in()
    return his


def _messages(mock: MockPlatform) -> list[Message]:
    with mock.store.snapshot() as tx:
        return tx.find(Message)


def test_an_institution_registered_by_the_engine_services_completes_a_visit(
    mock: MockPlatform,
) -> None:
    PlatformServices(mock.engine).register_institution(
        NEW_HOSPITAL, NEW_NAME, "530100", "3", ["outpatient", "cross_province_outpatient"]
    )
    client = httpx.Client(transport=mock.transport, base_url=mock.base_url, timeout=5)
    his = SyntheticHis(client, code=NEW_HOSPITAL, name=NEW_NAME)

    his.sign_in()
    mdtrt_id = his.register()
    setlinfo = his.charge(mdtrt_id)

    assert setlinfo["setl_id"]
    assert setlinfo["medins_setl_id"].startswith(NEW_HOSPITAL)
    assert [row["setl_id"] for row in mock.settlements(NEW_HOSPITAL)] == [setlinfo["setl_id"]]
    assert mock.transcript(NEW_HOSPITAL)[-1]["infno"] == "2207"


def test_an_institution_nobody_registered_is_still_refused(mock: MockPlatform) -> None:
    client = httpx.Client(transport=mock.transport, base_url=mock.base_url, timeout=5)
    his = SyntheticHis(client, code=NEW_HOSPITAL, name=NEW_NAME)

    answer = his.call("9001", {"signIn": {"opter_no": "C1", "ip": "10.0.0.1"}}, expect_ok=False)

    assert answer["infcode"] == -1
    assert answer["err_msg"].startswith("非法用户")
    assert mock.transcript(NEW_HOSPITAL)[-1]["error_id"] == "gateway.unknown_paasid"


def test_a_business_refusal_records_its_error_id(mock: MockPlatform, his: SyntheticHis) -> None:
    answer = his.call(
        "2207",
        {
            "data": {
                "psn_no": ZHANG.psn_no,
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": ZHANG.certno,
                "med_type": "11",
                "medfee_sumamt": Decimal("10.00"),
                "psn_setlway": "01",
                "mdtrt_id": "399999999999",
                "chrg_bchno": "CB1",
                "acct_used_flag": "1",
                "insutype": ZHANG.insutype,
                "fulamt_ownpay_amt": Decimal("0"),
                "overlmt_selfpay": Decimal("0"),
                "preselfpay_amt": Decimal("0"),
                "inscp_scp_amt": Decimal("10.00"),
            }
        },
        insuplc=ZHANG.insuplc_admdvs,
        expect_ok=False,
    )

    record = mock.transcript(KUNMING)[-1]
    assert answer["err_msg"].startswith("就诊信息不存在")
    assert record["error_id"] == "business.visit_not_found"
    assert record["error_id"] in CATALOGUE


def test_a_pipeline_refusal_records_its_error_id(mock: MockPlatform, his: SyntheticHis) -> None:
    response = his.client.post(
        "/fsi/api/rsfComIfsService/callService",
        content=b'{"infno": "9001", "fixmedins_code": "H53010100001"',
    )

    assert orjson.loads(response.content)["infcode"] == -1
    assert mock.transcript("-")[-1]["error_id"] == "envelope.malformed_json"  # sender unknown


def test_a_success_records_no_error_id_and_keeps_every_other_key(
    mock: MockPlatform, his: SyntheticHis
) -> None:
    his.register()

    record = mock.transcript(KUNMING)[-1]
    assert record["infno"] == "2201"
    assert record["error_id"] is None
    assert list(record) == [*_SHAPE, "error_id", "schema_version", "dialect"]  # additions last


_SHAPE = (
    "seq",
    "tenant",
    "received_at",
    "answered_at",
    "route",
    "path",
    "headers",
    "infno",
    "msgid",
    "opter_type",
    "opter",
    "sign_no",
    "insuplc_admdvs",
    "request",
    "request_sha256",
    "gateway",
    "signature",
    "validation",
    "infcode",
    "err_msg",
    "response",
    "fault",
    "delivered",
    "state_changed",
    "effects",
)
"""The record's keys before ``error_id`` was added, in their order."""


def test_the_engine_warn_msg_reaches_the_envelope(mock: MockPlatform, his: SyntheticHis) -> None:
    lost = f"{KUNMING}202001010000009999"

    answer = his.call(
        "2601",
        {"data": {"psn_no": ZHANG.psn_no, "omsgid": lost, "oinfno": "2207"}},
        insuplc=ZHANG.insuplc_admdvs,
    )

    assert answer["infcode"] == 0
    assert f"原交易不存在，无需冲正：omsgid={lost}" in answer["warn_msg"]
    record = mock.transcript(KUNMING)[-1]
    assert record["response"]["warn_msg"] == answer["warn_msg"]
    assert record["error_id"] is None


@pytest.mark.parametrize(
    ("infno", "nodes", "error_id"),
    [
        (
            "2204",
            {
                "feedetail": [
                    {
                        "feedetl_sn": "F1",
                        "mdtrt_id": "399999999999",
                        "psn_no": ZHANG.psn_no,
                        "chrg_bchno": "CB1",
                        "rx_circ_flag": "0",
                        "fee_ocur_time": "2026-11-23 09:00:00",
                        "med_list_codg": "110200001000000",
                        "medins_list_codg": "HIS-1",
                        "det_item_fee_sumamt": Decimal("25.00"),
                        "cnt": Decimal("1"),
                        "pric": Decimal("25.00"),
                        "bilg_dept_codg": "0301",
                        "bilg_dept_name": "内科门诊",
                        "bilg_dr_codg": "D1",
                        "bilg_dr_name": "医师丁",
                        "hosp_appr_flag": "0",
                    }
                ]
            },
            "business.visit_not_found",
        ),
        (
            "2201",
            {
                "data": {
                    "psn_no": ZHANG.psn_no,
                    "insutype": "390",
                    "begntime": "2026-11-23 09:00:00",
                    "mdtrt_cert_type": "02",
                    "mdtrt_cert_no": ZHANG.certno,
                    "ipt_otp_no": "MZ-REFUSED-1",
                    "atddr_no": "D1",
                    "dr_name": "医师丁",
                    "dept_code": "0301",
                    "dept_name": "内科门诊",
                    "caty": "A03",
                }
            },
            "business.illegal_state",
        ),
    ],
)
def test_an_engine_refusal_touches_only_the_msgid_memory_and_the_transcript(
    mock: MockPlatform, his: SyntheticHis, infno: str, nodes: dict[str, Any], error_id: str
) -> None:
    before = business_state(mock)
    messages_before = _messages(mock)
    last_seq = mock.transcript(KUNMING)[-1]["seq"]

    envelope = his.envelope(infno, nodes, insuplc=ZHANG.insuplc_admdvs)
    answer = orjson.loads(his.post(envelope).content)

    assert answer["infcode"] == -1
    assert business_state(mock) == before
    added = [m for m in _messages(mock) if m not in messages_before]
    assert [(m.msgid, m.infno, m.infcode, dict(m.effects)) for m in added] == [
        (envelope["msgid"], infno, -1, {})
    ]
    records = mock.transcript(KUNMING, since=last_seq)
    assert [(r["infno"], r["state_changed"], r["error_id"]) for r in records] == [
        (infno, False, error_id)
    ]


def test_the_business_tables_are_every_record_type_but_messages() -> None:
    """The bad-input tests compare these tables; a new record type joins them by default."""
    tables = {kind.TABLE for kind in RECORD_TYPES if kind is not Message}
    assert "messages" not in tables
    assert {"visits", "fee_lines", "settlements", "balances", "year_to_date"} <= tables
