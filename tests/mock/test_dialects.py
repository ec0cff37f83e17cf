"""The mock in a province dialect: it expects requests in that dialect, refuses a request in
another one naming the member (changing nothing), and answers like that province."""

from __future__ import annotations

import base64
import copy
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from nhsa import spec
from nhsa.envelope import china_now
from nhsa.mock import MockPlatform
from nhsa.signing import KeyEntry, KeyRing

CODE = "H53010100001"
NATIONAL_ENTRY = "/fsi/api/rsfComIfsService/callService"


class Counter:
    """Posts envelopes with fresh msgid and sign_no (the caller picks the path)."""

    def __init__(self, mock: MockPlatform, dialect: str, profile: str = "none") -> None:
        self.me = mock.enroll(CODE, profile=profile, dialect=dialect)
        self.mock = mock
        self.dialect = spec.dialect(dialect)
        self.http = httpx.Client(transport=mock.transport, base_url=mock.base_url)
        self.serial = 0
        self.sign_no = ""

    def envelope(self, infno: str, **members: Any) -> dict[str, Any]:
        self.serial += 1
        now = china_now()
        message = copy.deepcopy(dict(spec.contract().transaction(infno).examples[0].request))
        message.update(
            msgid=f"{CODE}{now:%Y%m%d%H%M%S}{self.serial:04d}",
            inf_time=now.strftime("%Y-%m-%d %H:%M:%S"),
            fixmedins_code=CODE,
            sign_no="" if infno == "9001" else self.sign_no,
        )
        message.update(members)
        return message

    def post(
        self, message: dict[str, Any], *, path: str | None = None, headers: Any = None
    ) -> httpx.Response:
        where = path or self.dialect.entries(message["infno"])[0]
        return self.http.post(where, content=orjson.dumps(message), headers=headers)

    def sign_in(self, **members: Any) -> None:
        answer = self.post(self.envelope("9001", **members)).json()
        assert answer["infcode"] == 0, answer
        self.sign_no = answer["output"]["signinoutb"]["sign_no"]


@pytest.fixture
def mocks() -> Iterator[dict[str, MockPlatform]]:
    opened: dict[str, MockPlatform] = {}
    try:
        for name in spec.dialect_names():
            opened[name] = MockPlatform(dialect=name).start()
        yield opened
    finally:
        for mock in opened.values():
            mock.close()


def _unchanged(mock: MockPlatform) -> dict[str, Any]:
    state = mock.state(CODE)
    return {k: v for k, v in state.items() if k != "transcript"}


NOT_IN_THE_DIALECT = [
    # dialect, infno, change to the (national) example request, what the err_msg must name
    ("guangdong", "3201", {}, ["/input/data/refd_setl_flag", "REFD_SETL_FLAG", "/recer_admdvs"]),
    (
        "sichuan",
        "2201",
        {"exp_content": '{"card_token":"x"}'},
        ["/input/data/exp_content", "expContent"],
    ),
    ("guangzhou", "2201", {}, ["/input/data", "mdtrtinfo"]),
    ("jiangsu", "1101", {}, ["/fixmedins_soft_fcty"]),
    ("guangdong", "2204", {}, ["/input/feedetail/0/medins_list_name", "医疗机构目录名称"]),
]


@pytest.mark.parametrize(("dialect", "infno", "data", "named"), NOT_IN_THE_DIALECT)
def test_a_request_in_another_dialect_is_refused_naming_the_member_and_changes_nothing(
    mocks: dict[str, MockPlatform], dialect: str, infno: str, data: dict[str, Any], named: list[str]
) -> None:
    mock = mocks[dialect]
    counter = Counter(mock, dialect)
    counter.sign_in(recer_admdvs="530100", fixmedins_soft_fcty="测试软件")
    message = counter.envelope(infno)
    node = next(iter(message["input"]))
    if isinstance(message["input"][node], dict):
        message["input"][node].update(data)
    before = _unchanged(mock)
    answer = counter.post(message)
    assert answer.status_code == 200
    body = answer.json()
    assert body["infcode"] == -1
    assert body["err_msg"].startswith(f"报文不符合{dialect}规范")
    for name in named:
        assert name in body["err_msg"]
    assert _unchanged(mock) == before
    record = mock.transcript(CODE)[-1]
    assert record["dialect"] == {"name": dialect, "ok": False, "error": body["err_msg"]}
    assert record["state_changed"] is False


