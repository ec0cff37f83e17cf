"""Hand-made transcript records, shaped like the mock's, built from the contract's own examples.

Each helper appends one record (request envelope + answer) the way the mock would record a
well-behaved HIS; a test then breaks exactly one thing (a field, a fault, the order) to make a
check fail. Requests start from the bundled example of their transaction, so they are valid
per the contract unless a test makes them invalid.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from nhsa import spec
from nhsa.envelope import CHINA_TIME, dumps
from nhsa.mock.faults import AppliedFault, parse_fault_spec
from nhsa.mock.transcript import RECORDED_HEADERS, SCHEMA_VERSION

CODE = "H53010112345"
AREA = "530100"
START = datetime(2026, 11, 23, 9, 0, 0, tzinfo=CHINA_TIME)
PERSON = "P53010000000001"


def example_request(infno: str) -> dict[str, Any]:
    return copy.deepcopy(dict(spec.contract().transaction(infno).examples[0].request))


def example_output(infno: str) -> dict[str, Any]:
    response = spec.contract().transaction(infno).examples[0].response
    return copy.deepcopy(dict(response.get("output") or {}))


def fault_member(kind: str, **params: Any) -> dict[str, Any]:
    """The record's ``fault`` member for a fault of ``kind``, as the mock writes it."""
    return AppliedFault("f-1", parse_fault_spec({"kind": kind, **params}), "python").record()


def signature_member(*, present: bool, ok: bool | None, error: str | None = None) -> dict[str, Any]:
    """The record's ``signature`` member."""
    key_id = "4f67eee642627fd5" if ok else None
    return {"present": present, "ok": ok, "key_id": key_id, "error": error}


