"""The admin API over HTTP (in-process): its OpenAPI document, token, and every operation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import orjson
import pytest
from openapi_spec_validator import validate as validate_openapi
from starlette.routing import Mount, Route

from nhsa.envelope import CHINA_TIME
from nhsa.mock import MockPlatform
from nhsa.mock.admin import AdminError
from nhsa.mock.fixtures import bundled_fixture_dir
from nhsa.signing import Sm2PrivateKey
from tests.mock.test_app_his import KUNMING, ZHANG, SyntheticHis


@pytest.fixture
def mock() -> Iterator[MockPlatform]:
    with MockPlatform() as platform:
        yield platform


@pytest.fixture
def admin(mock: MockPlatform) -> httpx.Client:
    return httpx.Client(
        transport=mock.transport,
        base_url=mock.base_url,
        headers={"authorization": f"Bearer {mock.admin_token}"},
    )


@pytest.fixture
def his(mock: MockPlatform) -> SyntheticHis:
    his = SyntheticHis(httpx.Client(transport=mock.transport, base_url=mock.base_url))
    his.sign_in()
    return his


def test_openapi_is_public_valid_and_describes_every_route(mock: MockPlatform) -> None:
    anonymous = httpx.Client(transport=mock.transport, base_url=mock.base_url)
    response = anonymous.get("/admin/openapi.json")
    assert response.status_code == 200
    document = response.json()
    validate_openapi(document)  # the OpenAPI 3.1 schema
    described = {
        (path, method.upper()) for path, item in document["paths"].items() for method in item
    }
    served = set()
    for mount in mock.app.routes:
        if isinstance(mount, Mount) and mount.path in ("/admin", "/public"):
            for route in mount.routes:
                assert isinstance(route, Route)
                served.update(
                    (mount.path + route.path, method)
                    for method in route.methods or ()
                    if method != "HEAD"
                )
    assert served == described


def test_token_is_required_and_checked(mock: MockPlatform) -> None:
    anonymous = httpx.Client(transport=mock.transport, base_url=mock.base_url)
    assert anonymous.get("/admin/health").status_code == 200  # public
    assert anonymous.get("/public/ping").json() == {}
    for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": "Basic x"}):
        refused = anonymous.get("/admin/tenants", headers=headers)
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == "Bearer"
        assert refused.json()["error"]["field"] == "authorization"


def test_register_institution_with_keys_then_it_can_call(
    mock: MockPlatform, admin: httpx.Client
) -> None:
    key = Sm2PrivateKey.generate()
    response = admin.post(
        "/admin/institutions",
        json={
            "fixmedins_code": "H53010199001",
            "fixmedins_name": "实验室测试医院",
            "mdtrtarea_admvs": "530100",
            "level": "2",
            "networked": ["outpatient"],
            "profile": "tif+sm2",
            "paasid": "lab-paas-1",
            "token": "lab-token-1",
            "public_key_pem": key.public_key.to_pem().decode(),
        },
    )
    assert response.status_code == 201, response.text
    registered = response.json()
    assert registered["key_id"] == key.key_id
    assert registered["profile"] == "tif+sm2"
    assert "token" not in registered
    assert admin.get("/admin/institutions/H53010199001").json()["source"] == "admin"
    codes = [i["fixmedins_code"] for i in admin.get("/admin/institutions").json()]
    assert {"H53010199001", KUNMING} <= set(codes)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {"public_key_pem": "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----"},
            "public_key_pem",
        ),
        ({"key_id": "0123456789abcdef"}, "key_id"),
        ({"paasid": None}, "paasid"),
        ({"level": "4"}, "level"),
        ({"fixmedins_code": "h1"}, "fixmedins_code"),
        ({"profile": "rsa"}, "profile"),
    ],
)
def test_bad_registration_names_the_field(
    admin: httpx.Client, change: dict[str, object], field: str
) -> None:
    body = {
        "fixmedins_code": "H53010199002",
        "fixmedins_name": "测试",
        "mdtrtarea_admvs": "530100",
        "level": "2",
        "profile": "tif+sm2",
        "paasid": "p",
        "token": "t",
        "public_key_pem": Sm2PrivateKey.generate().public_key.to_pem().decode(),
        **change,
    }
    response = admin.post("/admin/institutions", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field


def test_state_settlements_transcript_and_reset(
    mock: MockPlatform, admin: httpx.Client, his: SyntheticHis
) -> None:
    mdtrt_id = his.register()
    setlinfo = his.charge(mdtrt_id)
    state = admin.get(f"/admin/tenants/{KUNMING}/state").json()
    assert state["visits"] == {"registered": 1}
    assert state["settlements"]["live"] == 1
    ledger = admin.get(f"/admin/tenants/{KUNMING}/settlements").json()
    assert [row["setl_id"] for row in ledger] == [setlinfo["setl_id"]]
    assert Decimal(str(ledger[0]["medfee_sumamt"])) == Decimal(str(setlinfo["medfee_sumamt"]))

    records = admin.get(f"/admin/tenants/{KUNMING}/transcript").json()
    assert [r["infno"] for r in records][-4:] == ["2203", "2204", "2206", "2207"]
    since = records[-2]["seq"]
    tail = admin.get(f"/admin/tenants/{KUNMING}/transcript", params={"since": since}).json()
    assert [r["infno"] for r in tail] == ["2207"]
    lines = admin.get(f"/admin/tenants/{KUNMING}/transcript.jsonl", params={"mask": "true"})
    assert lines.headers["content-type"] == "application/x-ndjson"
    parsed = [orjson.loads(line) for line in lines.content.splitlines()]
    assert len(parsed) == len(records)
    assert ZHANG.certno.encode() not in lines.content  # masked
    assert parsed[1]["request"]["input"]["data"]["mdtrt_cert_no"].endswith(ZHANG.certno[-4:])

    mock.arm_fault(KUNMING, "reset")
    reset = admin.post(f"/admin/tenants/{KUNMING}/reset").json()
    assert reset["faults_cleared"] == 1
    assert reset["deleted"]["settlements"] == 1
    assert admin.get(f"/admin/tenants/{KUNMING}/transcript").json() == []
    assert admin.get(f"/admin/tenants/{KUNMING}/state").json()["visits"] == {}
    assert admin.get("/admin/tenants/H53010199999/state").json()["visits"] == {}


def test_faults_over_the_api(admin: httpx.Client) -> None:
    armed = admin.post(
        f"/admin/tenants/{KUNMING}/faults",
        json={"kind": "commit-then-drop", "infno": "2207", "times": 2},
    ).json()
    assert armed["remaining"] == 2
    assert armed["armed_by"] == "admin"
    assert [f["id"] for f in admin.get(f"/admin/tenants/{KUNMING}/faults").json()] == [armed["id"]]
    assert admin.delete(f"/admin/tenants/{KUNMING}/faults/f-999").status_code == 404
    assert admin.delete(f"/admin/tenants/{KUNMING}/faults/{armed['id']}").json()["cleared"] == 1
    assert admin.delete(f"/admin/tenants/{KUNMING}/faults").json()["cleared"] == 0


def test_ec_token_filing_downtime_notices_statistics(
    mock: MockPlatform, admin: httpx.Client, his: SyntheticHis
) -> None:
    issued = admin.post(
        f"/admin/tenants/{KUNMING}/ectokens", json={"psn_no": ZHANG.psn_no, "ttl_seconds": 600}
    )
    assert issued.status_code == 201
    token = issued.json()["ec_token"]
    found = his.call(
        "1101", {"data": {"mdtrt_cert_type": "01", "mdtrt_cert_no": token, "psn_cert_type": "01"}}
    )
    assert found["output"]["baseinfo"]["psn_no"] == ZHANG.psn_no

    filing = admin.put(
        f"/admin/tenants/{KUNMING}/persons/{ZHANG.psn_no}/filing",
        json={"kind": "referral", "area": "440300", "begndate": "2026-01-01"},
    )
    assert filing.json()["filing"]["kind"] == "referral"
    assert (
        admin.put(
            f"/admin/tenants/{KUNMING}/persons/{ZHANG.psn_no}/filing", json={"kind": "somewhere"}
        ).json()["error"]["field"]
        == "kind"
    )
    assert admin.delete(f"/admin/tenants/{KUNMING}/persons/{ZHANG.psn_no}/filing").json()["cleared"]

    now = datetime.now(CHINA_TIME)
    window = admin.post(
        f"/admin/tenants/{KUNMING}/downtime",
        json={
            "admdvs": "530100",
            "start": (now - timedelta(minutes=1)).isoformat(),
            "end": (now + timedelta(hours=2)).isoformat(),
            "reason": "系统升级",
        },
    ).json()
    board = httpx.Client(transport=mock.transport, base_url=mock.base_url).get(
        "/public/downtime", params={"fixmedins_code": KUNMING}
    )
    assert [w["window_id"] for w in board.json()] == [window["window_id"]]
    refused = his.post(his.envelope("2201", {"data": {}}, insuplc="530100"))
    assert refused.json()["infcode"] == -1  # the contract refuses the empty node first
    down = his.call(
        "1101",
        {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": ZHANG.certno, "psn_cert_type": "01"}},
        insuplc="530100",
        expect_ok=False,
    )
    assert down["err_msg"].startswith("参保地医保系统停机维护")
    assert (
        admin.delete(f"/admin/tenants/{KUNMING}/downtime/{window['window_id']}").status_code == 200
    )
    assert admin.get(f"/admin/tenants/{KUNMING}/notices").json() == []

    mdtrt_id = his.register()
    setlinfo = his.charge(mdtrt_id)
    today = datetime.now(CHINA_TIME).date().isoformat()
    stats = admin.get(
        f"/admin/tenants/{KUNMING}/statistics", params={"from": today, "to": today}
    ).json()
    assert stats["total"]["settlements"] == 1
    assert Decimal(str(stats["total"]["medfee_sumamt"])) == Decimal(str(setlinfo["medfee_sumamt"]))
    assert (
        admin.get(
            f"/admin/tenants/{KUNMING}/statistics", params={"from": "2026-13-01", "to": today}
        ).json()["error"]["field"]
        == "from"
    )


def test_tenant_fixture_folder(admin: httpx.Client, tmp_path: Path) -> None:
    loaded = admin.put(
        f"/admin/tenants/{KUNMING}/fixtures", json={"dir": str(bundled_fixture_dir())}
    )
    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["persons"] > 0
    broken = admin.put(f"/admin/tenants/{KUNMING}/fixtures", json={"dir": str(tmp_path)})
    assert broken.status_code == 400
    assert broken.json()["error"]["field"] == "dir"
    assert admin.delete(f"/admin/tenants/{KUNMING}/fixtures").json()["dir"] is None


def test_bad_bodies_and_unknown_routes(admin: httpx.Client) -> None:
    not_json = admin.post(f"/admin/tenants/{KUNMING}/faults", content=b"{")
    assert not_json.json()["error"]["rule"] == "json"
    assert admin.post(f"/admin/tenants/{KUNMING}/faults").json()["error"]["rule"] == "required"
    assert admin.get("/admin/nothing").status_code == 404
    assert admin.get("/admin/nothing").json()["error"]["code"] == "not-found"
    assert (
        admin.get(f"/admin/tenants/{KUNMING}/transcript", params={"since": "x"}).json()["error"][
            "rule"
        ]
        == "integer"
    )


# -- chronic-disease recognitions (门慢/门特 待遇认定) -----------------------------------


def _query(his: SyntheticHis) -> list[str]:
    answer = his.call("5301", {"data": {"psn_no": ZHANG.psn_no}}, insuplc="530100")
    assert answer["infcode"] == 0, answer["err_msg"]
    return [row["opsp_dise_code"] for row in answer["output"]["feedetail"]]


def test_recognitions_over_http(admin: httpx.Client, his: SyntheticHis) -> None:
    url = f"/admin/tenants/{KUNMING}/persons/{ZHANG.psn_no}/recognitions"
    assert admin.get(url).json() == []
    created = admin.post(url, json={"opsp_dise_code": "M03900", "begndate": "2026-01-01"})
    assert created.status_code == 201
    row = created.json()
    assert (row["insu_optins"], row["source"], row["status"]) == (
        "530100",
        "insured_place",
        "active",
    )
    assert _query(his) == ["M03900"]
    bad = admin.post(url, json={"opsp_dise_code": "M99999", "begndate": "2026-01-01"})
    assert (bad.status_code, bad.json()["error"]["field"]) == (400, "opsp_dise_code")
    shape = admin.post(url, json={"opsp_dise_code": "I10", "begndate": "2026-01-01"})
    assert shape.status_code == 400
    withdrawn = admin.delete(f"{url}/{row['trt_dcla_detl_sn']}")
    assert withdrawn.json()["status"] == "cancelled"
    assert _query(his) == []
    assert admin.delete(f"{url}/nope").status_code == 404
    assert [r["status"] for r in admin.get(url).json()] == ["cancelled"]
    assert admin.post(f"/admin/tenants/{KUNMING}/reset").status_code == 200
    assert admin.get(url).json() == []


def test_recognitions_through_mock_platform_methods(mock: MockPlatform) -> None:
    row = mock.recognise(KUNMING, ZHANG.psn_no, "M01600", begndate=date(2026, 1, 1),
                         enddate=date(2026, 12, 31))  # fmt: skip
    assert [r["opsp_dise_code"] for r in mock.recognitions(KUNMING, ZHANG.psn_no)] == ["M01600"]
    withdrawn = mock.withdraw_recognition(KUNMING, ZHANG.psn_no, row["trt_dcla_detl_sn"])
    assert (withdrawn["status"], withdrawn["enddate"]) == ("cancelled", "2026-12-31")
    with pytest.raises(AdminError, match="psn_no"):
        mock.recognitions(KUNMING, "P99999999999999")