def test_a_path_that_is_not_the_dialects_entry_is_refused_naming_the_right_one(
    mocks: dict[str, MockPlatform],
) -> None:
    counter = Counter(mocks["guangdong"], "guangdong")
    body = counter.post(counter.envelope("9001"), path=NATIONAL_ENTRY).json()
    assert body["infcode"] == -1
    assert "dialect-entry" in body["err_msg"]
    assert "/ebus/gdyb_inf/poc/hsa/hgs/9001" in body["err_msg"]
    counter = Counter(mocks["national"], "national")
    body = counter.post(counter.envelope("9001"), path="/mss/web/api/fsi/callService").json()
    assert "/fsi/api/rsfComIfsService/callService" in body["err_msg"]


def test_a_per_infno_path_must_serve_the_bodys_infno(mocks: dict[str, MockPlatform]) -> None:
    counter = Counter(mocks["guangdong"], "guangdong")
    message = counter.envelope("9001", recer_admdvs="530100")
    body = counter.post(message, path="/ebus/gdyb_inf/poc/hsa/hgs/1101").json()
    assert body["err_msg"].startswith("交易编号与请求路径不符")


# -- the gateway of each family -----------------------------------------------------------------


def test_a_missing_gateway_header_of_the_family_is_named(mocks: dict[str, MockPlatform]) -> None:
    jilin = Counter(mocks["jilin"], "jilin", profile="tif")
    refused = jilin.post(jilin.envelope("9001"))
    assert refused.status_code == 401
    assert "Authorization: Bearer" in refused.json()["err_msg"]
    hunan = Counter(mocks["hunan"], "hunan", profile="tif")
    refused = hunan.post(hunan.envelope("9001"))
    assert refused.status_code == 401
    body = refused.json()
    assert set(body) == {"code", "message"}  # the CSB gateway's own body, not an envelope
    assert body["code"] == 401
    assert body["message"].startswith("缺少服务网关的请求头")
    assert "_api_" in body["message"]
    guangdong = Counter(mocks["guangdong"], "guangdong", profile="tif")
    refused = guangdong.post(guangdong.envelope("9001", recer_admdvs="530100"))
    assert refused.status_code == 401
    wrapper = refused.json()
    assert (wrapper["code"], wrapper["data"]) == ("401", None)
    assert wrapper["message"].startswith("缺少请求头: header x-tif-paasid")
    record = mocks["guangdong"].transcript(CODE)[-1]
    assert record["response"] == wrapper  # the answer as sent


def test_the_jilin_token_endpoint(mocks: dict[str, MockPlatform]) -> None:
    mock = mocks["jilin"]
    counter = Counter(mock, "jilin", profile="tif")
    me = counter.me
    http = httpx.Client(transport=mock.transport, base_url=mock.base_url)
    path = "/auth/oauth/token"
    form = {"username": CODE, "password": "pw", "scope": "all", "grant_type": "password"}

    def basic(secret: str | None) -> dict[str, str]:
        pair = f"{me.paasid}:{secret}".encode()
        return {"authorization": "Basic " + base64.b64encode(pair).decode()}

    refused = http.post(path, data=form, headers=basic("wrong"))
    assert (refused.status_code, refused.json()["error"]) == (401, "invalid_client")
    assert http.post(path, data=form).json()["error"] == "invalid_client"
    wrong_grant = http.post(
        path, data={**form, "grant_type": "client_credentials"}, headers=basic(me.token)
    )
    assert (wrong_grant.status_code, wrong_grant.json()["error"]) == (400, "unsupported_grant_type")
    no_password = http.post(path, data={**form, "password": ""}, headers=basic(me.token))
    assert no_password.json()["error_description"] == "password: required"
    token = http.post(path, data=form, headers=basic(me.token)).json()["access_token"]
    answer = counter.post(counter.envelope("9001"), headers={"authorization": f"Bearer {token}"})
    assert answer.json()["infcode"] == 0


# -- answers like the province ------------------------------------------------------------------


