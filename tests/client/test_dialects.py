"""The SDK in a province dialect: a whole visit against the mock in the same dialect, what goes
on the wire, what is refused before sending, and how a dialect's answers are read."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from nhsa import spec
from nhsa.client import (
    BusinessError,
    Certificate,
    Client,
    ClientConfig,
    Clinic,
    Diagnosis,
    FeeLine,
    InvalidInputError,
    WindowMode,
)
from nhsa.client.errors import ClientConfigError
from nhsa.envelope import china_now
from nhsa.mock import MockPlatform
from nhsa.mock.platform import Enrollment
from nhsa.models import models_for
from nhsa.signing import KeyEntry, KeyRing
from tests.client.conftest import CARD_SN, card
from tests.client.reshape import Reshaping
from tests.client.test_stays import DRUG, PNEUMONIA, WARD

CODE = "H53010100001"
ID_CARD = "530102198503150018"
CLINIC = Clinic("0301", "内科门诊", "D530100000101", "医师丁", "A03")
DIAGNOSES = [Diagnosis("J06.900", "急性上呼吸道感染")]
VENDOR = "某某医疗软件有限公司（测试）"


def _profile(dialect: str) -> str:
    return "sm2" if spec.dialect(dialect).gateway.family == "none" else "tif+sm2"


def _config(me: Enrollment, mock: MockPlatform, folder: str, **overrides: Any) -> ClientConfig:
    settings: dict[str, Any] = {
        "journal_path": Path(folder) / "journal.sqlite3",
        "base_url": mock.base_url,
        "profile": me.profile,
        "paasid": me.paasid,
        "token": me.token,
        "private_key": me.private_key,
        "platform_keys": KeyRing([KeyEntry(me.platform_key, "NHSA")]),
        "dialect": me.dialect,
        "fixmedins_soft_fcty": VENDOR,
        "gateway_user": me.gateway_user,
        "gateway_password": me.gateway_password,
        **overrides,
    }
    return ClientConfig(CODE, "昆明市测试第一人民医院", "530100", **settings)


@contextmanager
def _client_in(
    platform: str, *, profile: str | None = None, transport: Any = None, **overrides: Any
) -> Iterator[tuple[Client, MockPlatform]]:
    """A client (in the platform's dialect unless ``dialect=`` says otherwise) and the mock."""
    chosen = profile or _profile(platform)
    with MockPlatform(profile=chosen, dialect=platform) as mock, tempfile.TemporaryDirectory() as d:
        me = mock.enroll(CODE)
        config = _config(me, mock, d, **overrides)
        wrapped = transport(mock.transport) if transport else mock.transport
        with Client(config, WindowMode("C0001", "收费员甲"), transport=wrapped) as client:
            yield client, mock


def _fees() -> list[FeeLine]:
    return [
        FeeLine(
            "110200001000000",
            "HIS-ZC-0001",
            cnt=1,
            pric=Decimal("25"),
            medins_list_name="普通门诊诊察费",
        ),
        FeeLine(
            "XJ01DCC035A001010100002",
            "HIS-YP-2",
            cnt=6,
            pric=Decimal("3.5"),
            medins_list_name="头孢呋辛酯片",
        ),
    ]


@pytest.mark.parametrize("dialect", spec.dialect_names())
def test_a_whole_visit_in_each_dialect_against_the_mock_in_the_same_dialect(dialect: str) -> None:
    with _client_in(dialect) as (client, mock):
        visit = client.register(Certificate.id_card(ID_CARD), insutype="310", clinic=CLINIC)
        paid = client.charge(visit, _fees(), diagnoses=DIAGNOSES)
        refund = client.refund(paid, lines=[paid.lines[1].feedetl_sn or ""])
        assert refund.recharge is not None
        client.refund(refund.recharge)
        assert client.reconcile(paid.setlinfo.setl_time.date()).balanced
        records = mock.transcript(CODE)
    assert {r["infcode"] for r in records} == {0}
    assert {r["dialect"]["name"] for r in records} == {dialect}
    assert all(r["dialect"]["ok"] for r in records)
    assert "2601" not in {r["infno"] for r in records}
    entries = set(_entries(dialect))
    assert {r["path"] for r in records} <= entries | {
        _per_infno(dialect, r["infno"]) for r in records
    }
    family = spec.dialect(dialect).gateway.family
    assert {r["gateway"].get("family") for r in records} == (
        {None} if family == "none" else {family}
    )


@pytest.mark.parametrize("dialect", spec.dialect_names())
def test_a_whole_stay_in_each_dialect_against_the_mock_in_the_same_dialect(dialect: str) -> None:
    begin = china_now().replace(microsecond=0) - timedelta(days=2)
    drug = FeeLine(
        DRUG, "HIS-YP-0001", cnt=2, pric=Decimal("100"),
        fee_ocur_time=begin, medins_list_name="阿莫西林胶囊",
    )  # fmt: skip
    with _client_in(dialect) as (client, mock):
        stay = client.admit(card(), insutype="310", ward=WARD, diagnoses=PNEUMONIA, begntime=begin)
        client.upload_stay_fees(stay, [drug])
        part = client.settle_midway(stay, Decimal("200.00"), until=begin.date(), card_token=CARD_SN)
        client.cancel_stay_settlement(part)
        stay = client.discharge(stay, diagnoses=PNEUMONIA)
        final = client.settle_stay(stay, Decimal("200.00"), card_token=CARD_SN)
        assert client.reconcile(final.setlinfo.setl_time.date()).balanced
        records = mock.transcript(CODE)
    assert {r["infcode"] for r in records} == {0}
    assert {"2401", "2301", "2303", "2304", "2305", "2402"} <= {r["infno"] for r in records}
    assert {r["dialect"]["name"] for r in records} == {dialect}
    assert all(r["dialect"]["ok"] for r in records)


def _entries(dialect: str) -> list[str]:
    single = spec.dialect(dialect).routes.single_entry
    return [str(single.value)] if single is not None else []


def _per_infno(dialect: str, infno: str) -> str:
    template = spec.dialect(dialect).routes.template()
    if template is None:
        return ""
    if template == "contract":
        return spec.contract().transaction(infno).path
    return template.replace("{infno}", infno)


def test_what_goes_on_the_wire_in_guangdong() -> None:
    with _client_in("guangdong") as (client, mock):
        visit = client.register(Certificate.id_card(ID_CARD), insutype="310", clinic=CLINIC)
        paid = client.charge(visit, _fees(), diagnoses=DIAGNOSES)
        example = spec.contract().transaction("3201").examples[0].request["input"]
        day = paid.setlinfo.setl_time.date().isoformat()
        data = {**example["data"], "stmt_begndate": day, "stmt_enddate": day, "refd_setl_flag": "0"}
        client.call("3201", models_for("3201").input.model_validate({"data": data}))
        records = {r["infno"]: r for r in mock.transcript(CODE)}
    sign_in = records["9001"]
    assert sign_in["path"] == "/ebus/gdyb_inf/poc/hsa/hgs/9001"
    assert sign_in["request"]["recer_admdvs"] == "530100"
    assert (sign_in["request"]["infver"], sign_in["request"]["recer_sys_code"]) == ("1.0.0", "HIS")
    assert sign_in["headers"]["x-tif-paasid"]
    assert "REFD_SETL_FLAG" in records["3201"]["request"]["input"]["data"]
    assert "refd_setl_flag" not in records["3201"]["request"]["input"]["data"]
    lines = records["2204"]["request"]["input"]["feedetail"]
    assert [line["medins_list_name"] for line in lines] == ["普通门诊诊察费", "头孢呋辛酯片"]


def test_what_goes_on_the_wire_in_jilin_hunan_jiangsu_and_sichuan() -> None:
    with _client_in("jilin") as (client, mock):
        client.sign_in()
        record = mock.transcript(CODE)[0]
    assert record["path"] == "/mbs/fmi/fsi/api/callFsiService/callService"
    assert (record["request"]["recer_sys_code"], record["request"]["enc_type"]) == ("sys01", "SM4")
    assert record["request"]["insuplc_admdvs"] == "530100"
    assert record["gateway"] == {"scheme": "tif", "ok": True, "error": None, "family": "bearer"}
    with _client_in("hunan") as (client, mock):
        client.sign_in()
        record = mock.transcript(CODE)[0]
    assert record["headers"]["_api_name"] == "9001"
    assert len(record["headers"]["_api_timestamp"]) == 13
    assert record["headers"]["content-type"] == "text/plain; charset=utf-8"
    with _client_in("jiangsu") as (client, mock):
        client.sign_in()
        record = mock.transcript(CODE)[0]
    assert record["headers"]["_api_name"] == "hsa.fsi.callService"
    assert record["request"]["fixmedins_soft_fcty"] == VENDOR
    with _client_in("sichuan") as (client, mock):
        client.sign_in()
        record = mock.transcript(CODE)[0]
    assert record["path"] == "/mss/web/api/fsi/callService"
    assert (record["request"]["infver"], record["request"]["recer_sys_code"]) == ("1.0", "01")
    assert record["headers"]["x-tif-paasid"] is None


def test_a_guangdong_fee_line_without_its_name_is_refused_before_anything_is_sent() -> None:
    with _client_in("guangdong") as (client, mock):
        visit = client.register(Certificate.id_card(ID_CARD), insutype="310", clinic=CLINIC)
        before = len(mock.transcript(CODE))
        unnamed = [FeeLine("110200001000000", "HIS-ZC-0001", cnt=1, pric=Decimal("25"))]
        with pytest.raises(InvalidInputError) as caught:
            client.charge(visit, unnamed, diagnoses=DIAGNOSES)
        assert (caught.value.field, caught.value.rule) == (
            "fees[0].medins_list_name",
            "required-by-dialect",
        )
        assert "医疗机构目录名称" in str(caught.value)
        assert len(mock.transcript(CODE)) == before


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"dialect": "kunming"}, "dialect: no dialect 'kunming'"),
        (
            {"dialect": "jiangsu", "fixmedins_soft_fcty": None},
            "fixmedins_soft_fcty: the jiangsu dialect requires it",
        ),
        ({"dialect": "sichuan", "profile": "tif", "paasid": "p", "token": "t"}, "has no gateway"),
        (
            {"dialect": "guangdong", "route": "single-entry"},
            "the guangdong dialect has no single-entry URL",
        ),
        ({"dialect": "jilin", "profile": "tif", "paasid": "p", "token": "t"}, "gateway_user"),
    ],
)
def test_a_configuration_the_dialect_cannot_work_with_fails_at_start_up(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ClientConfigError, match=message):
        ClientConfig(CODE, "医院", "530100", journal_path=":memory:", **overrides)


