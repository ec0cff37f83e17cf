"""The inpatient side of a :class:`~tests.mock.conftest.Desk`: a :class:`Ward` that admits,
uploads fees in batches, discharges and settles stays through ``engine.handle``.

Every envelope goes through the Desk, so each successful answer is checked against the
contract and each refusal must name an entry of ``errors.json``. The ward moves the desk's
clock a day at a time (:meth:`Ward.day`) and signs in again each morning, as a HIS does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson

from nhsa.mock.engine import Answer
from tests.mock.conftest import START, Desk

TIME = "%Y-%m-%d %H:%M:%S"
SCOPE = ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt")

Item = tuple[str, str, str]
"""(med_list_codg, pric, cnt) of one fee line."""


@dataclass
class Ward:
    """One inpatient counter over a :class:`Desk`."""

    desk: Desk
    _serial: int = 0

    def day(self, n: int, hour: int = 9) -> datetime:
        """Move to day ``n`` of the stay (day 0 is the desk's start), sign in again."""
        self.desk.now = START.replace(hour=hour) + timedelta(days=n)
        self.desk.sign_in()
        return self.desk.now

    def area(self, psn_no: str, insutype: str | None = None) -> str:
        """The person's insured area (of ``insutype``, else of their first insurance)."""
        person = self.desk.person(psn_no)
        record = person.record(insutype) if insutype else person.insurance[0]
        assert record is not None
        return record.insuplc_admdvs

    # -- 2401 / 2404 / 2402 / 2405 --------------------------------------------------------

    def admit(
        self,
        psn_no: str,
        insutype: str = "310",
        *,
        med_type: str = "21",
        ipt_no: str | None = None,
        begntime: datetime | None = None,
    ) -> Answer:
        person = self.desk.person(psn_no)
        self._serial += 1
        begin = (begntime or self.desk.now).strftime(TIME)
        mdtrtinfo = {
            "psn_no": psn_no,
            "insutype": insutype,
            "coner_name": "测试家属",
            "tel": "13800000000",
            "begntime": begin,
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": person.certno,
            "med_type": med_type,
            "ipt_no": ipt_no or f"ZY{self._serial:08d}",
            "medrcdno": None,
            "atddr_no": "D530100000412",
            "chfpdr_name": "医师庚",
            "adm_diag_dscr": "社区获得性肺炎",
            "adm_dept_codg": "0302",
            "adm_dept_name": "呼吸内科病区",
            "adm_bed": "12床",
            "dscg_maindiag_code": "J18.900",
            "dscg_maindiag_name": "肺炎",
        }
        diseinfo = [
            {
                "psn_no": psn_no,
                "diag_type": "1",
                "maindiag_flag": "1",
                "diag_srt_no": 1,
                "diag_code": "J18.900",
                "diag_name": "肺炎",
                "adm_cond": "有",
                "diag_dept": "呼吸内科",
                "dise_dor_no": "D530100000412",
                "dise_dor_name": "医师庚",
                "diag_time": begin,
            }
        ]
        node = {"mdtrtinfo": mdtrtinfo, "diseinfo": diseinfo}
        return self.desk.call("2401", node, insuplc_admdvs=self.area(psn_no, insutype))

    def open_stay(self, psn_no: str, insutype: str = "310", **kw: Any) -> str:
        admitted = self.admit(psn_no, insutype, **kw)
        assert admitted.infcode == 0, admitted.err_msg
        mdtrt_id: str = admitted.output["result"]["mdtrt_id"]
        return mdtrt_id

    def cancel_admission(self, psn_no: str, mdtrt_id: str) -> Answer:
        data = {"mdtrt_id": mdtrt_id, "psn_no": psn_no}
        return self.desk.call("2404", {"data": data}, insuplc_admdvs=self.area(psn_no))

    def discharge(
        self, psn_no: str, mdtrt_id: str, *, endtime: datetime | None = None, insutype: str = "310"
    ) -> Answer:
        end = (endtime or self.desk.now).strftime(TIME)
        dscginfo = {
            "mdtrt_id": mdtrt_id,
            "psn_no": psn_no,
            "insutype": insutype,
            "endtime": end,
            "dise_codg": None,
            "dise_name": None,
            "dscg_dept_codg": "0302",
            "dscg_dept_name": "呼吸内科病区",
            "dscg_bed": "12床",
            "dscg_way": "1",
        }
        diseinfo = [
            {
                "mdtrt_id": mdtrt_id,
                "psn_no": psn_no,
                "diag_type": "1",
                "maindiag_flag": "1",
                "diag_srt_no": 1,
                "diag_code": "J18.900",
                "diag_name": "肺炎",
                "diag_dept": "呼吸内科",
                "dise_dor_no": "D530100000412",
                "dise_dor_name": "医师庚",
                "diag_time": end,
            }
        ]
        node = {"dscginfo": dscginfo, "diseinfo": diseinfo}
        return self.desk.call("2402", node, insuplc_admdvs=self.area(psn_no, insutype))

    def cancel_discharge(self, psn_no: str, mdtrt_id: str) -> Answer:
        data = {"mdtrt_id": mdtrt_id, "psn_no": psn_no}
        return self.desk.call("2405", {"data": data}, insuplc_admdvs=self.area(psn_no))

    # -- 2301 / 2302 ----------------------------------------------------------------------

    def lines(
        self,
        psn_no: str,
        mdtrt_id: str,
        items: Sequence[Item],
        *,
        prefix: str,
        at: datetime | None = None,
        med_type: str = "21",
    ) -> list[dict[str, Any]]:
        rows = []
        for index, (code, pric, cnt) in enumerate(items, start=1):
            total = (Decimal(pric) * Decimal(cnt)).quantize(Decimal("0.01"))
            rows.append(
                {
                    "feedetl_sn": f"{prefix}{index:03d}",
                    "init_feedetl_sn": None,
                    "mdtrt_id": mdtrt_id,
                    "drord_no": None,
                    "psn_no": psn_no,
                    "med_type": med_type,
                    "fee_ocur_time": (at or self.desk.now).strftime(TIME),
                    "med_list_codg": code,
                    "medins_list_codg": f"HIS-{code[:8]}",
                    "det_item_fee_sumamt": total,
                    "cnt": Decimal(cnt),
                    "pric": Decimal(pric),
                    "bilg_dept_codg": "0302",
                    "bilg_dept_name": "呼吸内科病区",
                    "bilg_dr_codg": "D530100000412",
                    "bilg_dr_name": "医师庚",
                    "hosp_appr_flag": "0",
                }
            )
        return rows

    def upload(self, psn_no: str, rows: Sequence[Mapping[str, Any]]) -> Answer:
        return self.desk.call("2301", {"feedetail": list(rows)}, insuplc_admdvs=self.area(psn_no))

    def fees(
        self, psn_no: str, mdtrt_id: str, items: Sequence[Item], *, prefix: str, **kw: Any
    ) -> Decimal:
        """Upload one batch; the batch's total."""
        rows = self.lines(psn_no, mdtrt_id, items, prefix=prefix, **kw)
        answer = self.upload(psn_no, rows)
        assert answer.infcode == 0, answer.err_msg
        return sum((row["det_item_fee_sumamt"] for row in rows), Decimal("0.00"))

    def cancel_fees(self, psn_no: str, mdtrt_id: str, serials: Sequence[str] | str) -> Answer:
        """2302: one row as an object (a string), several as an array."""
        rows = [
            {"feedetl_sn": sn, "mdtrt_id": mdtrt_id, "psn_no": psn_no}
            for sn in ([serials] if isinstance(serials, str) else serials)
        ]
        data: Any = rows[0] if isinstance(serials, str) else rows
        return self.desk.call("2302", {"data": data}, insuplc_admdvs=self.area(psn_no))

    # -- 2303 / 2304 / 2305 ---------------------------------------------------------------

    def settlement_data(
        self,
        psn_no: str,
        mdtrt_id: str,
        medfee_sumamt: Decimal,
        *,
        mid: bool = False,
        until: date | None = None,
        insutype: str = "310",
        acct_used_flag: str = "1",
    ) -> dict[str, Any]:
        return {
            "psn_no": psn_no,
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": self.desk.person(psn_no).certno,
            "medfee_sumamt": medfee_sumamt,
            "psn_setlway": "01",
            "mdtrt_id": mdtrt_id,
            "insutype": insutype,
            "acct_used_flag": acct_used_flag,
            "mid_setl_flag": "1" if mid else "0",
            "dscgTime": until.isoformat() if until else None,
        }

    def presettle(self, psn_no: str, mdtrt_id: str, medfee: Decimal, **kw: Any) -> Answer:
        data = self.settlement_data(psn_no, mdtrt_id, medfee, **kw)
        data.update(dict.fromkeys(SCOPE, Decimal("0.00")))  # H sends 0.00 here: recomputed
        return self.desk.call("2303", {"data": data}, insuplc_admdvs=self.area(psn_no))

    def settle(
        self,
        psn_no: str,
        mdtrt_id: str,
        pre: Mapping[str, Any],
        *,
        card_token: str | None = "own",
        **kw: Any,
    ) -> Answer:
        """2304 echoing the pre-settlement (``pre`` its setlinfo); ``card_token`` "own" is
        the patient's own e-voucher token (the medium read with the password)."""
        data = self.settlement_data(psn_no, mdtrt_id, pre["medfee_sumamt"], **kw)
        for name in SCOPE:
            data[name] = pre[name]
        token = (
            self.desk.person(psn_no).certificates.ec_token if card_token == "own" else card_token
        )
        data["exp_content"] = orjson.dumps({"card_token": token}).decode() if token else None
        return self.desk.call("2304", {"data": data}, insuplc_admdvs=self.area(psn_no))

    def settled(self, psn_no: str, mdtrt_id: str, medfee: Decimal, **kw: Any) -> Answer:
        """2303 then 2304 of the same kind; the 2304 answer."""
        options = {k: v for k, v in kw.items() if k != "card_token"}
        pre = self.presettle(psn_no, mdtrt_id, medfee, **options)
        assert pre.infcode == 0, pre.err_msg
        answer = self.settle(psn_no, mdtrt_id, pre.output["setlinfo"], **kw)
        assert answer.infcode == 0, answer.err_msg
        return answer

    def cancel_settlement(self, psn_no: str, mdtrt_id: str, setl_id: str) -> Answer:
        data = {"mdtrt_id": mdtrt_id, "setl_id": setl_id, "psn_no": psn_no}
        return self.desk.call("2305", {"data": data}, insuplc_admdvs=self.area(psn_no))