def test_the_mock_answers_like_the_province(mocks: dict[str, MockPlatform]) -> None:
    jilin = Counter(mocks["jilin"], "jilin")
    answer = jilin.post(jilin.envelope("9001")).json()
    assert "warnMsg" in answer
    assert "warn_msg" not in answer
    hunan = Counter(mocks["hunan"], "hunan")
    assert hunan.post(hunan.envelope("9001")).json()["warn_msg"] == "成功"
    jiangsu = Counter(mocks["jiangsu"], "jiangsu")
    answer = jiangsu.post(jiangsu.envelope("9001", fixmedins_soft_fcty="测试软件")).json()
    assert answer["enctype"] == ""
    national = Counter(mocks["national"], "national")
    answer = national.post(national.envelope("9001")).json()
    assert "enctype" not in answer
    assert answer["warn_msg"] is None


def test_a_signed_answer_in_a_dialect_verifies_over_the_bytes_as_sent() -> None:
    with MockPlatform(profile="sm2", dialect="jilin") as mock:
        counter = Counter(mock, "jilin", profile="sm2")
        sides = counter.me.client_signing()
        assert counter.me.platform_key == mock.platform_public_key
        body = sides.seal_request(orjson.dumps(counter.envelope("9001", signtype="SM2")))
        answer = counter.http.post(counter.dialect.entries("9001")[0], content=body)
        assert sides.open_response(answer.content) == mock.platform_public_key.key_id
        assert "warnMsg" in answer.json()
        ring = KeyRing([KeyEntry(mock.platform_public_key, "NHSA")])
        assert ring.get(mock.platform_public_key.key_id) is not None


# -- a dialect per tenant -----------------------------------------------------------------------


def test_one_mock_serves_each_institution_in_its_own_dialect() -> None:
    with MockPlatform() as mock:
        admin = httpx.Client(
            transport=mock.transport,
            base_url=mock.base_url,
            headers={"authorization": f"Bearer {mock.admin_token}"},
        )
        body = {
            "fixmedins_code": "H53010199001",
            "fixmedins_name": "实验室测试医院",
            "mdtrtarea_admvs": "530100",
            "level": "2",
            "profile": "none",
            "dialect": "sichuan",
        }
        registered = admin.post("/admin/institutions", json=body)
        assert registered.status_code == 201, registered.text
        assert registered.json()["dialect"] == "sichuan"
        assert admin.get("/admin/institutions/H53010100001").json()["dialect"] == "national"
        unknown = admin.post("/admin/institutions", json={**body, "dialect": "kunming"})
        assert (unknown.status_code, unknown.json()["error"]["field"]) == (400, "dialect")
        no_gateway = admin.post(
            "/admin/institutions",
            json={**body, "profile": "tif", "paasid": "p-1", "token": "t-1"},
        )
        assert no_gateway.status_code == 400
        assert "no gateway" in no_gateway.json()["error"]["message"]
        http = httpx.Client(transport=mock.transport, base_url=mock.base_url)
        message = copy.deepcopy(dict(spec.contract().transaction("9001").examples[0].request))
        now = china_now()
        message.update(
            fixmedins_code="H53010199001",
            msgid=f"H53010199001{now:%Y%m%d%H%M%S}0001",
            inf_time=now.strftime("%Y-%m-%d %H:%M:%S"),
        )
        at_national = http.post(NATIONAL_ENTRY, content=orjson.dumps(message)).json()
        assert "/mss/web/api/fsi/callService" in at_national["err_msg"]
        at_sichuan = http.post("/mss/web/api/fsi/callService", content=orjson.dumps(message))
        assert at_sichuan.json()["infcode"] == 0
        assert mock.transcript("H53010199001")[-1]["dialect"]["name"] == "sichuan"


def test_a_dialect_survives_a_restart_of_the_mock(tmp_path: Any) -> None:
    db = tmp_path / "mock.db"
    with MockPlatform(db=db) as mock:
        mock.enroll("H53010199001", dialect="jilin", profile="none")
    with MockPlatform(db=db) as mock:
        assert mock.admin.institution("H53010199001")["dialect"] == "jilin"
        assert mock.core.directory.get("H53010199001").dialect.name == "jilin"  # type: ignore[union-attr]
