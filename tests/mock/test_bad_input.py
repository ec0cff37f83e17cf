"""Property: no malformed request ever gets HTTP 500, a non-JSON answer, a success, an err_msg
that does not name a field or rule, or a state change — 1,200 generated requests in all.

Four generators, 300 requests each, through the in-process app with the ``tif`` profile:
mutated valid envelopes (each mutation breaks the contract), random JSON, random bytes, and
valid envelopes under broken gateway headers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nhsa.envelope import dumps
from nhsa.mock import Enrollment, MockPlatform
from nhsa.spec import contract
from tests.mock.test_app_his import KUNMING, SyntheticHis
from tests.mock.test_app_pipeline import business_state

EXAMPLES = 300
NAMES_FIELD_OR_RULE = re.compile(r"rule|/[A-Za-z_]|x-tif-|field")
ALLOWED_STATUS = {200, 400, 401, 413}
PROBE = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


class Target:
    """One mock platform shared by every generated request, with its pristine state."""

    def __init__(self, mock: MockPlatform, enrollment: Enrollment) -> None:
        self.mock = mock
        self.signing = enrollment.client_signing()
        client = httpx.Client(transport=mock.transport, base_url=mock.base_url, timeout=5)
        self.his = SyntheticHis(client, signing=self.signing)
        self.his.sign_in()
        self.baseline = self.state()

    def state(self) -> dict[str, Any]:
        return {"business": business_state(self.mock)}

    def post(self, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        assert self.signing.auth is not None
        sent = self.signing.auth.headers() if headers is None else headers
        return self.his.client.post(
            "/fsi/api/rsfComIfsService/callService", content=body, headers=sent
        )

    def check(self, response: httpx.Response) -> None:
        assert response.status_code in ALLOWED_STATUS, response.status_code
        answer = orjson.loads(response.content)
        assert answer["infcode"] == -1
        assert isinstance(answer["err_msg"], str)
        assert NAMES_FIELD_OR_RULE.search(answer["err_msg"]), answer["err_msg"]
        assert business_state(self.mock) == self.baseline["business"]


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    with MockPlatform(profile="tif") as mock:
        yield Target(mock, mock.enroll(KUNMING))


def _valid_envelopes(his: SyntheticHis) -> list[dict[str, Any]]:
    """A valid request of each outpatient transaction, sent as this institution."""
    envelopes = []
    for infno in ("1101", "2201", "2204", "2206", "2207", "2208", "2601", "3201"):
        request = dict(contract().transaction(infno).examples[0].request)
        request.update(
            fixmedins_code=his.code,
            fixmedins_name=his.name,
            mdtrtarea_admvs=his.area,
            msgid=his.new_msgid(),
        )
        envelopes.append(request)
    return envelopes


INTEGERS = st.integers(min_value=-(2**63), max_value=2**63 - 1)  # what JSON encoders write
JSON = st.recursive(
    st.none() | st.booleans() | INTEGERS | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
NOT_A_STRING = (
    INTEGERS
    | st.lists(INTEGERS, max_size=2)
    | st.dictionaries(st.text(max_size=3), INTEGERS, max_size=2)
    | st.booleans()
)
REQUIRED = (
    "infno",
    "msgid",
    "mdtrtarea_admvs",
    "recer_sys_code",
    "infver",
    "opter_type",
    "opter",
    "opter_name",
    "inf_time",
    "fixmedins_name",
    "input",
)


@st.composite
def broken_envelopes(draw: st.DrawFn, his: SyntheticHis) -> dict[str, Any]:
    """A valid envelope with one mutation that the contract must refuse."""
    envelope = orjson.loads(dumps(draw(st.sampled_from(_valid_envelopes(his)))))
    envelope["msgid"] = his.new_msgid()
    mutation = draw(st.sampled_from(["drop", "retype", "extra", "infno", "enum", "long"]))
    if mutation == "drop":
        del envelope[draw(st.sampled_from(REQUIRED))]
    elif mutation == "retype":
        envelope[draw(st.sampled_from(REQUIRED))] = draw(NOT_A_STRING)
    elif mutation == "extra":
        node = next(iter(envelope["input"].values()))
        target = node[0] if isinstance(node, list) else node
        target[draw(st.from_regex(r"\Azz_[a-z]{1,8}\Z"))] = draw(JSON)
    elif mutation == "infno":
        envelope["infno"] = draw(
            st.from_regex(r"\A[0-9]{4}[A-Z]?\Z").filter(
                lambda value: value not in contract().transactions
            )
        )
    elif mutation == "enum":
        envelope["opter_type"] = draw(st.sampled_from(["0", "4", "9", "11", ""]))
    else:
        envelope["opter_name"] = draw(st.text(min_size=51, max_size=80))
    return envelope


def test_mutated_envelopes(target: Target) -> None:
    @PROBE
    @given(envelope=broken_envelopes(target.his))
    def probe(envelope: dict[str, Any]) -> None:
        target.check(target.post(dumps(envelope)))

    probe()


def test_random_json(target: Target) -> None:
    @PROBE
    @given(document=JSON)
    def probe(document: Any) -> None:
        target.check(target.post(orjson.dumps(document)))

    probe()


def test_random_bytes(target: Target) -> None:
    @PROBE
    @given(body=st.binary(max_size=300))
    def probe(body: bytes) -> None:
        target.check(target.post(body))

    probe()


def test_broken_gateway_headers(target: Target) -> None:
    printable = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=70)

    @PROBE
    @given(
        drop=st.sets(
            st.sampled_from(["x-tif-paasid", "x-tif-timestamp", "x-tif-nonce", "x-tif-signature"])
        ),
        replace=st.dictionaries(
            st.sampled_from(["x-tif-paasid", "x-tif-timestamp", "x-tif-nonce", "x-tif-signature"]),
            printable,
            max_size=4,
        ),
    )
    def probe(drop: set[str], replace: dict[str, str]) -> None:
        assert target.signing.auth is not None
        headers = target.signing.auth.headers()
        changed = {name: value for name, value in replace.items() if headers[name] != value}
        if not drop and not changed:
            drop = {"x-tif-signature"}
        headers.update(changed)
        for name in drop:
            headers.pop(name)
        body = dumps(
            target.his.envelope("9001", {"signIn": {"opter_no": "C0001", "ip": "1.1.1.1"}})
        )
        response = target.post(body, headers)
        assert response.status_code == 401
        target.check(response)

    probe()


def test_every_malformed_request_is_in_the_transcript(target: Target) -> None:
    records = target.mock.transcript(KUNMING)
    refused = [r for r in records if r["infcode"] == -1]
    assert len(refused) >= EXAMPLES  # at least the header probes, all attributed by paasid
    assert all(r["state_changed"] is False for r in refused)