@dataclass
class TranscriptBuilder:
    """Builds one tenant's transcript, seq by seq."""

    code: str = CODE
    area: str = AREA
    opter_type: str = "1"
    dev_no: str | None = None
    profile: str = "none"
    records: list[dict[str, Any]] = field(default_factory=list)
    now: datetime = START
    sign_no: str | None = None
    _msg_seq: int = 0
    _ids: int = 0

    # -- plumbing ---------------------------------------------------------------------------

    def next_msgid(self) -> str:
        self._msg_seq += 1
        return f"{self.code}{self.now:%Y%m%d%H%M%S}{self._msg_seq:04d}"

    def next_id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}{self._ids:06d}"

    def add(
        self,
        infno: str,
        input_nodes: dict[str, Any],
        output: dict[str, Any] | None = None,
        *,
        infcode: int = 0,
        err_msg: str | None = None,
        insuplc: str | None = None,
        fault: str | None = None,
        delivered: bool = True,
        state_changed: bool | None = None,
        msgid: str | None = None,
        **envelope: Any,
    ) -> dict[str, Any]:
        self.now += timedelta(seconds=1)
        request = example_request(infno)
        request.update(
            msgid=msgid or self.next_msgid(),
            fixmedins_code=self.code,
            mdtrtarea_admvs=self.area,
            insuplc_admdvs=insuplc or self.area,
            opter_type=self.opter_type,
            dev_no=self.dev_no,
            inf_time=f"{self.now:%Y-%m-%d %H:%M:%S}",
            sign_no=None if infno == "9001" else self.sign_no,
            input=input_nodes,
        )
        request.update(envelope)
        kind = spec.contract().transaction(infno).kind
        changed = (infcode == 0 and kind == "write") if state_changed is None else state_changed
        record = {
            "seq": len(self.records) + 1,
            "schema_version": SCHEMA_VERSION,
            "tenant": self.code,
            "received_at": self.now.isoformat(timespec="milliseconds"),
            "answered_at": self.now.isoformat(timespec="milliseconds"),
            "route": "single-entry",
            "path": "/fsi/api/rsfComIfsService/callService",
            "headers": dict.fromkeys(RECORDED_HEADERS),
            "infno": infno,
            "msgid": request["msgid"],
            "opter_type": request["opter_type"],
            "opter": request["opter"],
            "sign_no": request["sign_no"],
            "insuplc_admdvs": request["insuplc_admdvs"],
            "request": request,
            "request_sha256": hashlib.sha256(dumps(request)).hexdigest(),
            "gateway": {
                "scheme": "tif" if "tif" in self.profile else "none",
                "ok": True,
                "error": None,
            },
            "signature": signature_member(
                present="sm2" in self.profile, ok=True if "sm2" in self.profile else None
            ),
            "validation": [],
            "infcode": infcode,
            "err_msg": err_msg,
            "response": {"infcode": infcode, "err_msg": err_msg, "output": output or {}},
            "fault": fault_member(fault) if fault else None,
            "delivered": delivered,
            "state_changed": changed,
            "effects": {},
            "error_id": None,
            "dialect": {"name": "national", "ok": True, "error": None},
        }
        self.records.append(record)
        return record

    # -- business ---------------------------------------------------------------------------

    def sign_in(self) -> dict[str, Any]:
        self.sign_no = self.next_id("SN")
        output = {
            "signinoutb": {"sign_no": self.sign_no, "sign_time": f"{self.now:%Y-%m-%d %H:%M:%S}"}
        }
        return self.add("9001", example_request("9001")["input"], output)

    def lookup(self, psn_no: str = PERSON, insured: dict[str, str] | None = None) -> dict[str, Any]:
        output = example_output("1101")
        output["baseinfo"]["psn_no"] = psn_no
        rows = insured or {"310": self.area}
        template = output["insuinfo"][0]
        output["insuinfo"] = [dict(template, insutype=t, insuplc_admdvs=a) for t, a in rows.items()]
        return self.add("1101", example_request("1101")["input"], output, insuplc=self.area)

    def register(self, psn_no: str = PERSON, insuplc: str | None = None, **data: Any) -> str:
        mdtrt_id = self.next_id("M")
        nodes = example_request("2201")["input"]
        nodes["data"].update(psn_no=psn_no, insutype="310", **data)
        self.add(
            "2201",
            nodes,
            {
                "data": {
                    "mdtrt_id": mdtrt_id,
                    "psn_no": psn_no,
                    "ipt_otp_no": nodes["data"]["ipt_otp_no"],
                }
            },
            insuplc=insuplc or self.area,
        )
        return mdtrt_id

    def upload(
        self,
        mdtrt_id: str,
        batch: str,
        lines: list[tuple[str, str, str]],
        psn_no: str = PERSON,
        **kw: Any,
    ) -> dict[str, Any]:
        """``lines``: (cnt, pric, det_item_fee_sumamt) as decimal strings."""
        template = example_request("2204")["input"]["feedetail"][0]
        rows = [
            dict(
                template,
                feedetl_sn=f"{batch}-{n}",
                mdtrt_id=mdtrt_id,
                psn_no=psn_no,
                chrg_bchno=batch,
                cnt=Decimal(cnt),
                pric=Decimal(pric),
                det_item_fee_sumamt=Decimal(det),
            )
            for n, (cnt, pric, det) in enumerate(lines, 1)
        ]
        return self.add(
            "2204", {"feedetail": rows}, {"result": []}, insuplc=kw.pop("insuplc", self.area), **kw
        )

    def setlinfo(self, total: Decimal, mdtrt_id: str, setl_id: str | None) -> dict[str, Any]:
        fund = (total * Decimal("0.7")).quantize(Decimal("0.01"))
        info = example_output("2207")["setlinfo"]
        info.update(
            mdtrt_id=mdtrt_id,
            setl_id=setl_id,
            medfee_sumamt=total,
            fulamt_ownpay_amt=Decimal("0"),
            overlmt_selfpay=Decimal("0"),
            preselfpay_amt=Decimal("0"),
            inscp_scp_amt=total,
            hifp_pay=fund,
            fund_pay_sumamt=fund,
            psn_part_amt=total - fund,
            acct_pay=total - fund,
            psn_cash_pay=Decimal("0"),
        )
        return info

    def presettle(
        self, mdtrt_id: str, batch: str, total: str, psn_no: str = PERSON, **kw: Any
    ) -> dict[str, Any]:
        nodes = example_request("2206")["input"]
        nodes["data"].update(
            mdtrt_id=mdtrt_id, chrg_bchno=batch, psn_no=psn_no, medfee_sumamt=Decimal(total)
        )
        output = {"setlinfo": self.setlinfo(Decimal(total), mdtrt_id, None), "setldetail": []}
        return self.add(
            "2206", nodes, output, insuplc=kw.pop("insuplc", self.area), state_changed=False, **kw
        )

    def settle(
        self,
        mdtrt_id: str,
        batch: str,
        total: str,
        psn_no: str = PERSON,
        *,
        echo: dict[str, Any] | None = None,
        **kw: Any,
    ) -> dict[str, Any]:
        amount = Decimal(total)
        nodes = example_request("2207")["input"]
        nodes["data"].update(
            mdtrt_id=mdtrt_id,
            chrg_bchno=batch,
            psn_no=psn_no,
            medfee_sumamt=amount,
            fulamt_ownpay_amt=Decimal("0"),
            overlmt_selfpay=Decimal("0"),
            preselfpay_amt=Decimal("0"),
            inscp_scp_amt=amount,
        )
        nodes["data"].update(echo or {})
        refused = kw.get("infcode", 0) != 0
        setl_id = None if refused else self.next_id("S")
        output = (
            {}
            if refused
            else {"setlinfo": self.setlinfo(amount, mdtrt_id, setl_id), "setldetail": []}
        )
        return self.add("2207", nodes, output, insuplc=kw.pop("insuplc", self.area), **kw)

    def charge(
        self, mdtrt_id: str, batch: str, total: str = "25.00", psn_no: str = PERSON, **kw: Any
    ) -> dict[str, Any]:
        self.upload(mdtrt_id, batch, [("1", total, total)], psn_no)
        self.presettle(mdtrt_id, batch, total, psn_no)
        return self.settle(mdtrt_id, batch, total, psn_no, **kw)

    def refund(
        self, setl_id: str, mdtrt_id: str, psn_no: str = PERSON, **kw: Any
    ) -> dict[str, Any]:
        nodes = example_request("2208")["input"]
        nodes["data"].update(setl_id=setl_id, mdtrt_id=mdtrt_id, psn_no=psn_no)
        return self.add("2208", nodes, {}, insuplc=self.area, **kw)

    def cancel_fees(
        self, mdtrt_id: str, batch: str, psn_no: str = PERSON, **kw: Any
    ) -> dict[str, Any]:
        nodes = example_request("2205")["input"]
        nodes["data"].update(mdtrt_id=mdtrt_id, chrg_bchno=batch, psn_no=psn_no)
        return self.add("2205", nodes, {}, insuplc=self.area, **kw)

    def reverse(
        self, omsgid: str, oinfno: str = "2207", psn_no: str = PERSON, **kw: Any
    ) -> dict[str, Any]:
        nodes = example_request("2601")["input"]
        nodes["data"].update(omsgid=omsgid, oinfno=oinfno, psn_no=psn_no)
        return self.add("2601", nodes, {}, insuplc=self.area, **kw)

    def cancel_registration(self, mdtrt_id: str, psn_no: str = PERSON, **kw: Any) -> dict[str, Any]:
        nodes = example_request("2202")["input"]
        nodes["data"].update(mdtrt_id=mdtrt_id, psn_no=psn_no)
        return self.add("2202", nodes, {}, insuplc=self.area, **kw)

    def reconcile(
        self, medfee: str, fund: str, acct: str, count: int, stmt_rslt: str = "0", **kw: Any
    ) -> dict[str, Any]:
        nodes = example_request("3201")["input"]
        nodes["data"].update(
            medfee_sumamt=Decimal(medfee),
            fund_pay_sumamt=Decimal(fund),
            acct_pay=Decimal(acct),
            fixmedins_setl_cnt=count,
        )
        output = {
            "stmtinfo": {"setl_optins": self.area, "stmt_rslt": stmt_rslt, "stmt_rslt_dscr": "test"}
        }
        return self.add("3201", nodes, output, state_changed=False, **kw)


def setl_id_of(record: dict[str, Any]) -> str:
    return str(record["response"]["output"]["setlinfo"]["setl_id"])
