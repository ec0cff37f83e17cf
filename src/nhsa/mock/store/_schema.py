"""The SQLite schema, as an ordered list of migrations, and the version check on open.

A database file records its schema version in ``schema_version``. Opening a file applies the
migrations it lacks, each in one transaction (an old file is upgraded in place, its data
kept); a file from a newer nhsa-kit, or a SQLite file that is not a mock database, is refused
with :class:`SchemaVersionError` naming the file and what to do.

Migrations are history: never edit one that has shipped, append a new one. A test checks that
the tables the migrations build have exactly the columns of the record types.

Example:
    >>> LATEST
    7
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from nhsa.mock.store._errors import SchemaVersionError

_V1_CORE = """
CREATE TABLE id_sequence (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO id_sequence (name, value) VALUES ('global', 0);

CREATE TABLE institutions (
    fixmedins_code TEXT PRIMARY KEY, fixmedins_name TEXT NOT NULL,
    mdtrtarea_admvs TEXT NOT NULL, level TEXT NOT NULL, networked TEXT NOT NULL,
    key_id TEXT, public_key_pem TEXT, paasid TEXT, paas_token TEXT, signing_profile TEXT);

CREATE TABLE tenant_settings (
    tenant TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (tenant, name));

CREATE TABLE sign_ins (
    tenant TEXT NOT NULL, sign_no TEXT NOT NULL, opter_no TEXT NOT NULL,
    sign_time TEXT NOT NULL, mac TEXT, ip TEXT NOT NULL, signed_out_at TEXT,
    PRIMARY KEY (tenant, sign_no));

CREATE TABLE messages (
    tenant TEXT NOT NULL, msgid TEXT NOT NULL, infno TEXT NOT NULL, received_at TEXT NOT NULL,
    infcode INTEGER, psn_no TEXT, effects TEXT NOT NULL, err_msg TEXT, output TEXT,
    reversed_by TEXT, reversed_at TEXT, tombstone INTEGER NOT NULL,
    PRIMARY KEY (tenant, msgid));

CREATE TABLE visits (
    tenant TEXT NOT NULL, mdtrt_id TEXT NOT NULL, psn_no TEXT NOT NULL, insutype TEXT NOT NULL,
    insuplc_admdvs TEXT NOT NULL, ipt_otp_no TEXT NOT NULL, begntime TEXT NOT NULL,
    mdtrt_cert_type TEXT NOT NULL, mdtrt_cert_no TEXT NOT NULL, status TEXT NOT NULL,
    registered_at TEXT NOT NULL, msgid TEXT NOT NULL, registration TEXT NOT NULL,
    med_type TEXT, dise_codg TEXT, dise_name TEXT, info TEXT, cancelled_at TEXT,
    PRIMARY KEY (tenant, mdtrt_id));
CREATE INDEX visits_by_ipt_otp_no ON visits (tenant, ipt_otp_no);
CREATE INDEX visits_by_psn_no ON visits (tenant, psn_no);

CREATE TABLE fee_lines (
    tenant TEXT NOT NULL, line_id TEXT NOT NULL, mdtrt_id TEXT NOT NULL,
    feedetl_sn TEXT NOT NULL, chrg_bchno TEXT NOT NULL, dise_codg TEXT,
    med_list_codg TEXT NOT NULL, pric TEXT NOT NULL, cnt TEXT NOT NULL,
    det_item_fee_sumamt TEXT NOT NULL, fulamt_ownpay_amt TEXT NOT NULL,
    overlmt_amt TEXT NOT NULL, preselfpay_amt TEXT NOT NULL, inscp_scp_amt TEXT NOT NULL,
    hosp_part_amt TEXT NOT NULL, status TEXT NOT NULL, setl_id TEXT,
    uploaded_at TEXT NOT NULL, msgid TEXT NOT NULL, result TEXT NOT NULL,
    PRIMARY KEY (tenant, line_id));
CREATE INDEX fee_lines_by_visit ON fee_lines (tenant, mdtrt_id);

CREATE TABLE presettlements (
    tenant TEXT NOT NULL, mdtrt_id TEXT NOT NULL, chrg_bchno TEXT NOT NULL,
    line_ids TEXT NOT NULL, msgid TEXT NOT NULL, computed_at TEXT NOT NULL,
    amounts TEXT NOT NULL,
    PRIMARY KEY (tenant, mdtrt_id, chrg_bchno));

CREATE TABLE settlements (
    tenant TEXT NOT NULL, setl_id TEXT NOT NULL, mdtrt_id TEXT NOT NULL, psn_no TEXT NOT NULL,
    insutype TEXT NOT NULL, insuplc_admdvs TEXT NOT NULL, clr_type TEXT NOT NULL,
    clr_optins TEXT NOT NULL, setl_time TEXT NOT NULL, setl_date TEXT NOT NULL,
    year INTEGER NOT NULL, medfee_sumamt TEXT NOT NULL, fund_pay_sumamt TEXT NOT NULL,
    acct_pay TEXT NOT NULL, psn_cash_pay TEXT NOT NULL, refd_setl_flag TEXT NOT NULL,
    status TEXT NOT NULL, msgid TEXT NOT NULL, infno TEXT NOT NULL, chrg_bchno TEXT NOT NULL,
    line_ids TEXT NOT NULL, calculation TEXT NOT NULL, setlinfo TEXT NOT NULL,
    reverses TEXT, reversed_by TEXT,
    PRIMARY KEY (tenant, setl_id));
CREATE INDEX settlements_by_day ON settlements (tenant, setl_date);
CREATE INDEX settlements_by_visit ON settlements (tenant, mdtrt_id);
CREATE INDEX settlements_by_psn_no ON settlements (tenant, psn_no);

CREATE TABLE balances (
    tenant TEXT NOT NULL, psn_no TEXT NOT NULL, insutype TEXT NOT NULL, balance TEXT NOT NULL,
    PRIMARY KEY (tenant, psn_no, insutype));

CREATE TABLE year_to_date (
    tenant TEXT NOT NULL, psn_no TEXT NOT NULL, year INTEGER NOT NULL,
    insuplc_admdvs TEXT NOT NULL, benefit_id TEXT NOT NULL, counters TEXT NOT NULL,
    PRIMARY KEY (tenant, psn_no, year, insuplc_admdvs, benefit_id));

CREATE TABLE files (
    tenant TEXT NOT NULL, file_qury_no TEXT NOT NULL, filename TEXT NOT NULL,
    kind TEXT NOT NULL, content BLOB NOT NULL, created_at TEXT NOT NULL,
    dld_endtime TEXT NOT NULL,
    PRIMARY KEY (tenant, file_qury_no));

CREATE TABLE transcript (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, tenant TEXT NOT NULL, record TEXT NOT NULL);
CREATE INDEX transcript_by_tenant ON transcript (tenant, seq);
"""

_V2_PUBLIC_SERVICES = """
CREATE TABLE filings (
    tenant TEXT NOT NULL, psn_no TEXT NOT NULL, filing TEXT, updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant, psn_no));

