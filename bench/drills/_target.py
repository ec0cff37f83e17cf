"""A drill's requests as recipes, and the institution that sends them over a raw socket.

A :class:`Case` is built when it is sent (:meth:`Target.build`): msgid and inf_time fresh,
sealed with the institution's SM2 key, gateway headers stamped — and then broken as the case
says. The requests below succeed when nothing is broken; the drills break them.

Example::

    target = Target(server, site, None, folder / "journal.sqlite3")
    target.sign_in()
    answer = target.send(Case("demo", "a sign-in", (), sign_in_request(target)))
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from nhsa.client import Certificate, Client, Clinic, Diagnosis, FeeLine, WindowMode
from nhsa.envelope import MsgidGenerator, china_now, dumps
from nhsa.signing.errors import SigningError

from ._http import Answer, RawRequest, send
from ._server import MockServer
from ._site import AREA, HOSPITAL, Institution

__all__ = [
    "CANCEL", "CODES", "JSON_TYPE", "PERSON", "QUERY", "REFUND", "SINGLE_ENTRY", "SUCCEEDING",
    "Case", "Target", "lookup_request", "registration_request", "sign_in_request",
]  # fmt: skip

SINGLE_ENTRY: Final = "/fsi/api/rsfComIfsService/callService"
JSON_TYPE: Final = "application/json;charset=utf-8"
CODES: Final = {
    "none": "H53010100901", "tif": "H53010100902", "sm2": "H53010100903", "tif+sm2": "H53010100904",
}  # fmt: skip
PERSON = {  # 张晓峰 of the bundled fixtures (invented), Kunming employee insurance
    "psn_no": "P53010000000001", "certno": "530102198503150018", "insutype": "310",
    "insuplc_admdvs": "530100",
}  # fmt: skip
_CARD = Certificate.id_card(PERSON["certno"])
_CLINIC = Clinic("0301", "内科门诊", "D530100000101", "医师丁", "A03")
_DIAGNOSES = (Diagnosis("J06.900", "急性上呼吸道感染"),)
_FEES = (FeeLine("110200001000000", "HIS-ZC-0001", cnt=1, pric=Decimal("25.00")),)
_WINDOW = WindowMode("C0001", "收费员甲")


@dataclass(frozen=True)
class Case:
    """One broken request, as a recipe: it is built (sealed, gateway headers stamped) when
    sent, so every request carries a fresh msgid, nonce and timestamp unless that is the
    break.

    ``names``: words of which the refusal's err_msg must contain one (case-insensitive), and
    ``misleading`` words it must not contain (a deep body is valid UTF-8); ``record``:
    whether the platform must write a transcript record for it.
    """

    family: str
    what: str
    names: tuple[str, ...]
    document: Mapping[str, Any] | None = None
    raw: bytes | None = None
    keep: tuple[str, ...] = ()
    pre_seal: Callable[[bytes], bytes] | None = None
    post_seal: Callable[[bytes], bytes] | None = None
    gateway: Callable[[Target, list[tuple[str, str]]], list[tuple[str, str]]] | None = None
    method: str = "POST"
    path: str = SINGLE_ENTRY
    content_type: str | None = JSON_TYPE
    headers: tuple[tuple[str, str], ...] = ()
    record: bool = True
    misleading: tuple[str, ...] = ()


class Target:
    """One institution on the server: how to build, send and judge its requests."""

    def __init__(
        self,
        server: MockServer,
        site: Institution,
        other: tuple[str, str] | None,
        journal: Path,
    ) -> None:
        """Send as ``site`` to ``server``; ``other`` is the gateway paasid and token of
        another institution; ``journal`` is the SDK journal whose msgid counter this target
        shares."""
        self.server = server
        self.site = site
        self.signing = site.signing()
        self.other = other
        self.journal = journal
        self.msgids = MsgidGenerator(site.code, journal)
        self.sign_no = ""
        self.visits: dict[str, str] = {}
        self.passed_gateway: list[tuple[str, str]] = []
        self._sent_gateway: list[tuple[str, str]] = []
        self.serial = 0

    def next_serial(self) -> int:
        """A number unique within this run (operators, visit numbers)."""
        self.serial += 1
        return self.serial

    def envelope(self, infno: str, nodes: Mapping[str, Any], insuplc: str = "") -> dict[str, Any]:
        """A request envelope of this institution (msgid and inf_time set when sent)."""
        return {
            "infno": infno, "msgid": "", "mdtrtarea_admvs": AREA, "insuplc_admdvs": insuplc,
            "recer_sys_code": "YBXT", "dev_no": None, "dev_safe_info": None, "cainfo": "",
            "signtype": "", "infver": "V1.0", "opter_type": "1", "opter": "C0001",
            "opter_name": "收费员甲", "inf_time": "", "fixmedins_code": self.site.code,
            "fixmedins_name": HOSPITAL, "sign_no": self.sign_no, "input": dict(nodes),
        }  # fmt: skip

    def build(self, case: Case) -> RawRequest:
        """The request on the wire: body refreshed and sealed, headers stamped, then broken."""
        body = case.raw if case.raw is not None else self._body(case)
        gateway = list(self.signing.auth.headers().items()) if self.signing.auth else []
        if case.gateway is not None:
            gateway = case.gateway(self, gateway)
        self._sent_gateway = gateway
        listed = [("Content-Type", case.content_type)] if case.content_type else []
        return RawRequest(case.method, case.path, (*listed, *gateway, *case.headers), body)

    def _body(self, case: Case) -> bytes:
        assert case.document is not None
        document = dict(case.document)
        for name, fresh in (("msgid", self.msgids.next), ("inf_time", _now)):
            if name in document and name not in case.keep:
                document[name] = fresh()
        body = dumps(document)
        if case.pre_seal is not None:
            body = case.pre_seal(body)
        if self.signing.profile.sm2:
            # A body the seal cannot read (too deep, no cainfo) is sent as it is.
            with contextlib.suppress(SigningError):
                body = self.signing.seal_request(body)
        return case.post_seal(body) if case.post_seal is not None else body

    def send(self, case: Case) -> Answer:
        """Send ``case`` once; remember gateway headers the platform took (their nonce is
        spent), for the replay case."""
        answer = send(self.server.address, self.build(case))
        if case.gateway is None and answer.status == 200 and self._sent_gateway:
            self.passed_gateway = self._sent_gateway
        return answer

    def send_raw(self, request: RawRequest) -> Answer:
        """Send a request built before (a replay, a forgery of a built one)."""
        return send(self.server.address, request)

    def prepare_visits(self) -> None:
        """Two visits of the fixture patient made by the SDK: one settled, one only
        registered — what the ``business`` family's requests refer to."""
        with Client(self.site.config(self.server.url, self.journal), _WINDOW) as client:
            settled = client.register(_CARD, insutype=PERSON["insutype"], clinic=_CLINIC)
            paid = client.charge(settled, _FEES, diagnoses=_DIAGNOSES)
            open_visit = client.register(_CARD, insutype=PERSON["insutype"], clinic=_CLINIC)
        self.visits = {
            "settled": paid.registration.mdtrt_id, "setl_id": paid.setl_id,
            "open": open_visit.mdtrt_id, "open_ipt_otp_no": open_visit.ipt_otp_no,
        }  # fmt: skip

    def sign_in(self) -> None:
        """A valid 9001, so that every later request can carry a real sign_no."""
        nodes = {"signIn": {"opter_no": "C0001", "mac": "52-54-00-12-34-56", "ip": "10.53.1.21"}}
        answer = self.send(Case("setup", "sign-in", (), self.envelope("9001", nodes)))
        envelope = answer.envelope()
        if envelope is None or envelope["infcode"] != 0:
            raise RuntimeError(f"sign-in of {self.site.code} failed: {answer}")
        self.sign_no = str(envelope["output"]["signinoutb"]["sign_no"])


