"""The raw HIS's inpatient side: admission, fee batches, mid-way and final settlement,
cancellations — each message built by hand, as :mod:`raw_his` does for visits.

THIS IS PART OF A TEST INSTRUMENT. Without flaws it does each stay action correctly: the fees
it uploads are the fees it counts, it discharges before the final settlement, pre-settles
before it settles and echoes the pre-settlement, reverses a lost 2304 with 2601, carries the
password medium for an in-province stay, and refuses to cancel a stay's older settlement while
a newer one stands. With a flaw it makes that one mistake ON PURPOSE:

- ``unmatched-stay-fees`` — the last line of each batch never reaches the platform (an item
  the HIS did not map to the catalogue), yet the HIS counts it in its own total;
- ``settle-without-presettlement`` — 2304 on the HIS's own figures, no 2303 first;
- ``cancel-stay-settlement-out-of-order`` — 2305 of the settlement it is asked for, even while
  a newer one of the stay stands.

Example:
    >>> from examples.broken_his.flaws import Flaw
    >>> StayBook().open_total("M1")
    Decimal('0.00')
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from examples.broken_his.flaws import Flaw

from nhsa.conformance import (
    AdmitRequest,
    CancelAdmissionRequest,
    CancelStaySettlementRequest,
    DischargeRequest,
    DriverCertificate,
    DriverResult,
    FeeItem,
    StayFeesRequest,
    StaySettlementRequest,
)
from nhsa.envelope import china_now

if TYPE_CHECKING:
    from examples.broken_his.raw_his import RawHis

__all__ = ["RawStays", "StayBook"]

TIME: Final = "%Y-%m-%d %H:%M:%S"
SCOPE: Final = ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt")
ZERO: Final = Decimal("0.00")
INPATIENT_CLR_TYPE: Final = "21"


@dataclass
class _Stay:
    mdtrt_id: str
    psn_no: str
    insutype: str
    insuplc: str
    cert_type: str
    cert_no: str
    med_type: str


@dataclass
class _Line:
    serial: str
    item: FeeItem
    setl_id: str | None = None


@dataclass
class _Part:
    setl_id: str
    stay: _Stay
    group: tuple[str, str, str]
    live: bool = True


@dataclass
class StayBook:
    """What the raw HIS keeps of its stays: the lines it counts, the settlements standing."""

    stays: dict[str, _Stay] = field(default_factory=dict)
    lines: dict[str, list[_Line]] = field(default_factory=dict)
    parts: list[_Part] = field(default_factory=list)

    def open_lines(self, mdtrt_id: str) -> list[_Line]:
        """The stay's lines no standing settlement covers."""
        return [line for line in self.lines.get(mdtrt_id, []) if line.setl_id is None]

    def open_total(self, mdtrt_id: str) -> Decimal:
        """The HIS's own total of what it has still to settle."""
        return sum((line.item.total for line in self.open_lines(mdtrt_id)), ZERO)

    def standing(self, mdtrt_id: str) -> list[_Part]:
        """The stay's settlements that stand, oldest first."""
        return [p for p in self.parts if p.live and p.stay.mdtrt_id == mdtrt_id]