def test_the_dialect_decides_the_defaults_and_the_configuration_wins() -> None:
    config = ClientConfig(CODE, "医院", "530100", journal_path=":memory:", dialect="guangdong")
    assert (config.sender.infver, config.sender.recer_sys_code) == ("1.0.0", "HIS")
    assert config.url_path("2207") == "/ebus/gdyb_inf/poc/hsa/hgs/2207"
    chosen = ClientConfig(
        CODE, "医院", "530100", journal_path=":memory:", dialect="guangdong", infver="V1.0"
    )
    assert chosen.sender.infver == "V1.0"
    national = ClientConfig(CODE, "医院", "530100", journal_path=":memory:")
    assert national.url_path("2207") == "/fsi/api/rsfComIfsService/callService"
    per = ClientConfig(CODE, "医院", "530100", journal_path=":memory:", route="per-transaction")
    assert per.url_path("2207") == spec.contract().transaction("2207").path


# -- a dialect's answers: definite ones stay definite -------------------------------------------


def _answering(infno: str, body: dict[str, Any], status: int = 200) -> Any:
    """A transport whose answer to ``infno`` is ``body``, the mock behind it doing the work."""

    def wrap(inner: httpx.BaseTransport) -> httpx.BaseTransport:
        class Replace(Reshaping):
            def handle_request(self, request: httpx.Request) -> httpx.Response:
                response = self.inner.handle_request(request)
                if orjson.loads(request.content)["infno"] != infno:
                    return response
                response.read()
                return httpx.Response(status, content=orjson.dumps(body))

        return Replace(inner, {})

    return wrap