CREATE TABLE ec_tokens (
    tenant TEXT NOT NULL, token TEXT NOT NULL, psn_no TEXT NOT NULL,
    issued_at TEXT NOT NULL, expires_at TEXT NOT NULL,
    PRIMARY KEY (tenant, token));

CREATE TABLE downtime (
    tenant TEXT NOT NULL, window_id TEXT NOT NULL, admdvs TEXT NOT NULL,
    start TEXT NOT NULL, "end" TEXT NOT NULL, reason TEXT NOT NULL, created_at TEXT,
    PRIMARY KEY (tenant, window_id));
"""

_V3_LAB_CONSOLE = """
CREATE TABLE lab_institutions (
    fixmedins_code TEXT PRIMARY KEY, lab TEXT NOT NULL, run_id TEXT NOT NULL,
    scenario TEXT NOT NULL, claimed_at TEXT NOT NULL);
CREATE INDEX lab_institutions_by_lab ON lab_institutions (lab);

CREATE TABLE lab_runs (
    lab TEXT NOT NULL, run_id TEXT NOT NULL, stages TEXT NOT NULL, driver TEXT NOT NULL,
    dialect TEXT, result TEXT NOT NULL, exit_code INTEGER NOT NULL, started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL, summary TEXT NOT NULL, institutions TEXT NOT NULL,
    PRIMARY KEY (lab, run_id));

CREATE TABLE lab_reports (
    lab TEXT NOT NULL, run_id TEXT NOT NULL, name TEXT NOT NULL, media_type TEXT NOT NULL,
    content BLOB NOT NULL, sha256 TEXT NOT NULL,
    PRIMARY KEY (lab, run_id, name));
"""

_V4_RECOGNITIONS = """
CREATE TABLE recognitions (
    tenant TEXT NOT NULL, trt_dcla_detl_sn TEXT NOT NULL, psn_no TEXT NOT NULL,
    insutype TEXT NOT NULL, opsp_dise_code TEXT NOT NULL, opsp_dise_name TEXT NOT NULL,
    insu_optins TEXT NOT NULL, begndate TEXT NOT NULL, enddate TEXT, source TEXT NOT NULL,
    status TEXT NOT NULL, recorded_at TEXT NOT NULL, msgid TEXT, registration TEXT,
    cancelled_at TEXT, memo TEXT,
    PRIMARY KEY (tenant, trt_dcla_detl_sn));
