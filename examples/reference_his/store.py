"""The reference HIS's own database: visits, stays, settlements, the chronic-disease
registrations it made and its configuration (SQLite).

A HIS keeps its own record of what it registered and settled — the platform's ids mapped to
its visits — beside the SDK's journal (which records every message before it is sent). This
store is that record: a :class:`~nhsa.conformance.drivers.VisitBook` in SQLite (WAL, one
transaction per write), so the service can be killed and restarted without forgetting a
settlement. The configuration the suite last sent is kept too (file mode 0600: it holds the
institution's private key and gateway token), so a restarted HIS resumes as the same
institution and runs ``client.recover()`` at once.

Example:
    >>> store = HisStore(":memory:")
    >>> store.registrations("H53010112345"), store.configuration()
    ([], None)
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from nhsa.client import (
    Certificate,
    Charge,
    ChronicDisease,
    ChronicRegistration,
    Clinic,
    FeeLine,
    Registration,
    SettlementTotals,
    Stay,
    StaySettlement,
    Ward,
)
from nhsa.conformance import HisConfiguration, ModeConfig, SigningConfig

__all__ = ["HisStore"]

_PRIVATE: Final = 0o600
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS visits (
    tenant TEXT NOT NULL, mdtrt_id TEXT NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (tenant, mdtrt_id));
CREATE TABLE IF NOT EXISTS settlements (
    tenant TEXT NOT NULL, setl_id TEXT NOT NULL, mdtrt_id TEXT NOT NULL, data TEXT NOT NULL,
    live INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (tenant, setl_id));
CREATE TABLE IF NOT EXISTS configuration (
    id INTEGER PRIMARY KEY CHECK (id = 1), data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chronic_registrations (
    tenant TEXT NOT NULL, trt_dcla_detl_sn TEXT NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (tenant, trt_dcla_detl_sn));
CREATE TABLE IF NOT EXISTS stays (
    tenant TEXT NOT NULL, mdtrt_id TEXT NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (tenant, mdtrt_id));
CREATE TABLE IF NOT EXISTS stay_fees (
    tenant TEXT NOT NULL, mdtrt_id TEXT NOT NULL, feedetl_sn TEXT NOT NULL, data TEXT NOT NULL,
    setl_id TEXT, PRIMARY KEY (tenant, mdtrt_id, feedetl_sn));
CREATE TABLE IF NOT EXISTS stay_settlements (
    tenant TEXT NOT NULL, setl_id TEXT NOT NULL, mdtrt_id TEXT NOT NULL, data TEXT NOT NULL,
    live INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (tenant, setl_id));
"""