class RawStays:
    """The stay actions of a :class:`RawHis` (which sends, signs and reconciles for it)."""

    def __init__(self, his: RawHis) -> None:
        """Act through ``his``."""
        self.his = his
        self.book = StayBook()

    def admit(self, request: AdmitRequest) -> DriverResult:
        """1101, then 2401 with the insured area 1101 named."""
        cert = request.certificate
        psn_no, insuplc = self.his._person(cert, request.insutype)
        stay = _Stay(
            "", psn_no, request.insutype, insuplc, cert.cert_type, cert.cert_no, request.med_type
        )
        now = _now()
        answer = self.his._call(
            "2401",
            {
                "mdtrtinfo": {
                    "psn_no": psn_no,
                    "insutype": request.insutype,
                    "begntime": now,
                    "mdtrt_cert_type": cert.cert_type,
                    "mdtrt_cert_no": cert.cert_no,
                    "med_type": request.med_type,
                    "ipt_no": request.ipt_no,
                    "atddr_no": request.atddr_no,
                    "chfpdr_name": request.dr_name,
                    "adm_diag_dscr": request.diag_name,
                    "adm_dept_codg": request.dept_code,
                    "adm_dept_name": request.dept_name,
                    "adm_bed": request.bed,
                    "dscg_maindiag_code": request.diag_code,
                    "dscg_maindiag_name": request.diag_name,
                },
                "diseinfo": [
                    {
                        "psn_no": psn_no,
                        "diag_type": "1",
                        "maindiag_flag": "1",
                        "diag_srt_no": 1,
                        "diag_code": request.diag_code,
                        "diag_name": request.diag_name,
                        "diag_dept": request.dept_name,
                        "dise_dor_no": request.atddr_no,
                        "dise_dor_name": request.dr_name,
                        "diag_time": now,
                    }
                ],
            },
            insuplc,
        )
        stay.mdtrt_id = str(answer.node("result").get("mdtrt_id"))
        self.book.stays[stay.mdtrt_id] = stay
        return DriverResult("ok", mdtrt_id=stay.mdtrt_id, psn_no=psn_no, ipt_otp_no=request.ipt_no)

    def upload_stay_fees(self, request: StayFeesRequest) -> DriverResult:
        """2301 of the batch (flawed: its last line left out, but counted)."""
        stay = self._stay(request.mdtrt_id)
        batch = f"ZF{self.his._next_msgid()[12:]}"
        lines = [_Line(f"{batch}{i:04d}", item) for i, item in enumerate(request.items, 1)]
        sent = lines[:-1] if Flaw.UNMATCHED_STAY_FEES in self.his.flaws else lines
        if sent:  # DELIBERATELY WRONG with the flaw: the last line never goes out
            self.his._call(
                "2301", {"feedetail": [_fee_row(stay, line) for line in sent]}, stay.insuplc
            )
        self.book.lines.setdefault(stay.mdtrt_id, []).extend(lines)
        return DriverResult("ok", mdtrt_id=stay.mdtrt_id, psn_no=stay.psn_no)

    def settle(self, request: StaySettlementRequest) -> DriverResult:
        """2303 then 2304 echoing it (flawed: no 2303); a lost 2304 is reversed (2601)."""
        stay = self._stay(request.mdtrt_id)
        lines = self.book.open_lines(stay.mdtrt_id)
        if not lines:
            return DriverResult("rejected", message="nothing left to settle")
        total = sum((line.item.total for line in lines), ZERO)
        money: dict[str, Any] = {
            "psn_no": stay.psn_no,
            "mdtrt_cert_type": stay.cert_type,
            "mdtrt_cert_no": stay.cert_no,
            "medfee_sumamt": total,
            "psn_setlway": "01",
            "mdtrt_id": stay.mdtrt_id,
            "insutype": stay.insutype,
            "acct_used_flag": request.acct_used_flag,
            "mid_setl_flag": "1" if request.midway else "0",
            "dscgTime": request.until.isoformat() if request.midway and request.until else None,
        }
        if Flaw.SETTLE_WITHOUT_PRESETTLEMENT in self.his.flaws:
            echoed = dict.fromkeys(SCOPE, ZERO)  # DELIBERATELY WRONG: its own figures, no 2303
        else:
            pre = self.his._call("2303", {"data": {**money, **dict.fromkeys(SCOPE, ZERO)}},
                                 stay.insuplc)  # fmt: skip
            info = pre.node("setlinfo")
            echoed = {name: info.get(name) for name in ("medfee_sumamt", *SCOPE)}
        medium = _medium(request.certificate)
        extension = json.dumps({"card_token": medium}) if medium else None
        settle = {"data": {**money, **echoed, "exp_content": extension}}
        answer = self.his._send("2304", settle, stay.insuplc)
        if answer.fate == "lost":
            self.his._undo_lost(stay.psn_no, stay.insuplc, answer.msgid, "2304")
            return DriverResult("rejected", message=f"2304 {answer.msgid} lost, reversed")
        if answer.fate != "ok":
            return self.his._refusal(answer)
        info = answer.node("setlinfo")
        setl_id = str(info.get("setl_id"))
        group = (
            stay.insutype,
            str(info.get("clr_type") or INPATIENT_CLR_TYPE),
            str(info.get("clr_optins")),
        )
        for line in lines:
            line.setl_id = setl_id
        self.book.parts.append(_Part(setl_id, stay, group))
        self.his._book(group, info, sign=1)
        return self.his._settled(stay.mdtrt_id, stay.psn_no, info)

    def discharge(self, request: DischargeRequest) -> DriverResult:
        """2402 now."""
        stay = self._stay(request.mdtrt_id)
        now = _now()
        self.his._call(
            "2402",
            {
                "dscginfo": {
                    "mdtrt_id": stay.mdtrt_id,
                    "psn_no": stay.psn_no,
                    "insutype": stay.insutype,
                    "endtime": now,
                    "dscg_dept_codg": "0302",
                    "dscg_dept_name": "呼吸内科病区",
                    "dscg_way": "1",
                },
                "diseinfo": [
                    {
                        "mdtrt_id": stay.mdtrt_id,
                        "psn_no": stay.psn_no,
                        "diag_type": "1",
                        "maindiag_flag": "1",
                        "diag_srt_no": 1,
                        "diag_code": "J18.900",
                        "diag_name": "肺炎",
                        "diag_dept": "呼吸内科",
                        "dise_dor_no": "D530100000001",
                        "dise_dor_name": "测试医师",
                        "diag_time": now,
                    }
                ],
            },
            stay.insuplc,
        )
        return DriverResult("ok", mdtrt_id=stay.mdtrt_id, psn_no=stay.psn_no)

    def cancel_stay_settlement(self, request: CancelStaySettlementRequest) -> DriverResult:
        """2305 of the newest settlement (flawed: of any, as asked)."""
        stay = self._stay(request.mdtrt_id)
        standing = self.book.standing(stay.mdtrt_id)
        part = next((p for p in standing if p.setl_id == request.setl_id), None)
        if part is None:
            return DriverResult("rejected", message=f"no standing settlement {request.setl_id}")
        newest = standing[-1]
        if part is not newest and Flaw.CANCEL_OUT_OF_ORDER not in self.his.flaws:
            return DriverResult(
                "rejected",
                message=f"cancel {newest.setl_id} first: a stay's settlements go newest first",
            )
        answer = self.his._call(  # DELIBERATELY WRONG with the flaw: any settlement, as asked
            "2305",
            {"data": {"mdtrt_id": stay.mdtrt_id, "setl_id": part.setl_id, "psn_no": stay.psn_no}},
            stay.insuplc,
        )
        part.live = False
        for line in self.book.lines.get(stay.mdtrt_id, []):
            if line.setl_id == part.setl_id:
                line.setl_id = None
        info = answer.node("setlinfo")
        self.his._book(part.group, info, sign=-1)
        return DriverResult(
            "ok", mdtrt_id=stay.mdtrt_id, setl_id=_text(info.get("setl_id")), psn_no=stay.psn_no
        )

    def cancel_admission(self, request: CancelAdmissionRequest) -> DriverResult:
        """2302 "0000" of its open lines, then 2404."""
        stay = self._stay(request.mdtrt_id)
        if self.book.open_lines(stay.mdtrt_id):
            wipe = {"data": [{"feedetl_sn": "0000", "mdtrt_id": stay.mdtrt_id,
                              "psn_no": stay.psn_no}]}  # fmt: skip
            self.his._call("2302", wipe, stay.insuplc)
            self.book.lines[stay.mdtrt_id] = [
                line for line in self.book.lines[stay.mdtrt_id] if line.setl_id is not None
            ]
        self.his._call(
            "2404", {"data": {"mdtrt_id": stay.mdtrt_id, "psn_no": stay.psn_no}}, stay.insuplc
        )
        return DriverResult("ok", mdtrt_id=stay.mdtrt_id, psn_no=stay.psn_no)

    def groups(self, area: str) -> set[tuple[str, str, str]]:
        """The 3201 group of every stay (insutype, 21 住院, the hospital's area)."""
        return {(stay.insutype, INPATIENT_CLR_TYPE, area) for stay in self.book.stays.values()}

    def _stay(self, mdtrt_id: str) -> _Stay:
        stay = self.book.stays.get(mdtrt_id)
        if stay is None:
            raise self.his.failed(DriverResult("rejected", message=f"unknown stay {mdtrt_id}"))
        return stay


def _fee_row(stay: _Stay, line: _Line) -> dict[str, Any]:
    item = line.item
    return {
        "feedetl_sn": line.serial,
        "mdtrt_id": stay.mdtrt_id,
        "psn_no": stay.psn_no,
        "med_type": stay.med_type,
        "fee_ocur_time": _now(),
        "med_list_codg": item.code,
        "medins_list_codg": item.hospital_code,
        "det_item_fee_sumamt": item.total,
        "cnt": item.qty,
        "pric": item.price,
        "bilg_dept_codg": "0302",
        "bilg_dept_name": "呼吸内科病区",
        "bilg_dr_codg": "D530100000001",
        "bilg_dr_name": "测试医师",
    }


def _medium(certificate: DriverCertificate) -> str | None:
    if certificate.cert_type == "03":
        return certificate.card_sn
    return certificate.cert_no if certificate.cert_type == "01" else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _now() -> str:
    return china_now().strftime(TIME)