def _now() -> str:
    return china_now().strftime("%Y-%m-%d %H:%M:%S")


# -- what succeeds when nothing is broken ---------------------------------------------------


def sign_in_request(target: Target) -> dict[str, Any]:
    """A 9001 of a new operator: it would book a sign-in."""
    opter = f"F{target.next_serial():05d}"
    document = target.envelope("9001", {"signIn": {"opter_no": opter, "ip": "10.53.1.22"}})
    document["opter"] = opter
    return document


def registration_request(target: Target) -> dict[str, Any]:
    """A 2201 of the fixture patient: it would book a visit."""
    nodes = {
        "data": {
            "psn_no": PERSON["psn_no"], "insutype": PERSON["insutype"], "begntime": _now(),
            "mdtrt_cert_type": "02", "mdtrt_cert_no": PERSON["certno"],
            "ipt_otp_no": f"MZ{target.next_serial():08d}", "atddr_no": "D530100000101",
            "dr_name": "医师丁", "dept_code": "0301", "dept_name": "内科门诊", "caty": "A03",
        }
    }  # fmt: skip
    return target.envelope("2201", nodes, PERSON["insuplc_admdvs"])


def lookup_request(target: Target) -> dict[str, Any]:
    """A 1101 of the fixture patient: it would answer infcode 0."""
    nodes = {
        "data": {
            "mdtrt_cert_type": "02", "mdtrt_cert_no": PERSON["certno"], "psn_cert_type": "01",
            "certno": PERSON["certno"],
        }
    }  # fmt: skip
    return target.envelope("1101", nodes)


SUCCEEDING: Final = (sign_in_request, registration_request, lookup_request)


def _visit_request(infno: str, keys: tuple[str, ...]) -> Callable[[Target], dict[str, Any]]:
    """A request of ``infno`` naming the fixture patient and the prepared visit ids ``keys``
    (mdtrt_id first): it would succeed (2202 cancels, 2208 refunds, 5203 answers)."""

    def build(target: Target) -> dict[str, Any]:
        visit = target.visits
        data = {"psn_no": PERSON["psn_no"], "mdtrt_id": visit[keys[0]]}
        if infno == "2202":
            data["ipt_otp_no"] = visit["open_ipt_otp_no"]
        else:
            data["setl_id"] = visit["setl_id"]
        return target.envelope(infno, {"data": data}, PERSON["insuplc_admdvs"])

    return build


CANCEL = _visit_request("2202", ("open",))
REFUND = _visit_request("2208", ("settled",))
QUERY = _visit_request("5203", ("settled",))