class HisStore:
    """Visits, settlements and the configuration, in one SQLite file.

    Args:
        path: the database file (created if missing), or ``":memory:"``.
    """

    def __init__(self, path: str | Path) -> None:
        """Open (and create) the database."""
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).touch(mode=_PRIVATE, exist_ok=True)
            os.chmod(self.path, _PRIVATE)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    # -- the configuration ----------------------------------------------------------------------

    def save_configuration(self, config: HisConfiguration) -> None:
        """Keep the configuration in force (it survives a restart)."""
        self._write(
            "INSERT OR REPLACE INTO configuration (id, data) VALUES (1, ?)",
            (json.dumps(asdict(config), ensure_ascii=False),),
        )

    def configuration(self) -> HisConfiguration | None:
        """The configuration last saved, or ``None``."""
        rows = self._read("SELECT data FROM configuration WHERE id = 1", ())
        if not rows:
            return None
        data = json.loads(rows[0][0])
        return HisConfiguration(
            **{
                **data,
                "mode": ModeConfig(**data["mode"]),
                "signing": SigningConfig(**data["signing"]),
            }
        )

    # -- the VisitBook protocol -----------------------------------------------------------------

    def add_registration(self, tenant: str, registration: Registration) -> None:
        """Remember a registered visit."""
        self._write(
            "INSERT OR REPLACE INTO visits (tenant, mdtrt_id, data) VALUES (?, ?, ?)",
            (tenant, registration.mdtrt_id, _dumps(_registration_data(registration))),
        )

    def registration(self, tenant: str, mdtrt_id: str) -> Registration | None:
        """The visit, or ``None``."""
        rows = self._read(
            "SELECT data FROM visits WHERE tenant = ? AND mdtrt_id = ?", (tenant, mdtrt_id)
        )
        return _registration(json.loads(rows[0][0])) if rows else None

    def registrations(self, tenant: str) -> list[Registration]:
        """Every visit of the institution, in the order registered."""
        rows = self._read("SELECT data FROM visits WHERE tenant = ? ORDER BY rowid", (tenant,))
        return [_registration(json.loads(row[0])) for row in rows]

    def add_charge(self, tenant: str, charge: Charge) -> None:
        """Remember a standing settlement."""
        self._write(
            "INSERT OR REPLACE INTO settlements (tenant, setl_id, mdtrt_id, data, live)"
            " VALUES (?, ?, ?, ?, 1)",
            (tenant, charge.setl_id, charge.registration.mdtrt_id, _dumps(_charge_data(charge))),
        )

    def charge(self, tenant: str, setl_id: str) -> Charge | None:
        """The settlement (standing or refunded), or ``None``."""
        rows = self._read(
            "SELECT data FROM settlements WHERE tenant = ? AND setl_id = ?", (tenant, setl_id)
        )
        return self._charge(tenant, json.loads(rows[0][0])) if rows else None

    def close_charge(self, tenant: str, setl_id: str) -> None:
        """Mark the settlement refunded."""
        self._write(
            "UPDATE settlements SET live = 0 WHERE tenant = ? AND setl_id = ?", (tenant, setl_id)
        )

    def live_charges(self, tenant: str, mdtrt_id: str) -> list[Charge]:
        """The visit's standing settlements."""
        rows = self._read(
            "SELECT data FROM settlements WHERE tenant = ? AND mdtrt_id = ? AND live = 1"
            " ORDER BY rowid",
            (tenant, mdtrt_id),
        )
        return [self._charge(tenant, json.loads(row[0])) for row in rows]

    def add_chronic(self, tenant: str, registration: ChronicRegistration) -> None:
        """Remember a chronic-disease registration this HIS made (2503)."""
        self._write(
            "INSERT OR REPLACE INTO chronic_registrations (tenant, trt_dcla_detl_sn, data)"
            " VALUES (?, ?, ?)",
            (tenant, registration.trt_dcla_detl_sn, _dumps(_chronic_data(registration))),
        )

    def chronic(self, tenant: str, trt_dcla_detl_sn: str) -> ChronicRegistration | None:
        """The registration, or ``None`` when this HIS did not make it (or cancelled it)."""
        rows = self._read(
            "SELECT data FROM chronic_registrations WHERE tenant = ? AND trt_dcla_detl_sn = ?",
            (tenant, trt_dcla_detl_sn),
        )
        return _chronic(json.loads(rows[0][0])) if rows else None

    def forget_chronic(self, tenant: str, trt_dcla_detl_sn: str) -> None:
        """Drop a registration that was cancelled (2504)."""
        self._write(
            "DELETE FROM chronic_registrations WHERE tenant = ? AND trt_dcla_detl_sn = ?",
            (tenant, trt_dcla_detl_sn),
        )

    # -- stays ------------------------------------------------------------------------------------

    def add_stay(self, tenant: str, stay: Stay) -> None:
        """Remember a stay, or its new state (discharged, admitted again)."""
        self._write(
            "INSERT OR REPLACE INTO stays (tenant, mdtrt_id, data) VALUES (?, ?, ?)",
            (tenant, stay.mdtrt_id, _dumps(_stay_data(stay))),
        )

    def stay(self, tenant: str, mdtrt_id: str) -> Stay | None:
        """The stay, or ``None``."""
        rows = self._read(
            "SELECT data FROM stays WHERE tenant = ? AND mdtrt_id = ?", (tenant, mdtrt_id)
        )
        return _stay(json.loads(rows[0][0])) if rows else None

    def stays(self, tenant: str) -> list[Stay]:
        """Every stay of the institution, in the order admitted."""
        rows = self._read("SELECT data FROM stays WHERE tenant = ? ORDER BY rowid", (tenant,))
        return [_stay(json.loads(row[0])) for row in rows]

    def add_stay_fees(self, tenant: str, mdtrt_id: str, lines: Sequence[FeeLine]) -> None:
        """Remember accepted fee lines of the stay."""
        with self._lock:
            self._db.executemany(
                "INSERT INTO stay_fees (tenant, mdtrt_id, feedetl_sn, data) VALUES (?, ?, ?, ?)",
                [(tenant, mdtrt_id, line.feedetl_sn, _dumps(_line_data(line))) for line in lines],
            )

    def stay_fees(self, tenant: str, mdtrt_id: str) -> list[tuple[FeeLine, str | None]]:
        """The stay's fee lines with the settlement that settled each."""
        rows = self._read(
            "SELECT data, setl_id FROM stay_fees WHERE tenant = ? AND mdtrt_id = ? ORDER BY rowid",
            (tenant, mdtrt_id),
        )
        return [(_line(json.loads(data)), setl_id) for data, setl_id in rows]

    def drop_stay_fees(self, tenant: str, mdtrt_id: str) -> None:
        """Forget the stay's open fee lines."""
        self._write(
            "DELETE FROM stay_fees WHERE tenant = ? AND mdtrt_id = ? AND setl_id IS NULL",
            (tenant, mdtrt_id),
        )

    def add_stay_settlement(
        self, tenant: str, settlement: StaySettlement, serials: Sequence[str]
    ) -> None:
        """Remember a standing stay settlement; its lines are settled by it (one transaction)."""
        mdtrt_id = settlement.stay.mdtrt_id
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT OR REPLACE INTO stay_settlements (tenant, setl_id, mdtrt_id, data, live)"
                " VALUES (?, ?, ?, ?, 1)",
                (tenant, settlement.setl_id, mdtrt_id, _dumps(_stay_settlement_data(settlement))),
            )
            self._db.executemany(
                "UPDATE stay_fees SET setl_id = ? WHERE tenant = ? AND mdtrt_id = ?"
                " AND feedetl_sn = ?",
                [(settlement.setl_id, tenant, mdtrt_id, serial) for serial in serials],
            )
            self._db.execute("COMMIT")

    def stay_settlement(self, tenant: str, setl_id: str) -> StaySettlement | None:
        """The stay settlement (standing or cancelled), or ``None``."""
        rows = self._read(
            "SELECT data FROM stay_settlements WHERE tenant = ? AND setl_id = ?", (tenant, setl_id)
        )
        return self._stay_settlement(tenant, json.loads(rows[0][0])) if rows else None

    def close_stay_settlement(self, tenant: str, setl_id: str) -> None:
        """Mark the stay settlement cancelled; its lines are open again (one transaction)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "UPDATE stay_settlements SET live = 0 WHERE tenant = ? AND setl_id = ?",
                (tenant, setl_id),
            )
            self._db.execute(
                "UPDATE stay_fees SET setl_id = NULL WHERE tenant = ? AND setl_id = ?",
                (tenant, setl_id),
            )
            self._db.execute("COMMIT")

    def live_stay_settlements(self, tenant: str, mdtrt_id: str) -> list[StaySettlement]:
        """The stay's standing settlements, in the order settled."""
        rows = self._read(
            "SELECT data FROM stay_settlements WHERE tenant = ? AND mdtrt_id = ? AND live = 1"
            " ORDER BY rowid",
            (tenant, mdtrt_id),
        )
        return [self._stay_settlement(tenant, json.loads(row[0])) for row in rows]

    # -- plumbing -------------------------------------------------------------------------------

    def _stay_settlement(self, tenant: str, data: dict[str, Any]) -> StaySettlement:
        stay = self.stay(tenant, data["mdtrt_id"])
        if stay is None:  # written together; a missing stay means a damaged file
            raise LookupError(f"settlement {data['setl_id']}: stay {data['mdtrt_id']} missing")
        return _stay_settlement(stay, data)

    def _charge(self, tenant: str, data: dict[str, Any]) -> Charge:
        registration = self.registration(tenant, data["mdtrt_id"])
        if registration is None:  # written together; a missing visit means a damaged file
            raise LookupError(f"settlement {data['setl_id']}: visit {data['mdtrt_id']} missing")
        return _charge(registration, data)

    def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        with self._lock:
            self._db.execute(sql, params)

    def _read(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()


def _text(amount: Decimal | None) -> str | None:
    # The SDK leaves an amount the platform did not answer as None; keep it that way.
    return None if amount is None else str(amount)


def _amount(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, default=str)


def _registration_data(r: Registration) -> dict[str, Any]:
    return {
        "psn_no": r.psn_no,
        "psn_name": r.psn_name,
        "mdtrt_id": r.mdtrt_id,
        "ipt_otp_no": r.ipt_otp_no,
        "insutype": r.insutype,
        "insuplc_admdvs": r.insuplc_admdvs,
        "certificate": [
            r.certificate.mdtrt_cert_type,
            r.certificate.mdtrt_cert_no,
            r.certificate.card_sn,
        ],
        "clinic": asdict(r.clinic),
        "begntime": r.begntime.isoformat(),
        "balc": _text(r.balc),
        "msgid": r.msgid,
    }


def _registration(d: dict[str, Any]) -> Registration:
    cert_type, cert_no, card_sn = d["certificate"]
    return Registration(
        psn_no=d["psn_no"],
        psn_name=d["psn_name"],
        mdtrt_id=d["mdtrt_id"],
        ipt_otp_no=d["ipt_otp_no"],
        insutype=d["insutype"],
        insuplc_admdvs=d["insuplc_admdvs"],
        certificate=Certificate(cert_type, cert_no, card_sn),
        clinic=Clinic(**d["clinic"]),
        begntime=datetime.fromisoformat(d["begntime"]),
        balc=_amount(d["balc"]),
        msgid=d["msgid"],
    )


def _charge_data(c: Charge) -> dict[str, Any]:
    return {
        "mdtrt_id": c.registration.mdtrt_id,
        "setl_id": c.setl_id,
        "chrg_bchno": c.chrg_bchno,
        "msgid": c.msgid,
        "med_type": c.med_type,
        "psn_setlway": c.psn_setlway,
        "acct_used_flag": c.acct_used_flag,
        "lines": [_line_data(line) for line in c.lines],
        "pre_settlement": {k: _text(v) for k, v in asdict(c.pre_settlement).items()},
        "totals": {k: _text(v) for k, v in asdict(c.totals).items()},
        "chronic": [c.chronic.code, c.chronic.name] if c.chronic else None,
    }


def _charge(registration: Registration, d: dict[str, Any]) -> Charge:
    lines = tuple(_line(line) for line in d["lines"])
    return Charge(
        registration=registration,
        chrg_bchno=d["chrg_bchno"],
        msgid=d["msgid"],
        setl_id=d["setl_id"],
        med_type=d["med_type"],
        psn_setlway=d["psn_setlway"],
        acct_used_flag=d["acct_used_flag"],
        lines=lines,
        pre_settlement=SettlementTotals(**{k: _amount(v) for k, v in d["pre_settlement"].items()}),
        totals=SettlementTotals(**{k: _amount(v) for k, v in d["totals"].items()}),
        setlinfo=None,  # the full answer stays in the SDK's journal; the HIS keeps the totals
        setldetail=(),
        chronic=ChronicDisease(*d["chronic"]) if d.get("chronic") else None,
    )


def _chronic_data(r: ChronicRegistration) -> dict[str, Any]:
    return {
        "trt_dcla_detl_sn": r.trt_dcla_detl_sn,
        "psn_no": r.psn_no,
        "insutype": r.insutype,
        "insuplc_admdvs": r.insuplc_admdvs,
        "disease": [r.disease.code, r.disease.name],
        "begndate": r.begndate.isoformat(),
        "enddate": r.enddate.isoformat() if r.enddate else None,
        "msgid": r.msgid,
    }


def _chronic(d: dict[str, Any]) -> ChronicRegistration:
    return ChronicRegistration(
        trt_dcla_detl_sn=d["trt_dcla_detl_sn"],
        psn_no=d["psn_no"],
        insutype=d["insutype"],
        insuplc_admdvs=d["insuplc_admdvs"],
        disease=ChronicDisease(*d["disease"]),
        begndate=date.fromisoformat(d["begndate"]),
        enddate=date.fromisoformat(d["enddate"]) if d["enddate"] else None,
        msgid=d["msgid"],
    )


def _line_data(line: FeeLine) -> dict[str, Any]:
    return {
        "med_list_codg": line.med_list_codg,
        "medins_list_codg": line.medins_list_codg,
        "cnt": str(line.cnt),
        "pric": str(line.pric),
        "det_item_fee_sumamt": str(line.det_item_fee_sumamt),
        "feedetl_sn": line.feedetl_sn,
        "fee_ocur_time": line.fee_ocur_time.isoformat() if line.fee_ocur_time else None,
        "rx_circ_flag": line.rx_circ_flag,
        "hosp_appr_flag": line.hosp_appr_flag,
        "medins_list_name": line.medins_list_name,
    }


def _line(line: dict[str, Any]) -> FeeLine:
    return FeeLine(
        line["med_list_codg"],
        line["medins_list_codg"],
        cnt=Decimal(line["cnt"]),
        pric=Decimal(line["pric"]),
        det_item_fee_sumamt=Decimal(line["det_item_fee_sumamt"]),
        feedetl_sn=line["feedetl_sn"],
        fee_ocur_time=(
            datetime.fromisoformat(line["fee_ocur_time"]) if line["fee_ocur_time"] else None
        ),
        rx_circ_flag=line["rx_circ_flag"],
        hosp_appr_flag=line["hosp_appr_flag"],
        medins_list_name=line.get("medins_list_name"),  # absent in lines kept before it
    )


def _stay_data(stay: Stay) -> dict[str, Any]:
    return {
        "psn_no": stay.psn_no,
        "psn_name": stay.psn_name,
        "mdtrt_id": stay.mdtrt_id,
        "ipt_no": stay.ipt_no,
        "insutype": stay.insutype,
        "insuplc_admdvs": stay.insuplc_admdvs,
        "med_type": stay.med_type,
        "certificate": [
            stay.certificate.mdtrt_cert_type,
            stay.certificate.mdtrt_cert_no,
            stay.certificate.card_sn,
        ],
        "ward": asdict(stay.ward),
        "begntime": stay.begntime.isoformat(),
        "balc": _text(stay.balc),
        "msgid": stay.msgid,
        "endtime": stay.endtime.isoformat() if stay.endtime else None,
    }


def _stay(d: dict[str, Any]) -> Stay:
    cert_type, cert_no, card_sn = d["certificate"]
    return Stay(
        psn_no=d["psn_no"],
        psn_name=d["psn_name"],
        mdtrt_id=d["mdtrt_id"],
        ipt_no=d["ipt_no"],
        insutype=d["insutype"],
        insuplc_admdvs=d["insuplc_admdvs"],
        med_type=d["med_type"],
        certificate=Certificate(cert_type, cert_no, card_sn),
        ward=Ward(**d["ward"]),
        begntime=datetime.fromisoformat(d["begntime"]),
        balc=_amount(d["balc"]),
        msgid=d["msgid"],
        endtime=datetime.fromisoformat(d["endtime"]) if d["endtime"] else None,
    )


def _stay_settlement_data(s: StaySettlement) -> dict[str, Any]:
    return {
        "mdtrt_id": s.stay.mdtrt_id,
        "setl_id": s.setl_id,
        "msgid": s.msgid,
        "mid_setl_flag": s.mid_setl_flag,
        "until": s.until.isoformat() if s.until else None,
        "psn_setlway": s.psn_setlway,
        "acct_used_flag": s.acct_used_flag,
        "pre_settlement": {k: _text(v) for k, v in asdict(s.pre_settlement).items()},
        "totals": {k: _text(v) for k, v in asdict(s.totals).items()},
    }


def _stay_settlement(stay: Stay, d: dict[str, Any]) -> StaySettlement:
    return StaySettlement(
        stay=stay,
        msgid=d["msgid"],
        setl_id=d["setl_id"],
        mid_setl_flag=d["mid_setl_flag"],
        until=date.fromisoformat(d["until"]) if d["until"] else None,
        psn_setlway=d["psn_setlway"],
        acct_used_flag=d["acct_used_flag"],
        pre_settlement=SettlementTotals(**{k: _amount(v) for k, v in d["pre_settlement"].items()}),
        totals=SettlementTotals(**{k: _amount(v) for k, v in d["totals"].items()}),
        setlinfo=None,  # the full answer stays in the SDK's journal
        setldetail=(),
    )
