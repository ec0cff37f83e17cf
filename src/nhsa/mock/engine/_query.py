"""5203 结算信息查询 (outpatient or inpatient): one ledger row with the setlinfo fields 5203
shares with 2207 and the reference §3.16 extras (psn_pay, cash_payamt in place of
psn_part_amt, psn_cash_pay, hosp_part_amt).

A reversal row is answered like a settlement (negative amounts, ``refd_setl_flag`` 1); a row
voided by 2601 is reported as gone.

Example::

    answer = settlement_info(ctx, node)   # output {"setlinfo": {...}, "setldetail": [...]}
"""

from __future__ import annotations

from typing import Any

from nhsa.mock.engine._context import Context
from nhsa.mock.engine._errors import BusinessError
from nhsa.mock.engine._setlinfo import DATETIME
from nhsa.mock.engine._stays import find_stay
from nhsa.mock.engine._types import Answer
from nhsa.mock.engine._visits import find_visit
from nhsa.mock.settlement import Locality, locality_of
from nhsa.mock.settlement import Settlement as Calculation
from nhsa.mock.store import VOIDED, Settlement, Stay, Visit
from nhsa.models import Input5203

_PAY_LOC = {Locality.LOCAL: "2", Locality.IN_PROVINCE: "3", Locality.CROSS_PROVINCE: "4"}
"""支付地点类别: 2 医疗机构 (local), 3 省内异地, 4 跨省异地."""
_FLEXIBLE = frozenset({"1103", "1203"})
_NEWBORN = "1401"
_SETTLEMENT_ONLY = frozenset({"psn_part_amt", "psn_cash_pay", "hosp_part_amt"})


def settlement_info(ctx: Context, node: Input5203) -> Answer:
    """5203: the settlement ``setl_id`` of this visit and person."""
    data = node.data
    visit: Visit | Stay = (
        find_visit(ctx, data.mdtrt_id, data.psn_no)
        if ctx.tx.get(Stay, ctx.tenant, data.mdtrt_id) is None
        else find_stay(ctx, data.mdtrt_id, data.psn_no)
    )
    row = ctx.tx.get(Settlement, ctx.tenant, data.setl_id)
    if row is None or row.mdtrt_id != data.mdtrt_id or row.psn_no != data.psn_no:
        raise BusinessError(
            "settlement_not_found",
            f"结算信息不存在：setl_id={data.setl_id}（就诊 mdtrt_id={data.mdtrt_id}）",
            f"settlement not found: setl_id {data.setl_id} of visit {data.mdtrt_id}",
        )
    if row.status == VOIDED:
        raise BusinessError(
            "settlement_not_found",
            f"结算信息不存在：setl_id={data.setl_id} 已被冲正(2601)作废",
            f"settlement {data.setl_id} was voided by a reversal (2601)",
        )
    # The 5203 table (A, C1) has psn_pay and cash_payamt where 2207 has psn_part_amt,
    # psn_cash_pay and hosp_part_amt: the answer takes the table's shape.
    shared = {k: v for k, v in row.setlinfo.items() if k not in _SETTLEMENT_ONLY}
    output = {
        "setlinfo": {**shared, **_extras(ctx, row, visit)},
        "setldetail": Calculation.from_record(row.calculation).setldetail_rows(),
    }
    return Answer.ok(output, effects={"setl_id": row.setl_id})


def _extras(ctx: Context, row: Settlement, visit: Visit | Stay) -> dict[str, Any]:
    person = ctx.fixtures.person(row.psn_no)
    record = person.record(row.insutype) if person is not None else None
    psn_type = record.psn_type if record is not None else ""
    level = ctx.institution.level
    amounts = row.setlinfo
    return {
        "flxempe_flag": "1" if psn_type in _FLEXIBLE else "0",
        "nwb_flag": "1" if psn_type == _NEWBORN else "0",
        "insu_optins": row.insuplc_admdvs,
        "emp_name": record.emp_name if record is not None else None,
        "pay_loc": _PAY_LOC[locality_of(row.insuplc_admdvs, ctx.institution.mdtrtarea_admvs)],
        "fixmedins_code": ctx.tenant,
        "fixmedins_name": ctx.institution.fixmedins_name,
        "hosp_lv": level,
        "fixmedins_poolarea": ctx.institution.mdtrtarea_admvs,
        "lmtpric_hosp_lv": level,
        "dedc_hosp_lv": level,
        "begndate": visit.begntime.date().isoformat(),
        "enddate": row.setl_date.isoformat(),
        "psn_pay": amounts.get("psn_part_amt"),
        "cash_payamt": amounts.get("psn_cash_pay"),
        "refd_setl_flag": row.refd_setl_flag,
        "year": str(row.year),
        **_disease(visit),
        "invono": None,
        "opter_id": None,
        "opter_name": None,
        "opt_time": row.setl_time.strftime(DATETIME),
    }


def _disease(visit: Visit | Stay) -> dict[str, Any]:
    """The visit's disease code (2203), or the stay's (its discharge, else its admission)."""
    if isinstance(visit, Visit):
        return {"dise_codg": visit.dise_codg, "dise_name": visit.dise_name}
    node = dict((visit.discharge or {}).get("dscginfo") or visit.admission.get("mdtrtinfo") or {})
    return {"dise_codg": node.get("dise_codg"), "dise_name": node.get("dise_name")}
