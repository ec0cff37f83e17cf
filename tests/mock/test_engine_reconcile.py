"""3201/3202 reconciliation against the ledger (refunds as rows of their own, counted as the
request's refd_setl_flag switch says), 9101/9102 files."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from nhsa.envelope import DetailRow, read_result_file, write_detail_file
from nhsa.mock.store import Settlement

from .conftest import CLASS_A_DRUG, CONSULTATION, START, Desk

D = Decimal
LOCAL, OTHER = "P53010000000001", "P53010000000002"


@pytest.fixture
def day(desk: Desk) -> list[Settlement]:
    """Three settlements on 2026-11-23, the second refunded: four ledger rows."""
    first = desk.charge(LOCAL, [(CLASS_A_DRUG, "10", "2")])
    second = desk.charge(OTHER, [(CONSULTATION, "20", "1")])
    desk.charge(LOCAL, [(CLASS_A_DRUG, "10", "3")], prefix="S")
    assert desk.cancel_settlement(OTHER, second.mdtrt_id, second.setl_id).infcode == 0
    assert first.setl_id
    with desk.store.snapshot() as tx:
        return tx.find(Settlement, tenant=desk.tenant)


def _totals(desk: Desk, rows: list[Settlement], **overrides: Any) -> Any:
    data = {
        "insutype": "310",
        "clr_type": "11",
        "setl_optins": "530100",
        "stmt_begndate": "2026-11-23",
        "stmt_enddate": "2026-11-23",
        "medfee_sumamt": sum((r.medfee_sumamt for r in rows), D("0.00")),
        "fund_pay_sumamt": sum((r.fund_pay_sumamt for r in rows), D("0.00")),
        "acct_pay": sum((r.acct_pay for r in rows), D("0.00")),
        "fixmedins_setl_cnt": len(rows),
        "refd_setl_flag": None,
    }
    data.update(overrides)
    return desk.call("3201", {"data": data})


def test_totals_count_refunds_as_the_switch_says(desk: Desk, day: list[Settlement]) -> None:
    assert [row.refd_setl_flag for row in day] == ["0", "0", "0", "1"]
    first, _, third, _ = day
    for flag in (None, "1"):  # model B, the default: every row, the refund's too
        answer = _totals(desk, day, refd_setl_flag=flag)
        assert answer.infcode == 0
        info = answer.output["stmtinfo"]
        assert info["stmt_rslt"] == "0", flag
        assert info["stmt_rslt_dscr"] == "对平/balanced: 4 笔, medfee_sumamt 50.00"
    # model A: the settlements that stand; the refunded one and its refund both drop out
    standing = _totals(desk, [first, third], refd_setl_flag="0").output["stmtinfo"]
    assert standing["stmt_rslt"] == "0"
    assert standing["stmt_rslt_dscr"] == "对平/balanced: 2 笔, medfee_sumamt 50.00"
    # the switch is not a row filter: "1" is not "refund rows only"
    only_refunds = _totals(desk, day[3:], refd_setl_flag="1").output["stmtinfo"]
    assert only_refunds["stmt_rslt"] == "1"


def test_a_settlement_reversed_by_2601_is_counted_by_no_model(
    desk: Desk, day: list[Settlement]
) -> None:
    lost = desk.charge(LOCAL, [(CLASS_A_DRUG, "10", "1")], prefix="L")
    assert desk.reverse(LOCAL, lost.msgid, "2207").infcode == 0
    first, _, third, _ = day
    for flag, rows in ((None, day), ("0", [first, third])):
        answer = _totals(desk, rows, refd_setl_flag=flag).output["stmtinfo"]
        assert answer["stmt_rslt"] == "0", (flag, answer["stmt_rslt_dscr"])


def test_totals_that_differ_say_which_and_by_how_much(desk: Desk, day: list[Settlement]) -> None:
    missing_refund = _totals(desk, day[:3]).output["stmtinfo"]
    assert missing_refund["stmt_rslt"] == "1"  # the platform has more
    assert "fixmedins_setl_cnt 中心4 医院3 差1" in missing_refund["stmt_rslt_dscr"]
    assert "medfee_sumamt 中心50.00 医院70.00 差-20.00" in missing_refund["stmt_rslt_dscr"]
    extra = _totals(desk, day, fixmedins_setl_cnt=5).output["stmtinfo"]
    assert extra["stmt_rslt"] == "2"  # the hospital reports more
    amounts = _totals(desk, day, acct_pay=D("1.00")).output["stmtinfo"]
    assert amounts["stmt_rslt"] == "3"
    assert amounts["stmt_rslt_dscr"].startswith("不平/unbalanced: acct_pay 中心")
    assert len(amounts["stmt_rslt_dscr"]) <= 200


def test_totals_filter_by_insutype_agency_and_dates(desk: Desk, day: list[Settlement]) -> None:
    none = {
        "medfee_sumamt": D("0.00"),
        "fund_pay_sumamt": D("0.00"),
        "acct_pay": D("0.00"),
        "fixmedins_setl_cnt": 0,
        "clr_type": "11",
        "refd_setl_flag": "0",
    }
    for overrides in (
        {"insutype": "390"},
        {"setl_optins": "530102"},
        {"stmt_begndate": "2026-11-24", "stmt_enddate": "2026-11-30"},
    ):
        answer = _totals(desk, day, **none, **overrides)
        assert answer.output["stmtinfo"]["stmt_rslt"] == "0", overrides
    backwards = _totals(desk, day, stmt_begndate="2026-11-24")
    assert "stmt_enddate=2026-11-23 早于 stmt_begndate=2026-11-24" in (backwards.err_msg or "")


def _detail(row: Settlement, **changes: Any) -> DetailRow:
    values = {
        "setl_id": row.setl_id,
        "mdtrt_id": row.mdtrt_id,
        "psn_no": row.psn_no,
        "medfee_sumamt": row.medfee_sumamt,
        "fund_pay_sumamt": row.fund_pay_sumamt,
        "acct_pay": row.acct_pay,
        "refd_setl_flag": row.refd_setl_flag,
    }
    values.update(changes)
    return DetailRow(**values)


def _details(desk: Desk, rows: list[DetailRow], **overrides: Any) -> Any:
    uploaded = desk.upload_file(write_detail_file(rows))
    assert uploaded.infcode == 0, uploaded.err_msg
    data = {
        "setl_optins": "530100",
        "file_qury_no": uploaded.output["file_qury_no"],
        "stmt_begndate": "2026-11-23",
        "stmt_enddate": "2026-11-23",
        "medfee_sumamt": sum((r.medfee_sumamt for r in rows), D("0.00")),
        "fund_pay_sumamt": sum((r.fund_pay_sumamt for r in rows), D("0.00")),
        "cash_payamt": D("0.00"),
        "fixmedins_setl_cnt": len(rows),
        "clr_type": "11",
        "refd_setl_flag": "1",
    }
    data.update(overrides)
    return desk.call("3202", {"data": data})


def test_detail_reconciliation_finds_both_kinds_of_missing_rows(
    desk: Desk, day: list[Settlement]
) -> None:
    first, second, third, refund = day
    invented = DetailRow(
        "4999999999999", "3999999999999", LOCAL, D("8.00"), D("0.00"), D("8.00"), "0"
    )
    his = [_detail(first), _detail(second), _detail(third, acct_pay=D("0.00")), invented]
    # the refund row is missing at the hospital; an invented row is missing at the platform
    answer = _details(desk, his)
    assert answer.infcode == 0, answer.err_msg
    fileinfo = answer.output["fileinfo"]
    assert fileinfo["dld_endtime"] == "2026-11-24 09:00:00"
    download = desk.download_file(fileinfo["file_qury_no"], fileinfo["filename"])
    assert download.infcode == 0
    assert download.output == {}
    assert download.file is not None
    results = {row.setl_id: row for row in read_result_file(download.file)}
    assert results[first.setl_id].stmt_rslt == "0"
    assert results[first.setl_id].msgid == first.msgid
    assert results[third.setl_id].stmt_rslt == "3"
    assert "acct_pay 中心30.00 医院0.00" in results[third.setl_id].memo
    assert results[refund.setl_id].stmt_rslt == "1"
    assert results[refund.setl_id].refd_setl_flag == "1"
    assert results[refund.setl_id].medfee_sumamt == D("-20.00")
    assert results["4999999999999"].stmt_rslt == "2"
    assert results["4999999999999"].msgid == ""
    assert answer.effects["unbalanced"] == "3"


def test_detail_reconciliation_compares_the_rows_the_switch_counts(
    desk: Desk, day: list[Settlement]
) -> None:
    first, second, third, _ = day
    standing = _details(desk, [_detail(first), _detail(third)], refd_setl_flag="0")
    assert standing.effects["unbalanced"] == "0"
    assert standing.effects["rows"] == "2"
    refunded_too = _details(desk, [_detail(r) for r in (first, second, third)], refd_setl_flag="0")
    assert refunded_too.effects["unbalanced"] == "1"  # the refunded one is not counted in A


def test_detail_reconciliation_refuses_bad_files(desk: Desk, day: list[Settlement]) -> None:
    rows = [_detail(row) for row in day]
    wrong_count = _details(desk, rows, fixmedins_setl_cnt=9)
    assert "fixmedins_setl_cnt 请求 9，文件合计 4" in (wrong_count.err_msg or "")
    not_zip = desk.upload_file(b"setl_id\tmdtrt_id\n")
    request = {
        "setl_optins": "530100",
        "file_qury_no": not_zip.output["file_qury_no"],
        "stmt_begndate": "2026-11-23",
        "stmt_enddate": "2026-11-23",
        "medfee_sumamt": D("0"),
        "fund_pay_sumamt": D("0"),
        "cash_payamt": D("0"),
        "fixmedins_setl_cnt": 0,
        "clr_type": "11",
        "refd_setl_flag": "0",
    }
    refused = desk.call("3202", {"data": request})
    assert "not a ZIP archive" in (refused.err_msg or "")
    unknown = desk.call("3202", {"data": {**request, "file_qury_no": "5999999999999"}})
    assert "file_qury_no=5999999999999 不是本机构上传(9101)的文件" in (unknown.err_msg or "")


def test_file_transfer_rules(desk: Desk) -> None:
    uploaded = desk.upload_file(b"PK\x05\x06" + bytes(18), "empty.zip")
    assert uploaded.infcode == 0
    assert uploaded.output["filename"] == "empty.zip"
    file_qury_no = uploaded.output["file_qury_no"]
    got = desk.download_file(file_qury_no)
    assert got.file == b"PK\x05\x06" + bytes(18)
    desk.now = START + timedelta(days=1, seconds=1)
    desk.sign_in()
    expired = desk.download_file(file_qury_no)
    assert "已过下载截止时间 2026-11-24 09:00:00" in (expired.err_msg or "")
    missing = desk.download_file("5000000000000")
    assert "file_qury_no=5000000000000 不存在" in (missing.err_msg or "")
    other = desk.call(
        "9101",
        {"fsUploadIn": {"in": "AAAA", "filename": "x.zip", "fixmedins_code": "H53010200002"}},
    )
    assert "fixmedins_code=H53010200002 与报文机构" in (other.err_msg or "")
    garbled = desk.call(
        "9101", {"fsUploadIn": {"in": "AAAAA", "filename": "x.zip", "fixmedins_code": desk.tenant}}
    )
    assert "不是合法的 Base64" in (garbled.err_msg or "")
