"""A synthetic HIS for the server tests: builds, signs and sends real envelopes over any
httpx transport, and walks the outpatient workflow (register → charge → refund → reconcile).

It is deliberately small and explicit (dicts, not the SDK), so that the mock is tested against
plain HTTP as a foreign HIS would speak it. Test modules import it; it holds no tests itself.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import orjson

from nhsa.envelope import CHINA_TIME, dumps
from nhsa.signing import ClientSigning

SINGLE_ENTRY = "/fsi/api/rsfComIfsService/callService"
KUNMING = "H53010100001"


@dataclass(frozen=True)
class Patient:
    """A fixture person and the certificate the HIS presents."""

    psn_no: str
    certno: str
    insutype: str
    insuplc_admdvs: str
    cert_type: str = "02"


ZHANG = Patient("P53010000000001", "530102198503150018", "310", "530100")
"""张晓峰: Kunming employee insurance, account balance 1378.15 in the fixtures."""

FEE_ITEMS: tuple[tuple[str, Decimal, Decimal], ...] = (
    ("110200001000000", Decimal("25.00"), Decimal("1")),  # 普通门诊诊察费 (甲)
    ("XJ01DCC035A001010100002", Decimal("18.60"), Decimal("2")),  # 头孢呋辛酯片 (乙 5%)
    ("XA11CCA001A001010100007", Decimal("32.00"), Decimal("1")),  # 维生素D滴剂 (丙)
)


class PlatformError(AssertionError):
    """The platform answered infcode -1 where the test expected success."""

    def __init__(self, infno: str, answer: Mapping[str, Any]) -> None:
        super().__init__(f"{infno}: {answer.get('err_msg')}")
        self.infno = infno
        self.answer = answer


@dataclass
class SyntheticHis:
    """One institution's HIS talking to the mock through ``client``."""

    client: httpx.Client
    code: str = KUNMING
    name: str = "昆明市测试第一人民医院"
    area: str = "530100"
    signing: ClientSigning | None = None
    opter: str = "C0001"
    sign_no: str = ""
    _serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _run: str = field(default_factory=lambda: datetime.now(CHINA_TIME).strftime("%Y%m%d%H%M%S"))

    def new_msgid(self) -> str:
        return f"{self.code}{self._run}{next(self._serial) % 10000:04d}"

    def envelope(
        self, infno: str, nodes: Mapping[str, Any], *, insuplc: str = "", msgid: str | None = None
    ) -> dict[str, Any]:
        return {
            "infno": infno,
            "msgid": msgid or self.new_msgid(),
            "mdtrtarea_admvs": self.area,
            "insuplc_admdvs": insuplc,
            "recer_sys_code": "YBXT",
            "dev_no": None,
            "dev_safe_info": None,
            "cainfo": "",
            "signtype": "",
            "infver": "V1.0",
            "opter_type": "1",
            "opter": self.opter,
            "opter_name": "收费员甲",
            "inf_time": datetime.now(CHINA_TIME).strftime("%Y-%m-%d %H:%M:%S"),
            "fixmedins_code": self.code,
            "fixmedins_name": self.name,
            "sign_no": self.sign_no,
            "input": dict(nodes),
        }

    def post(
        self,
        envelope: Mapping[str, Any],
        *,
        path: str = SINGLE_ENTRY,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        body = dumps(envelope)
        if self.signing is not None:
            body = self.signing.seal_request(body)
        auth = self.signing.auth if self.signing is not None and self.signing.auth else None
        request_headers = {"content-type": "application/json", **(headers or {})}
        if auth is not None:
            return self.client.post(path, content=body, headers=request_headers, auth=auth)
        return self.client.post(path, content=body, headers=request_headers)

    def call(
        self,
        infno: str,
        nodes: Mapping[str, Any],
        *,
        insuplc: str = "",
        headers: Mapping[str, str] | None = None,
        expect_ok: bool = True,
    ) -> dict[str, Any]:
        response = self.post(self.envelope(infno, nodes, insuplc=insuplc), headers=headers)
        if self.signing is not None:
            self.signing.open_response(response.content)
        answer: dict[str, Any] = orjson.loads(response.content)
        if expect_ok and answer.get("infcode") != 0:
            raise PlatformError(infno, answer)
        return answer

    # -- the workflow -------------------------------------------------------------------

    def sign_in(self) -> str:
        answer = self.call(
            "9001",
            {"signIn": {"opter_no": self.opter, "mac": "52-54-00-12-34-56", "ip": "10.53.1.21"}},
        )
        self.sign_no = answer["output"]["signinoutb"]["sign_no"]
        return self.sign_no

    def register(self, patient: Patient = ZHANG, *, visit_no: str | None = None) -> str:
        self.call(
            "1101",
            {
                "data": {
                    "mdtrt_cert_type": patient.cert_type,
                    "mdtrt_cert_no": patient.certno,
                    "psn_cert_type": "01",
                    "certno": patient.certno,
                }
            },
        )
        now = datetime.now(CHINA_TIME).strftime("%Y-%m-%d %H:%M:%S")
        answer = self.call(
            "2201",
            {
                "data": {
                    "psn_no": patient.psn_no,
                    "insutype": patient.insutype,
                    "begntime": now,
                    "mdtrt_cert_type": patient.cert_type,
                    "mdtrt_cert_no": patient.certno,
                    "ipt_otp_no": visit_no or f"MZ{self.new_msgid()[-18:]}",
                    "atddr_no": "D530100000101",
                    "dr_name": "医师丁",
                    "dept_code": "0301",
                    "dept_name": "内科门诊",
                    "caty": "A03",
                }
            },
            insuplc=patient.insuplc_admdvs,
        )
        return str(answer["output"]["data"]["mdtrt_id"])

    def charge(
        self,
        mdtrt_id: str,
        patient: Patient = ZHANG,
        *,
        batch: str = "CB1",
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """2203 → 2204 → 2206 → 2207; the 2207 answer's setlinfo (raises on -1)."""
        now = datetime.now(CHINA_TIME).strftime("%Y-%m-%d %H:%M:%S")
        insuplc = patient.insuplc_admdvs
        self.call(
            "2203",
            {
                "mdtrtinfo": {
                    "mdtrt_id": mdtrt_id,
                    "psn_no": patient.psn_no,
                    "med_type": "11",
                    "begntime": now,
                },
                "diseinfo": [
                    {
                        "diag_type": "1",
                        "diag_srt_no": 1,
                        "diag_code": "J02.900",
                        "diag_name": "急性咽炎",
                        "diag_dept": "内科门诊",
                        "dise_dor_no": "D530100000101",
                        "dise_dor_name": "医师丁",
                        "diag_time": now,
                        "vali_flag": "1",
                    }
                ],
            },
            insuplc=insuplc,
        )
        lines = [
            {
                "feedetl_sn": f"{mdtrt_id}-{batch}-{n}",
                "mdtrt_id": mdtrt_id,
                "psn_no": patient.psn_no,
                "chrg_bchno": batch,
                "rx_circ_flag": "0",
                "fee_ocur_time": now,
                "med_list_codg": code,
                "medins_list_codg": f"HIS-{n}",
                "det_item_fee_sumamt": (price * count).quantize(Decimal("0.01")),
                "cnt": count,
                "pric": price,
                "bilg_dept_codg": "0301",
                "bilg_dept_name": "内科门诊",
                "bilg_dr_codg": "D530100000101",
                "bilg_dr_name": "医师丁",
                "hosp_appr_flag": "0",
            }
            for n, (code, price, count) in enumerate(FEE_ITEMS, 1)
        ]
        self.call("2204", {"feedetail": lines}, insuplc=insuplc)
        common = {
            "psn_no": patient.psn_no,
            "mdtrt_cert_type": patient.cert_type,
            "mdtrt_cert_no": patient.certno,
            "med_type": "11",
            "psn_setlway": "01",
            "mdtrt_id": mdtrt_id,
            "chrg_bchno": batch,
            "acct_used_flag": "1",
            "insutype": patient.insutype,
        }
        total = sum((line["det_item_fee_sumamt"] for line in lines), Decimal("0.00"))
        pre = self.call("2206", {"data": {**common, "medfee_sumamt": total}}, insuplc=insuplc)
        setlinfo = pre["output"]["setlinfo"]
        echoed = {
            name: Decimal(str(setlinfo[name]))
            for name in (
                "medfee_sumamt",
                "fulamt_ownpay_amt",
                "overlmt_selfpay",
                "preselfpay_amt",
                "inscp_scp_amt",
            )
        }
        answer = self.call("2207", {"data": {**common, **echoed}}, insuplc=insuplc, headers=headers)
        return dict(answer["output"]["setlinfo"])

    def refund(self, setl_id: str, mdtrt_id: str, patient: Patient = ZHANG) -> dict[str, Any]:
        """2208 then 2205 (all unsettled lines); the 2208 answer's setlinfo."""
        answer = self.call(
            "2208",
            {"data": {"setl_id": setl_id, "mdtrt_id": mdtrt_id, "psn_no": patient.psn_no}},
            insuplc=patient.insuplc_admdvs,
        )
        self.call(
            "2205",
            {"data": {"mdtrt_id": mdtrt_id, "chrg_bchno": "0000", "psn_no": patient.psn_no}},
            insuplc=patient.insuplc_admdvs,
        )
        return dict(answer["output"]["setlinfo"])

    def reconcile(
        self, day: str, totals: Mapping[str, Decimal], count: int, insutype: str = "310"
    ) -> dict[str, Any]:
        """3201 for one day with the HIS's own totals; the stmtinfo node."""
        answer = self.call(
            "3201",
            {
                "data": {
                    "insutype": insutype,
                    "clr_type": "11",
                    "setl_optins": self.area,
                    "stmt_begndate": day,
                    "stmt_enddate": day,
                    **totals,
                    "fixmedins_setl_cnt": count,
                }
            },
        )
        return dict(answer["output"]["stmtinfo"])
