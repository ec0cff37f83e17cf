"""Every corpus request, in the national shape, through the in-process mock platform.

Each is valid by the contract and gets the answer its index entry names: a success, or the
business refusal that only comes after the mock's contract check has passed (an unknown
visit, stay or file). Envelope fields that tie a message to
a moment — msgid, inf_time, sign_no — are the only ones refreshed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from nhsa import spec
from nhsa.envelope import china_now
from nhsa.mock import MockPlatform
from tests.corpus import DIALECTS, Entry, requests

TENANT = "H53010100001"
ENTRY_PATH = "/fsi/api/rsfComIfsService/callService"


class Desk:
    """One institution at the mock, posting corpus requests with fresh msgid and sign_no."""

    def __init__(self, mock: MockPlatform) -> None:
        mock.enroll(TENANT, profile="none")
        self.http = httpx.Client(transport=mock.transport, base_url=mock.base_url)
        self.serial = 0
        self.sign_no = ""

    def post(self, message: dict[str, Any]) -> dict[str, Any]:
        self.serial += 1
        now = china_now()
        message = {
            **message,
            "msgid": f"{TENANT}{now:%Y%m%d%H%M%S}{self.serial:04d}",
            "inf_time": now.strftime("%Y-%m-%d %H:%M:%S"),
        }
        if message["infno"] != "9001":
            message["sign_no"] = self.sign_no
        answer: dict[str, Any] = orjson.loads(
            self.http.post(ENTRY_PATH, content=orjson.dumps(message)).content
        )
        if message["infno"] == "9001" and answer["infcode"] == 0:
            self.sign_no = answer["output"]["signinoutb"]["sign_no"]
        return answer


@pytest.fixture(scope="module")
def desk() -> Iterator[Desk]:
    with MockPlatform(profile="none") as mock:
        desk = Desk(mock)
        sign_in = next(e for e in requests() if e.infno == "9001")
        assert desk.post(orjson.loads(sign_in.path.read_bytes()))["infcode"] == 0
        yield desk


REQUESTS = [entry for dialect in DIALECTS for entry in requests(dialect)]


@pytest.mark.parametrize("entry", REQUESTS, ids=lambda e: e.id)
def test_a_corpus_request_passes_the_contract_and_gets_its_answer(desk: Desk, entry: Entry) -> None:
    message = orjson.loads(entry.path.read_bytes())
    assert spec.validate_request(message) == []
    answer = desk.post(message)
    if entry.details["expect"] == "succeeded":
        assert answer["infcode"] == 0, answer["err_msg"]
        assert spec.validate_response(answer, entry.infno) == []
    else:
        assert answer["infcode"] == -1
        assert entry.details["err_msg"] in answer["err_msg"]


def test_the_old_spellings_are_refused_by_the_contract(desk: Desk) -> None:
    presettle = next(e for e in REQUESTS if e.infno == "2303")
    message = orjson.loads(presettle.path.read_bytes())
    data = message["input"]["data"]
    data["dscg_time"] = data.pop("dscgTime")
    answer = desk.post(message)
    assert answer["infcode"] == -1
    assert answer["err_msg"].startswith("报文校验失败")
    assert "dscg_time" in answer["err_msg"]