def test_hunan_infcode_0_with_an_err_msg_is_a_settlement_never_reversed() -> None:
    def hunan_habit(envelope: dict[str, Any]) -> dict[str, Any]:
        return {**envelope, "infcode": "0", "err_msg": "FSI-结算信息已保存[setlBO_101]"}

    def wrap(inner: httpx.BaseTransport) -> httpx.BaseTransport:
        return Reshaping(inner, {"2207": hunan_habit})

    with _client_in("hunan", profile="tif", transport=wrap) as (client, mock):
        visit = client.register(Certificate.id_card(ID_CARD), insutype="310", clinic=CLINIC)
        paid = client.charge(visit, _fees(), diagnoses=DIAGNOSES)
        infnos = [r["infno"] for r in mock.transcript(CODE)]
    assert paid.setl_id
    assert "2601" not in infnos
    assert "2208" not in infnos


def test_a_csb_gateway_refusal_at_http_200_is_definite_and_never_reversed() -> None:
    refusal = {"code": 401, "message": "签名不一致!"}
    with _client_in("hunan", profile="tif", transport=_answering("2207", refusal)) as (
        client,
        mock,
    ):
        visit = client.register(Certificate.id_card(ID_CARD), insutype="310", clinic=CLINIC)
        with pytest.raises(BusinessError, match="签名不一致!"):
            client.charge(visit, _fees(), diagnoses=DIAGNOSES)
        infnos = [r["infno"] for r in mock.transcript(CODE)]
    assert "2601" not in infnos


def test_a_helper_error_is_not_definite_so_the_settlement_is_reversed() -> None:
    helper = {"code": "999", "msg": "云助手系统内部错误"}
    with _client_in("hunan", profile="tif", transport=_answering("2207", helper)) as (client, mock):
        visit = client.register(Certificate.id_card(ID_CARD), insutype="310", clinic=CLINIC)
        with pytest.raises(Exception, match="hgs-helper-error"):
            client.charge(visit, _fees(), diagnoses=DIAGNOSES)
        infnos = [r["infno"] for r in mock.transcript(CODE)]
    assert infnos.count("2207") == 1
    assert "2601" in infnos  # unknown, as any body that is not an answer: reversed, not resent


def test_a_national_sdk_against_a_jilin_mock_is_told_the_missing_bearer_header() -> None:
    with _client_in("jilin", dialect="national", gateway_user=None, gateway_password=None) as (
        client,
        mock,
    ):
        with pytest.raises(BusinessError, match="Authorization: Bearer"):
            client.sign_in()
        record = mock.transcript(CODE)[0]
    assert record["gateway"]["family"] == "bearer"
    assert record["gateway"]["ok"] is False
