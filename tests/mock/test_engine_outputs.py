"""Every handler's answer validates against the contract, on the wire."""

from __future__ import annotations

from decimal import Decimal

from nhsa import spec
from nhsa.envelope import DetailRow, write_detail_file
from nhsa.mock.engine import HANDLERS, Answer
from nhsa.mock.store import Settlement

from .conftest import CLASS_A_DRUG, CLASS_B_DRUG, CLASS_C_DRUG, Desk, wire
from .stays import Ward

LOCAL = "P53010000000001"


def test_every_handler_answers_a_contract_valid_output(desk: Desk) -> None:
    desk.check_outputs = False  # checked here, explicitly, one infno at a time
    answers: dict[str, Answer] = {}

    def keep(infno: str, answer: Answer) -> Answer:
        assert answer.infcode == 0, f"{infno}: {answer.err_msg}"
        answers[infno] = answer
        return answer

    keep("9001", desk.call("9001", {"signIn": {"opter_no": "K02", "ip": "10.0.0.9"}}))
    keep("1101", desk.person_info("02", desk.person(LOCAL).certno))
    keep(
        "2001",
        desk.call(
            "2001",
            {
                "data": {
                    "psn_no": LOCAL,
                    "insutype": "310",
                    "fixmedins_code": desk.tenant,
                    "med_type": "11",
                    "begntime": "2026-11-23 09:00:00",
                }
            },
            insuplc_admdvs="530100",
        ),
    )
    chronic = {
        "psn_no": LOCAL,
        "insutype": "310",
        "opsp_dise_code": "M01600",
        "opsp_dise_name": "糖尿病",
        "insu_optins": "530100",
        "ide_fixmedins_no": desk.tenant,
        "ide_fixmedins_name": "测试医院",
        "hosp_ide_date": "2026-11-20",
        "diag_dr_codg": "D0001",
        "diag_dr_name": "医师丁",
        "begndate": "2026-11-23",
    }
    registered = keep("2503", desk.call("2503", {"data": chronic}, insuplc_admdvs="530100"))
    keep("5301", desk.call("5301", {"data": {"psn_no": LOCAL}}, insuplc_admdvs="530100"))
    serial = registered.output["result"]["trt_dcla_detl_sn"]
    cancel = {"trt_dcla_detl_sn": serial, "psn_no": LOCAL, "memo": "录入错误"}
    keep("2504", desk.call("2504", {"data": cancel}, insuplc_admdvs="530100"))
    mdtrt_id = keep("2201", desk.register(LOCAL)).output["data"]["mdtrt_id"]
    keep("2203", desk.visit_info(LOCAL, mdtrt_id))
    info_a = desk.envelope("2203A", {}, insuplc_admdvs="530100")
    info_a["input"] = {**desk.envelopes[-1]["input"]}
    info_a["input"]["mdtrtinfo"] = {
        **info_a["input"]["mdtrtinfo"],
        "matn_type": None,
        "geso_val": None,
    }
    keep("2203A", desk.send(info_a))
    lines = desk.fee_lines(
        LOCAL,
        mdtrt_id,
        [(CLASS_A_DRUG, "10", "2"), (CLASS_B_DRUG, "4.52", "1"), (CLASS_C_DRUG, "35.5", "1")],
    )
    keep("2204", desk.upload(LOCAL, lines))
    medfee = Decimal("60.02")
    pre = keep("2206", desk.presettle(LOCAL, mdtrt_id, medfee))
    settled = keep("2207", desk.settle(LOCAL, mdtrt_id, pre.output["setlinfo"]))
    setl_id = settled.output["setlinfo"]["setl_id"]
    keep("5203", desk.query_settlement(LOCAL, mdtrt_id, setl_id))
    keep("2208", desk.cancel_settlement(LOCAL, mdtrt_id, setl_id))
    keep("2205", desk.cancel_fees(LOCAL, mdtrt_id, "0000"))
    keep("2601", desk.reverse(LOCAL, f"{desk.tenant}202611230000000001", "2207"))
    ipt_otp_no = answers["2201"].output["data"]["ipt_otp_no"]
    keep("2202", desk.cancel_registration(LOCAL, mdtrt_id, ipt_otp_no))
    with desk.store.snapshot() as tx:
        rows = tx.find(Settlement, tenant=desk.tenant)
    keep(
        "3201",
        desk.call(
            "3201",
            {
                "data": {
                    "insutype": "310",
                    "clr_type": "11",
                    "setl_optins": "530100",
                    "stmt_begndate": "2026-11-23",
                    "stmt_enddate": "2026-11-23",
                    "medfee_sumamt": Decimal("0.00"),
                    "fund_pay_sumamt": Decimal("0.00"),
                    "acct_pay": Decimal("0.00"),
                    "fixmedins_setl_cnt": len(rows),
                }
            },
        ),
    )
    detail = [
        DetailRow(
            r.setl_id,
            r.mdtrt_id,
            r.psn_no,
            r.medfee_sumamt,
            r.fund_pay_sumamt,
            r.acct_pay,
            r.refd_setl_flag,
        )
        for r in rows
    ]
    uploaded = keep("9101", desk.upload_file(write_detail_file(detail)))
    result = keep(
        "3202",
        desk.call(
            "3202",
            {
                "data": {
                    "setl_optins": "530100",
                    "file_qury_no": uploaded.output["file_qury_no"],
                    "stmt_begndate": "2026-11-23",
                    "stmt_enddate": "2026-11-23",
                    "medfee_sumamt": Decimal("0.00"),
                    "fund_pay_sumamt": Decimal("0.00"),
                    "cash_payamt": Decimal("0.00"),
                    "fixmedins_setl_cnt": len(rows),
                    "clr_type": "11",
                    "refd_setl_flag": "0",
                }
            },
        ),
    )
    download = keep("9102", desk.download_file(result.output["fileinfo"]["file_qury_no"]))
    assert download.file is not None
    assert download.file.startswith(b"PK")
    ward = Ward(desk)
    stay = keep("2401", ward.admit(LOCAL)).output["result"]["mdtrt_id"]
    keep(
        "2301", ward.upload(LOCAL, ward.lines(LOCAL, stay, [(CLASS_A_DRUG, "10", "2")], prefix="A"))
    )
    ward.upload(LOCAL, ward.lines(LOCAL, stay, [(CLASS_B_DRUG, "4.52", "1")], prefix="B"))
    keep("2302", ward.cancel_fees(LOCAL, stay, "B001"))
    midway = keep("2303", ward.presettle(LOCAL, stay, Decimal("20.00"), mid=True))
    paid = keep("2304", ward.settle(LOCAL, stay, midway.output["setlinfo"], mid=True))
    keep("2305", ward.cancel_settlement(LOCAL, stay, paid.output["setlinfo"]["setl_id"]))
    keep("2402", ward.discharge(LOCAL, stay))
    keep("2405", ward.cancel_discharge(LOCAL, stay))
    ward.cancel_fees(LOCAL, stay, "0000")
    keep("2404", ward.cancel_admission(LOCAL, stay))
    keep("9002", desk.call("9002", {"signOut": {"sign_no": desk.sign_no, "opter_no": "K01"}}))

    assert set(answers) == set(HANDLERS)
    for infno, answer in answers.items():
        assert spec.validate_output(infno, wire(answer.output)) == [], infno
        response = {
            "infcode": 0,
            "inf_refmsgid": "530100202611230900000000000001",
            "refmsg_time": "20261123090000000",
            "respond_time": "20261123090000001",
            "err_msg": None,
            "warn_msg": answer.warn_msg,
            "output": wire(answer.output),
        }
        assert spec.validate_response(response, infno) == [], infno


def test_refusals_say_what_to_do_in_both_languages(desk: Desk) -> None:
    refusals = [
        (desk.cancel_fees(LOCAL, "3000000000000", "0000"), "business.visit_not_found"),
        (
            desk.cancel_settlement(LOCAL, "3000000000000", "4000000000000"),
            "business.visit_not_found",
        ),
        (
            desk.reverse(LOCAL, f"{desk.tenant}202611230000000001", "2204"),
            "business.not_reversible",
        ),
        (
            desk.call(
                "2404",
                {"data": {"mdtrt_id": "3000000000000", "psn_no": "P1"}},
                insuplc_admdvs="530100",
            ),
            "business.visit_not_found",
        ),
    ]
    for answer, error in refusals:
        assert answer.error == error
        assert answer.infcode == -1
        assert answer.output is None
        assert answer.state_changed is False
        zh, _, en = (answer.err_msg or "").partition(" / ")
        assert zh, answer.err_msg
        assert en, answer.err_msg
        assert not zh.isascii()
        assert en.isascii()