CREATE INDEX recognitions_by_psn_no ON recognitions (tenant, psn_no);
"""

_V5_DIALECTS = """
ALTER TABLE institutions ADD COLUMN dialect TEXT;
"""

_V6_INPATIENT = """
CREATE TABLE stays (
    tenant TEXT NOT NULL, mdtrt_id TEXT NOT NULL, psn_no TEXT NOT NULL, insutype TEXT NOT NULL,
    insuplc_admdvs TEXT NOT NULL, ipt_no TEXT NOT NULL, med_type TEXT NOT NULL,
    begntime TEXT NOT NULL, mdtrt_cert_type TEXT NOT NULL, mdtrt_cert_no TEXT NOT NULL,
    status TEXT NOT NULL, admitted_at TEXT NOT NULL, msgid TEXT NOT NULL, admission TEXT NOT NULL,
    endtime TEXT, discharge TEXT, discharged_at TEXT, discharge_msgid TEXT, cancelled_at TEXT,
    PRIMARY KEY (tenant, mdtrt_id));
CREATE INDEX stays_by_ipt_no ON stays (tenant, ipt_no);
CREATE INDEX stays_by_psn_no ON stays (tenant, psn_no);

ALTER TABLE fee_lines ADD COLUMN fee_ocur_time TEXT;
ALTER TABLE fee_lines ADD COLUMN init_feedetl_sn TEXT;
ALTER TABLE settlements ADD COLUMN mid_setl_flag TEXT;
"""

# A person's stay settlements are read by their 2304 rows (admission, the stay counters): the
# person's outpatient rows, however many, stay out of the read.
_V7_STAY_SETTLEMENTS = """
CREATE INDEX settlements_by_psn_no_infno ON settlements (tenant, psn_no, infno);
"""

MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (1, "core ledger: institutions, sign-ins, messages, visits, fees, settlements", _V1_CORE),
    (2, "public services: filings, e-voucher tokens, downtime windows", _V2_PUBLIC_SERVICES),
    (
        3,
        "lab console: institutions bound to a lab, finished runs and their reports",
        _V3_LAB_CONSOLE,
    ),
    (4, "chronic-disease recognitions (门慢/门特 待遇认定)", _V4_RECOGNITIONS),
    (5, "the province dialect each registered institution speaks", _V5_DIALECTS),
    (
        6,
        "inpatient: stays; fee-line time and refunded line; mid-way settlement flag",
        _V6_INPATIENT,
    ),
    (7, "index of a person's settlements by infno (their stay settlements)", _V7_STAY_SETTLEMENTS),
)
"""(version, what it adds, SQL) in order; a database at version N has run the first N."""

LATEST = MIGRATIONS[-1][0]
"""The schema version this nhsa-kit writes."""


def migrate(connection: sqlite3.Connection, path: Path | str, *, upto: int = LATEST) -> int:
    """Bring the database to version ``upto`` (default: the latest); returns the version found.

    ``upto`` below the latest exists for tests that build an old file.
    """
    found = _version_of(connection, path)
    if found > LATEST:
        raise SchemaVersionError(
            f"database {path} has schema version {found}, but this nhsa-kit understands "
            f"versions up to {LATEST}: upgrade nhsa-kit, or point --db at another file"
        )
    for version, _, script in MIGRATIONS:
        if found < version <= upto:
            # executescript commits first and runs outside our control; an explicit BEGIN
            # keeps each migration and its version bump atomic.
            connection.executescript(
                f"BEGIN IMMEDIATE;\n{script}\n"
                f"DELETE FROM schema_version;\n"
                f"INSERT INTO schema_version (version) VALUES ({version});\nCOMMIT;"
            )
    return found


def _version_of(connection: sqlite3.Connection, path: Path | str) -> int:
    tables = {
        name
        for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    }
    if "schema_version" not in tables:
        if tables:
            raise SchemaVersionError(
                f"database {path} is a SQLite file but not an nhsa mock database "
                f"(it has tables {', '.join(sorted(tables))} and no schema_version): "
                "point --db at a new or an existing mock database file"
            )
        connection.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        return 0
    row = connection.execute("SELECT version FROM schema_version").fetchone()
    if row is None:
        raise SchemaVersionError(
            f"database {path}: schema_version is empty; the file was not written by nhsa-kit "
            "or was damaged — restore it from a backup or start a new file"
        )
    return int(row[0])
