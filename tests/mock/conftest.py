"""Engine and store test helpers: a temporary SQLite store, the bundled fixtures, and a
:class:`Desk` that builds contract-valid envelopes and calls ``engine.handle`` the way the
server does (one store transaction per call).

Every successful answer a Desk receives is checked against the contract
(``nhsa.spec.validate_output`` of its wire form), so each happy-path test also proves its
outputs are valid.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from nhsa import spec
from nhsa.envelope import CHINA_TIME, dumps
from nhsa.mock.engine import Answer, Call, Engine, EngineOptions, PlatformServices
from nhsa.mock.fixtures import FixtureSet, InsuredPerson, bundled_fixtures
from nhsa.mock.store import PostgresStore, SqliteStore, Store
from tests.postgres import BACKENDS

KUNMING = "H53010100001"
"""昆明市测试第一人民医院: 530100, 三级, every service networked."""
WUHUA = "H53010200002"
"""五华区测试人民医院: 530102, 二级."""
PANLONG = "H53010300003"
"""盘龙区测试社区卫生服务中心: 530103, local outpatient only."""

START = datetime(2026, 11, 23, 9, 0, 0, tzinfo=CHINA_TIME)

CATALOGUE = frozenset(
    entry["id"]
    for entry in orjson.loads(
        (spec.contract().root / "errors.json").read_bytes()  # the error catalogue
    )["x-errors"]
)
"""Every error id of interface_specs/v1/errors.json: each refusal must name one."""

# Catalogue 530100 items used by the tests.
CLASS_A_DRUG = "XJ01CRA001A001010100001"  # 阿莫西林胶囊, 甲类
CLASS_B_DRUG = "XJ01DCC035A001010100002"  # 头孢呋辛酯片, 乙类 selfpay 0.05
CLASS_C_DRUG = "XA11CCA001A001010100007"  # 维生素D滴剂, 丙类
CONSULTATION = "110200001000000"  # 普通门诊诊察费, 甲类
CT_SCAN = "210300001000000"  # 头颅CT平扫, 乙类 selfpay 0.10
CAPPED_DRESSING = "C0311050300000000102"  # 医用藻酸盐敷料, 乙类, price cap 15.00


def wire(value: Any) -> Any:
    """A value as it travels: encoded by nhsa.envelope.dumps, parsed back as JSON."""
    return orjson.loads(dumps(value))


@dataclass
class Desk:
    """One institution's counter: builds envelopes, calls the engine, remembers sign-in."""

    engine: Engine
    store: SqliteStore
    tenant: str = KUNMING
    now: datetime = START
    sign_no: str | None = None
    check_outputs: bool = True
    _sequence: int = field(default=0, repr=False)
    envelopes: list[dict[str, Any]] = field(default_factory=list, repr=False)

    @property
    def fixtures(self) -> FixtureSet:
        with self.store.snapshot() as tx:
            return self.engine.fixtures_for(tx, self.tenant)

    @property
    def area(self) -> str:
        with self.store.snapshot() as tx:
            institution = self.engine.institution(tx, self.tenant)
        return institution.mdtrtarea_admvs if institution else "530100"

    def next_msgid(self) -> str:
        self._sequence += 1
        return f"{self.tenant}{self.now.strftime('%Y%m%d%H%M%S')}{self._sequence % 10000:04d}"

    def envelope(
        self, infno: str, node: Mapping[str, Any], *, insuplc_admdvs: str | None = None
    ) -> dict[str, Any]:
        return {
            "infno": infno,
            "msgid": self.next_msgid(),
            "mdtrtarea_admvs": self.area,
            "insuplc_admdvs": insuplc_admdvs,
            "recer_sys_code": "YBXT",
            "dev_no": None,
            "dev_safe_info": None,
            "cainfo": None,
            "signtype": None,
            "infver": "V1.0",
            "opter_type": "1",
            "opter": "K01",
            "opter_name": "收费员甲",
            "inf_time": self.now.strftime("%Y-%m-%d %H:%M:%S"),
            "fixmedins_code": self.tenant,
            "fixmedins_name": "测试医院",
            "sign_no": self.sign_no,
            "input": dict(node),
        }

    def send(self, envelope: Mapping[str, Any], *, at: datetime | None = None) -> Answer:
        """Hand one envelope to the engine in its own transaction, as the server does."""
        self.envelopes.append(dict(envelope))
        call = Call(
            self.tenant, str(envelope["infno"]), str(envelope["msgid"]), envelope, at or self.now
        )
        with self.store.transaction() as tx:
            answer = self.engine.handle(call, tx)
        if self.check_outputs and answer.infcode == 0 and answer.file is None:
            issues = spec.validate_output(call.infno, wire(answer.output))
            assert issues == [], f"{call.infno} output breaks the contract: {issues}"
        if answer.infcode != 0:
            assert answer.error in CATALOGUE, f"{answer.error!r} is not in errors.json"
        return answer

    def call(
        self,
        infno: str,
        node: Mapping[str, Any],
        *,
        insuplc_admdvs: str | None = None,
        at: datetime | None = None,
        **overrides: Any,
    ) -> Answer:
        envelope = self.envelope(infno, node, insuplc_admdvs=insuplc_admdvs)
        envelope.update(overrides)
        return self.send(envelope, at=at)

    # -- transactions, with realistic inputs ---------------------------------------------

    def sign_in(self, opter_no: str = "K01") -> str:
        answer = self.call(
            "9001", {"signIn": {"opter_no": opter_no, "mac": None, "ip": "10.0.0.8"}}
        )
        assert answer.infcode == 0, answer.err_msg
        self.sign_no = answer.output["signinoutb"]["sign_no"]
        return self.sign_no

    def person(self, psn_no: str) -> InsuredPerson:
        person = self.fixtures.person(psn_no)
        assert person is not None
        return person

    def area_of(self, psn_no: str, insutype: str) -> str:
        record = self.person(psn_no).record(insutype)
        assert record is not None
        return record.insuplc_admdvs

    def person_info(self, cert_type: str, cert_no: str, card_sn: str | None = None) -> Answer:
        data = {
            "mdtrt_cert_type": cert_type,
            "mdtrt_cert_no": cert_no,
            "card_sn": card_sn,
            "begntime": None,
            "psn_cert_type": "01",
            "certno": None,
            "psn_name": None,
        }
        return self.call("1101", {"data": data}, insuplc_admdvs=self.area)

    def register(
        self,
        psn_no: str,
        insutype: str = "310",
        *,
        ipt_otp_no: str | None = None,
        insuplc_admdvs: str | None = None,
    ) -> Answer:
        person = self.person(psn_no)
        data = {
            "psn_no": psn_no,
            "insutype": insutype,
            "begntime": self.now.strftime("%Y-%m-%d %H:%M:%S"),
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": person.certno,
            "ipt_otp_no": ipt_otp_no or f"MZ{self._sequence + 1:08d}",
            "atddr_no": "D0001",
            "dr_name": "医师丁",
            "dept_code": "0301",
            "dept_name": "内科门诊",
            "caty": "A03",
        }
        area = insuplc_admdvs or self.area_of(psn_no, insutype)
        return self.call("2201", {"data": data}, insuplc_admdvs=area)

    def visit_info(
        self, psn_no: str, mdtrt_id: str, med_type: str = "11", area: str = ""
    ) -> Answer:
        node = {
            "mdtrtinfo": {
                "mdtrt_id": mdtrt_id,
                "psn_no": psn_no,
                "med_type": med_type,
                "begntime": self.now.strftime("%Y-%m-%d %H:%M:%S"),
                "main_cond_dscr": "咳嗽三天",
                "dise_codg": None,
                "dise_name": None,
                "birctrl_type": None,
                "birctrl_matn_date": None,
            },
            "diseinfo": [
                {
                    "diag_type": "1",
                    "diag_srt_no": 1,
                    "diag_code": "J06.900",
                    "diag_name": "急性上呼吸道感染",
                    "diag_dept": "内科门诊",
                    "dise_dor_no": "D0001",
                    "dise_dor_name": "医师丁",
                    "diag_time": self.now.strftime("%Y-%m-%d %H:%M:%S"),
                    "vali_flag": "1",
                }
            ],
        }
        return self.call("2203", node, insuplc_admdvs=area or self._visit_area(psn_no))

    def fee_lines(
        self,
        psn_no: str,
        mdtrt_id: str,
        items: Sequence[tuple[str, str, str]],
        *,
        chrg_bchno: str = "B1",
        prefix: str = "F",
        dise_codg: str | None = None,
    ) -> list[dict[str, Any]]:
        lines = []
        for index, (code, pric, cnt) in enumerate(items, start=1):
            total = (Decimal(pric) * Decimal(cnt)).quantize(Decimal("0.01"))
            lines.append(
                {
                    "feedetl_sn": f"{prefix}{index:03d}",
                    "mdtrt_id": mdtrt_id,
                    "psn_no": psn_no,
                    "chrg_bchno": chrg_bchno,
                    "dise_codg": dise_codg,
                    "rxno": None,
                    "rx_circ_flag": "0",
                    "fee_ocur_time": self.now.strftime("%Y-%m-%d %H:%M:%S"),
                    "med_list_codg": code,
                    "medins_list_codg": f"HIS-{code[:8]}",
                    "det_item_fee_sumamt": total,
                    "cnt": Decimal(cnt),
                    "pric": Decimal(pric),
                    "bilg_dept_codg": "0301",
                    "bilg_dept_name": "内科门诊",
                    "bilg_dr_codg": "D0001",
                    "bilg_dr_name": "医师丁",
                    "hosp_appr_flag": "0",
                }
            )
        return lines

    def upload(self, psn_no: str, lines: list[dict[str, Any]]) -> Answer:
        return self.call("2204", {"feedetail": lines}, insuplc_admdvs=self._visit_area(psn_no))

    def cancel_fees(self, psn_no: str, mdtrt_id: str, chrg_bchno: str) -> Answer:
        data = {"mdtrt_id": mdtrt_id, "chrg_bchno": chrg_bchno, "psn_no": psn_no}
        return self.call("2205", {"data": data}, insuplc_admdvs=self._visit_area(psn_no))

    def settlement_data(
        self,
        psn_no: str,
        mdtrt_id: str,
        medfee_sumamt: Decimal,
        *,
        insutype: str = "310",
        med_type: str = "11",
        chrg_bchno: str = "B1",
        acct_used_flag: str = "1",
    ) -> dict[str, Any]:
        return {
            "psn_no": psn_no,
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": self.person(psn_no).certno,
            "med_type": med_type,
            "medfee_sumamt": medfee_sumamt,
            "psn_setlway": "01",
            "mdtrt_id": mdtrt_id,
            "chrg_bchno": chrg_bchno,
            "acct_used_flag": acct_used_flag,
            "insutype": insutype,
        }

    def presettle(self, psn_no: str, mdtrt_id: str, medfee: Decimal, **kw: Any) -> Answer:
        data = self.settlement_data(psn_no, mdtrt_id, medfee, **kw)
        return self.call("2206", {"data": data}, insuplc_admdvs=self._visit_area(psn_no))

    def settle(self, psn_no: str, mdtrt_id: str, pre: Mapping[str, Any], **kw: Any) -> Answer:
        """2207 echoing the pre-settlement's amounts (``pre`` is its setlinfo)."""
        data = self.settlement_data(psn_no, mdtrt_id, pre["medfee_sumamt"], **kw)
        for name in ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt"):
            data[name] = pre[name]
        data["invono"] = None
        return self.call("2207", {"data": data}, insuplc_admdvs=self._visit_area(psn_no))

    def cancel_settlement(self, psn_no: str, mdtrt_id: str, setl_id: str) -> Answer:
        data = {"setl_id": setl_id, "mdtrt_id": mdtrt_id, "psn_no": psn_no}
        return self.call("2208", {"data": data}, insuplc_admdvs=self._visit_area(psn_no))

    def reverse(self, psn_no: str, omsgid: str, oinfno: str) -> Answer:
        data = {"psn_no": psn_no, "omsgid": omsgid, "oinfno": oinfno}
        return self.call("2601", {"data": data}, insuplc_admdvs=self._visit_area(psn_no))

    def cancel_registration(self, psn_no: str, mdtrt_id: str, ipt_otp_no: str) -> Answer:
        data = {"psn_no": psn_no, "mdtrt_id": mdtrt_id, "ipt_otp_no": ipt_otp_no}
        return self.call("2202", {"data": data}, insuplc_admdvs=self._visit_area(psn_no))

    def query_settlement(self, psn_no: str, mdtrt_id: str, setl_id: str) -> Answer:
        data = {"psn_no": psn_no, "setl_id": setl_id, "mdtrt_id": mdtrt_id}
        return self.call("5203", {"data": data}, insuplc_admdvs=self._visit_area(psn_no))

    def upload_file(self, content: bytes, filename: str = "detail.zip") -> Answer:
        node = {
            "fsUploadIn": {
                "in": base64.b64encode(content).decode("ascii"),
                "filename": filename,
                "fixmedins_code": self.tenant,
            }
        }
        return self.call("9101", node)

    def download_file(self, file_qury_no: str, filename: str = "result.zip") -> Answer:
        node = {
            "fsDownloadIn": {
                "file_qury_no": file_qury_no,
                "filename": filename,
                "fixmedins_code": self.tenant,
            }
        }
        return self.call("9102", node)

    def _visit_area(self, psn_no: str) -> str:
        person = self.person(psn_no)
        return person.insurance[0].insuplc_admdvs

    # -- whole workflows -----------------------------------------------------------------

    def open_visit(self, psn_no: str, insutype: str = "310", med_type: str = "11") -> str:
        registered = self.register(psn_no, insutype)
        assert registered.infcode == 0, registered.err_msg
        mdtrt_id: str = registered.output["data"]["mdtrt_id"]
        info = self.visit_info(psn_no, mdtrt_id, med_type)
        assert info.infcode == 0, info.err_msg
        return mdtrt_id

    def charge(
        self,
        psn_no: str,
        items: Sequence[tuple[str, str, str]],
        *,
        insutype: str = "310",
        med_type: str = "11",
        acct_used_flag: str = "1",
        mdtrt_id: str | None = None,
        chrg_bchno: str = "B1",
        prefix: str = "F",
    ) -> Charge:
        """Register (unless a visit is given), upload info and fees, pre-settle and settle."""
        if mdtrt_id is None:
            mdtrt_id = self.open_visit(psn_no, insutype, med_type)
        lines = self.fee_lines(psn_no, mdtrt_id, items, chrg_bchno=chrg_bchno, prefix=prefix)
        uploaded = self.upload(psn_no, lines)
        assert uploaded.infcode == 0, uploaded.err_msg
        medfee = sum((Decimal(str(line["det_item_fee_sumamt"])) for line in lines), Decimal(0))
        kw = {
            "insutype": insutype,
            "med_type": med_type,
            "chrg_bchno": chrg_bchno,
            "acct_used_flag": acct_used_flag,
        }
        pre = self.presettle(psn_no, mdtrt_id, medfee, **kw)
        assert pre.infcode == 0, pre.err_msg
        msgid = self.next_msgid()
        self._sequence -= 1  # settle() takes the same msgid: remember it for 2601 tests
        settled = self.settle(psn_no, mdtrt_id, pre.output["setlinfo"], **kw)
        assert settled.infcode == 0, settled.err_msg
        return Charge(mdtrt_id, settled.output["setlinfo"]["setl_id"], msgid, pre, settled)


@dataclass(frozen=True)
class Charge:
    mdtrt_id: str
    setl_id: str
    msgid: str
    presettlement: Answer
    settlement: Answer

    @property
    def setlinfo(self) -> Mapping[str, Any]:
        return self.settlement.output["setlinfo"]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    with SqliteStore(tmp_path / "mock.db") as opened:
        yield opened


@pytest.fixture(params=BACKENDS)
def either_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A new store on SQLite, then on PostgreSQL (a schema of its own)."""
    if request.param == "sqlite":
        with SqliteStore(tmp_path / "mock.db") as opened:
            yield opened
    else:
        with PostgresStore(request.getfixturevalue("postgres_url")) as shared:
            yield shared


@pytest.fixture
def engine(store: SqliteStore) -> Engine:
    return Engine(store, bundled_fixtures(), clock=lambda: START, options=EngineOptions())


@pytest.fixture
def services(engine: Engine) -> PlatformServices:
    return PlatformServices(engine)


@pytest.fixture
def desk(engine: Engine, store: SqliteStore) -> Desk:
    counter = Desk(engine, store)
    counter.sign_in()
    return counter


def later(moment: datetime, **delta: float) -> datetime:
    return moment + timedelta(**delta)
