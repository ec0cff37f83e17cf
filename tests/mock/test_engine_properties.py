"""Random sequences of register / upload / settle / refund (2208) / reverse (2601) / cancel for a
few persons, with the ledger's invariants checked after every step:

- account balance = opening balance − Σ acct_pay of the live settlements;
- year-to-date counters = Σ of the live settlements' deltas;
- every settled fee line belongs to a live settlement and every live settlement's lines are
  settled by it;
- 3201 with the ledger's own totals balances.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from nhsa.mock.engine import Engine
from nhsa.mock.engine._accounts import accumulators_from_json
from nhsa.mock.fixtures import bundled_fixtures
from nhsa.mock.settlement import Accumulators
from nhsa.mock.settlement import Settlement as Calculation
from nhsa.mock.store import (
    SETTLED,
    UNSETTLED,
    Balance,
    Settlement,
    SqliteStore,
    UploadedFeeLine,
    Visit,
    YearToDate,
)

from .conftest import CLASS_A_DRUG, CLASS_B_DRUG, CLASS_C_DRUG, CONSULTATION, CT_SCAN, Desk

PERSONS = {
    "P53010000000001": "310",  # local employee, account 1378.15
    "P53010000000002": "310",  # local retiree, account 3260.40
    "P44030000000009": "310",  # Shenzhen employee filed at Kunming, account 5230.75
    "P53010000000004": "390",  # local resident, no account
}
ITEMS = (CLASS_A_DRUG, CLASS_B_DRUG, CLASS_C_DRUG, CONSULTATION, CT_SCAN)
BILLS = st.lists(st.tuples(st.sampled_from(ITEMS), st.integers(1, 30)), min_size=1, max_size=4)
PRICES = {
    CLASS_A_DRUG: "10",
    CLASS_B_DRUG: "4.52",
    CLASS_C_DRUG: "35.5",
    CONSULTATION: "20",
    CT_SCAN: "120",
}


class Ledger(RuleBasedStateMachine):
    """The engine driven like a busy outpatient counter."""

    @initialize()
    def open_counter(self) -> None:
        self.store = SqliteStore(":memory:")
        self.desk = Desk(Engine(self.store, bundled_fixtures()), self.store)
        self.desk.sign_in()
        self.visits: list[tuple[str, str]] = []  # (psn_no, mdtrt_id)
        self.settled: list[tuple[str, str]] = []  # (psn_no, msgid of the 2207)
        self.refunds: list[tuple[str, str]] = []  # (psn_no, msgid of the 2208)
        self.batches = 0
        for psn_no in sorted(PERSONS):
            self.register(psn_no)

    def teardown(self) -> None:
        if hasattr(self, "store"):
            self.store.close()

    # -- operations ---------------------------------------------------------------------

    @rule(psn_no=st.sampled_from(sorted(PERSONS)))
    def register(self, psn_no: str) -> None:
        self.visits.append((psn_no, self.desk.open_visit(psn_no, PERSONS[psn_no])))

    @rule(data=st.data(), items=BILLS)
    def upload(self, data: st.DataObject, items: list[tuple[str, int]]) -> None:
        psn_no, mdtrt_id = data.draw(st.sampled_from(self.visits))
        self._upload(psn_no, mdtrt_id, items)

    @rule(data=st.data(), items=BILLS, use_account=st.booleans())
    def charge(self, data: st.DataObject, items: list[tuple[str, int]], use_account: bool) -> None:
        psn_no, mdtrt_id = data.draw(st.sampled_from(self.visits))
        self._upload(psn_no, mdtrt_id, items)
        self._settle(psn_no, mdtrt_id, use_account)

    def _upload(self, psn_no: str, mdtrt_id: str, items: list[tuple[str, int]]) -> None:
        self.batches += 1
        lines = self.desk.fee_lines(
            psn_no,
            mdtrt_id,
            [(code, PRICES[code], str(cnt)) for code, cnt in items],
            chrg_bchno=f"B{self.batches}",
            prefix=f"L{self.batches}-",
        )
        self.desk.upload(psn_no, lines)  # refused for a cancelled visit: fine

    @rule(data=st.data(), use_account=st.booleans())
    def settle(self, data: st.DataObject, use_account: bool) -> None:
        psn_no, mdtrt_id = data.draw(st.sampled_from(self.visits))
        self._settle(psn_no, mdtrt_id, use_account)

    def _settle(self, psn_no: str, mdtrt_id: str, use_account: bool) -> None:
        waiting = self._lines(mdtrt_id, UNSETTLED)
        if not waiting:
            return
        batch = waiting[0].chrg_bchno
        medfee = sum(
            (line.det_item_fee_sumamt for line in waiting if line.chrg_bchno == batch), Decimal(0)
        )
        kw: dict[str, Any] = {
            "insutype": PERSONS[psn_no],
            "chrg_bchno": batch,
            "acct_used_flag": "1" if use_account else "0",
        }
        pre = self.desk.presettle(psn_no, mdtrt_id, medfee, **kw)
        assert pre.infcode == 0, pre.err_msg
        msgid = self._next_msgid()
        answer = self.desk.settle(psn_no, mdtrt_id, pre.output["setlinfo"], **kw)
        assert answer.infcode == 0, answer.err_msg
        event("2207 settled")
        self.settled.append((psn_no, msgid))

    @precondition(lambda self: self.settled)
    @rule(data=st.data())
    def refund(self, data: st.DataObject) -> None:
        psn_no, msgid = data.draw(st.sampled_from(self.settled))
        row = self._settlement_of(msgid)
        msgid_2208 = self._next_msgid()
        answer = self.desk.cancel_settlement(psn_no, row.mdtrt_id, row.setl_id)
        assert (answer.infcode == 0) == row.is_live, answer.err_msg
        if answer.infcode == 0:
            event("2208 refunded")
            self.refunds.append((psn_no, msgid_2208))

    @precondition(lambda self: self.settled)
    @rule(data=st.data())
    def reverse_settlement(self, data: st.DataObject) -> None:
        psn_no, msgid = data.draw(st.sampled_from(self.settled))
        answer = self.desk.reverse(psn_no, msgid, "2207")
        assert answer.infcode == 0, answer.err_msg  # 2601 always closes the loop
        event(f"2601 of 2207: {answer.effects['outcome']}")

    @precondition(lambda self: self.refunds)
    @rule(data=st.data())
    def reverse_refund(self, data: st.DataObject) -> None:
        psn_no, msgid = data.draw(st.sampled_from(self.refunds))
        answer = self.desk.reverse(psn_no, msgid, "2208")  # refused if the visit moved on
        event(f"2601 of 2208: {answer.effects.get('outcome', 'refused')}")

    @rule(data=st.data())
    def cancel_fees(self, data: st.DataObject) -> None:
        psn_no, mdtrt_id = data.draw(st.sampled_from(self.visits))
        self.desk.cancel_fees(psn_no, mdtrt_id, "0000")

    @rule(data=st.data())
    def cancel_registration(self, data: st.DataObject) -> None:
        psn_no, mdtrt_id = data.draw(st.sampled_from(self.visits))
        with self.store.snapshot() as tx:
            visit = tx.get(Visit, self.desk.tenant, mdtrt_id)
        assert visit is not None
        self.desk.cancel_registration(psn_no, mdtrt_id, visit.ipt_otp_no)

    # -- invariants ---------------------------------------------------------------------

    @invariant()
    def balances_and_counters_follow_the_live_settlements(self) -> None:
        if not hasattr(self, "store"):
            return
        with self.store.snapshot() as tx:
            rows = tx.find(Settlement, tenant=self.desk.tenant)
            balances = {(b.psn_no, b.insutype): b.balance for b in tx.find(Balance)}
            counters = {
                (c.psn_no, c.year, c.insuplc_admdvs, c.benefit_id): accumulators_from_json(
                    c.counters
                )
                for c in tx.find(YearToDate)
            }
        live = [row for row in rows if row.is_live]
        paid: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        expected: dict[tuple[str, int, str, str], Accumulators] = defaultdict(Accumulators)
        for row in live:
            calculation = Calculation.from_record(row.calculation)
            paid[(row.psn_no, row.insutype)] += calculation.acct_pay
            key = (row.psn_no, row.year, row.insuplc_admdvs, calculation.benefit_id)
            expected[key] = expected[key] + calculation.delta
        for psn_no, insutype in PERSONS.items():
            record = self.desk.person(psn_no).record(insutype)
            assert record is not None
            balance = balances.get((psn_no, insutype), record.balc)
            assert balance == record.balc - paid[(psn_no, insutype)], psn_no
        for key in set(expected) | set(counters):
            assert counters.get(key, Accumulators()) == expected.get(key, Accumulators()), key

    @invariant()
    def fee_lines_agree_with_the_ledger(self) -> None:
        if not hasattr(self, "store"):
            return
        with self.store.snapshot() as tx:
            live = {row.setl_id: row for row in tx.find(Settlement) if row.is_live}
            lines = tx.find(UploadedFeeLine)
        settled = {line.line_id: line.setl_id for line in lines if line.status == SETTLED}
        assert set(settled.values()) <= set(live)
        for setl_id, row in live.items():
            assert all(settled.get(line_id) == setl_id for line_id in row.line_ids)

    @invariant()
    def reconciliation_with_the_ledgers_own_totals_balances(self) -> None:
        if not hasattr(self, "store"):
            return
        with self.store.snapshot() as tx:
            rows = tx.find(Settlement, tenant=self.desk.tenant)
        for insutype in ("310", "390"):
            mine = [r for r in rows if r.insutype == insutype and r.status == "active"]
            answer = self.desk.call(
                "3201",
                {
                    "data": {
                        "insutype": insutype,
                        "clr_type": "11",
                        "setl_optins": "530100",
                        "stmt_begndate": "2026-11-23",
                        "stmt_enddate": "2026-11-23",
                        "medfee_sumamt": sum((r.medfee_sumamt for r in mine), Decimal("0.00")),
                        "fund_pay_sumamt": sum((r.fund_pay_sumamt for r in mine), Decimal("0.00")),
                        "acct_pay": sum((r.acct_pay for r in mine), Decimal("0.00")),
                        "fixmedins_setl_cnt": len(mine),
                    }
                },
            )
            assert answer.output["stmtinfo"]["stmt_rslt"] == "0", answer.output

    # -- helpers ------------------------------------------------------------------------

    def _lines(self, mdtrt_id: str, status: str) -> list[UploadedFeeLine]:
        with self.store.snapshot() as tx:
            lines = tx.find(UploadedFeeLine, tenant=self.desk.tenant, mdtrt_id=mdtrt_id)
        return [line for line in lines if line.status == status]

    def _settlement_of(self, msgid: str) -> Settlement:
        with self.store.snapshot() as tx:
            [row] = tx.find(Settlement, tenant=self.desk.tenant, msgid=msgid)
        return row

    def _next_msgid(self) -> str:
        desk = self.desk
        return f"{desk.tenant}{desk.now:%Y%m%d%H%M%S}{(desk._sequence + 1) % 10000:04d}"


Ledger.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestLedger = Ledger.TestCase
