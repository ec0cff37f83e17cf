"""The insured place's recognitions over the admin API (and MockPlatform's methods): set,
listed, withdrawn, refused with the field named, and what 5301 then answers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import httpx
import pytest

from nhsa.mock import MockPlatform
from nhsa.mock.admin import AdminError
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


def test_mock_platform_methods(mock: MockPlatform) -> None:
    row = mock.recognise(KUNMING, ZHANG.psn_no, "M01600", begndate=date(2026, 1, 1),
                         enddate=date(2026, 12, 31))  # fmt: skip
    assert [r["opsp_dise_code"] for r in mock.recognitions(KUNMING, ZHANG.psn_no)] == ["M01600"]
    withdrawn = mock.withdraw_recognition(KUNMING, ZHANG.psn_no, row["trt_dcla_detl_sn"])
    assert (withdrawn["status"], withdrawn["enddate"]) == ("cancelled", "2026-12-31")
    with pytest.raises(AdminError, match="psn_no"):
        mock.recognitions(KUNMING, "P99999999999999")
