"""Every corpus request through the in-process mock platform in the request's own dialect.

Each is in its dialect, valid by the contract once read back into the national shape, and
gets the answer its index entry names: a success, or the business refusal that only comes
after the mock's dialect and contract checks have passed (an unknown visit, stay or file).
Envelope fields that tie a message to a moment — msgid, inf_time, sign_no — are the only ones
refreshed. A mock in another dialect refuses it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import orjson
import pytest

from nhsa import spec
from nhsa.envelope import china_now, decode_request
from nhsa.mock import MockPlatform
from tests.corpus import DIALECTS, Entry, requests

TENANT = "H53010100001"


class Desk:
    """One institution at the mock, posting corpus requests with fresh msgid and sign_no to
    the entry of the mock's dialect."""

    def __init__(self, mock: MockPlatform, dialect: str = "national") -> None:
        mock.enroll(TENANT, profile="none", dialect=dialect)
        self.dialect = spec.dialect(dialect)
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
        entry = self.dialect.entries(message["infno"])[0]
        answer: dict[str, Any] = orjson.loads(
            self.http.post(entry, content=orjson.dumps(message)).content
        )
        if message["infno"] == "9001" and answer["infcode"] == 0:
            self.sign_no = answer["output"]["signinoutb"]["sign_no"]
        return answer


@pytest.fixture(scope="module")
def desks() -> Iterator[dict[str, Desk]]:
    """A mock in each dialect, with the institution signed in by that dialect's 9001."""
    with ExitStack() as stack:
        opened = {}
        for dialect in DIALECTS:
            mock = stack.enter_context(MockPlatform(profile="none", dialect=dialect))
            desk = Desk(mock, dialect)
            sign_in = next(e for e in requests(dialect) if e.infno == "9001")
            assert desk.post(orjson.loads(sign_in.path.read_bytes()))["infcode"] == 0
            opened[dialect] = desk
        yield opened


@pytest.fixture
def desk(desks: dict[str, Desk]) -> Desk:
    return desks["national"]


REQUESTS = [entry for dialect in DIALECTS for entry in requests(dialect)]


@pytest.mark.parametrize("entry", REQUESTS, ids=lambda e: e.id)
def test_a_corpus_request_passes_the_contract_and_gets_its_answer(
    desks: dict[str, Desk], entry: Entry
) -> None:
    message = orjson.loads(entry.path.read_bytes())
    national, issues = decode_request(spec.dialect(entry.dialect), message)
    assert issues == []
    assert spec.validate_request(national) == []
    answer = desks[entry.dialect].post(message)
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


PROVINCE_ONLY = [
    entry
    for entry in REQUESTS
    if entry.dialect != "national"
    and entry.infno != "9001"
    and spec.validate_request(orjson.loads(entry.path.read_bytes()))
]
"""Province requests the national contract refuses (the others are valid nationally too)."""


def test_most_province_requests_are_not_national_ones() -> None:
    assert len(PROVINCE_ONLY) >= 6


@pytest.mark.parametrize("entry", PROVINCE_ONLY, ids=lambda e: e.id)
def test_a_national_mock_refuses_a_province_request_naming_the_member(
    desks: dict[str, Desk], entry: Entry
) -> None:
    """What only a province sends (REFD_SETL_FLAG, mdtrtinfo as 2201's node, an expContent
    object, card_token, medins_list_name) is not the national contract's."""
    message = orjson.loads(entry.path.read_bytes())
    national_issues = spec.validate_request(message)
    answer = desks["national"].post(message)
    assert answer["infcode"] == -1
    assert answer["err_msg"].startswith("报文校验失败")
    assert national_issues[0].pointer in answer["err_msg"]
