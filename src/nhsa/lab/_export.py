"""A visit as one file (问题协同): what a treatment place sends to explain a failed settlement.

:func:`export_visit` gathers, from a running mock, everything needed to look at one visit
and to re-run it elsewhere — its transcript records and those it depends on
(:mod:`nhsa.lab._visit`), the fixture files the platform served the institution, the state set
through the admin API that the visit read (filings, e-voucher tokens, downtime windows) and
the faults armed — into a document shaped by ``conformance/visit-export.schema.json``.
:func:`read_export` reads such a file back, refusing anything else with a
:class:`VisitExportError` that names the member and the rule.

Example::

    document = export_visit(platform, "H53010112345", "3000000000042", exported_by="lab-km")
    Path("visit.json").write_bytes(encode_export(document))
    export = read_export(Path("visit.json").read_bytes(), source="visit.json")
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Final

import jsonschema_rs

from nhsa import __version__
from nhsa._resources import data_dir
from nhsa.conformance._transcript import TranscriptRecordError, parse_record, parse_records
from nhsa.envelope import CHINA_TIME, dumps
from nhsa.lab._visit import VisitPart, visit_records, visit_verdict
from nhsa.mock import MockPlatform
from nhsa.mock.fixtures import bundled_fixture_dir
from nhsa.mock.store import Downtime, EcToken, FilingOverride

__all__ = [
    "EXPORT_FORMAT",
    "EXPORT_SCHEMA_ID",
    "EXPORT_VERSION",
    "VisitExport",
    "VisitExportError",
    "VisitNotFoundError",
    "encode_export",
    "export_visit",
    "fixture_folder",
    "read_export",
]

EXPORT_FORMAT: Final = "nhsa-visit-export"
EXPORT_VERSION: Final = "1.0"
EXPORT_SCHEMA_ID: Final = "https://nhsa-kit.invalid/conformance/visit-export.schema.json"
_READ_MAJOR: Final = "1"
_FIXTURE_FILES: Final = ("institutions.yaml", "persons.yaml", "profiles.yaml")
_FIXTURE_FOLDERS: Final = ("catalogues", "policies")


class VisitExportError(ValueError):
    """A file that is not a visit export this kit can read; the message names where and why."""


class VisitNotFoundError(LookupError):
    """The institution's transcript names no such visit."""


@dataclass(frozen=True)
class VisitExport:
    """A visit export read back: the document, and its records typed.

    Example::

        export = read_export(data)
        export.institution["fixmedins_code"], [p.role for p in export.parts]
    """

    document: Mapping[str, Any]
    parts: tuple[VisitPart, ...]

    @property
    def institution(self) -> Mapping[str, Any]:
        """The institution's registration (code, name, area, level, services, profile)."""
        value: Mapping[str, Any] = self.document["institution"]
        return value

    @property
    def mdtrt_id(self) -> str:
        """The visit."""
        return str(self.document["visit"]["mdtrt_id"])

    @property
    def verdict(self) -> str:
        """What became of the visit's settlements on the platform it was exported from."""
        return str(self.document["visit"]["verdict"])


def export_visit(
    platform: MockPlatform, tenant: str, mdtrt_id: str, *, exported_by: str
) -> dict[str, Any]:
    """The export document of one visit (raises :class:`VisitNotFoundError`)."""
    raw = platform.transcript(tenant)
    parts = visit_records(parse_records(raw), mdtrt_id)
    if not parts:
        raise VisitNotFoundError(f"{tenant} has no visit {mdtrt_id} in its transcript")
    by_seq = {record["seq"]: record for record in raw}
    people = {p.record.psn_no for p in parts if p.record.psn_no}
    patient = next((p.record.psn_no for p in parts if p.role == "visit" and p.record.psn_no), None)
    institution = platform.admin.institution(tenant)
    return {
        "$schema": EXPORT_SCHEMA_ID,
        "format": EXPORT_FORMAT,
        "schema_version": EXPORT_VERSION,
        "exported_at": platform.core.clock().isoformat(timespec="seconds"),
        "kit_version": __version__,
        "exported_by": exported_by,
        "visit": {
            "mdtrt_id": mdtrt_id,
            "psn_no": patient,
            "verdict": visit_verdict(p.record for p in parts if p.role == "visit"),
        },
        "institution": {
            "fixmedins_code": institution["fixmedins_code"],
            "fixmedins_name": institution["fixmedins_name"],
            "mdtrtarea_admvs": institution["mdtrtarea_admvs"],
            "level": institution["level"],
            "networked": list(institution["networked"] or ["outpatient"]),
            "profile": institution["profile"],
        },
        "fixtures": _fixtures(platform, tenant),
        "state": _state(platform, tenant, people),
        "faults_armed": platform.faults(tenant),
        "records": [{"role": p.role, "record": by_seq[p.record.seq]} for p in parts],
    }


def encode_export(document: Mapping[str, Any]) -> bytes:
    """The document as the file's bytes (UTF-8 JSON, amounts exact).

    Example:
        >>> encode_export({"amount": Decimal("25.10")})
        b'{"amount":25.10}\\n'
    """
    return dumps(document) + b"\n"


def read_export(data: bytes, *, source: str = "the file") -> VisitExport:
    """Read a visit export; :class:`VisitExportError` names the member and the rule.

    Example:
        >>> try:
        ...     read_export(b'{"format": "something else"}', source="visit.json")
        ... except VisitExportError as error:
        ...     print(str(error).split(":")[0])
        visit.json
    """
    try:
        document = json.loads(data.decode("utf-8"), parse_float=Decimal)
    except (UnicodeDecodeError, ValueError) as exc:
        raise VisitExportError(f"{source}: not a JSON document ({exc})") from None
    if not isinstance(document, dict):
        raise VisitExportError(f"{source}: a visit export is a JSON object")
    version = document.get("schema_version")
    if isinstance(version, str) and version.partition(".")[0] != _READ_MAJOR:
        raise VisitExportError(
            f"{source}: schema_version {version} is not {_READ_MAJOR}.x, the version this "
            "nhsa-kit reads; replay it with the nhsa-kit that wrote it"
        )
    error = next(iter(_validator().iter_errors(_plain(document))), None)
    if error is not None:
        pointer = "".join(f"/{part}" for part in error.instance_path) or "/"
        rule = next((s for s in reversed(error.schema_path) if isinstance(s, str)), "schema")
        raise VisitExportError(
            f"{source}: {pointer}: [{rule}] {error.message} "
            "(see conformance/visit-export.schema.json)"
        )
    try:
        parts = tuple(
            VisitPart(item["role"], parse_record(item["record"])) for item in document["records"]
        )
    except TranscriptRecordError as exc:
        raise VisitExportError(f"{source}: {exc}") from None
    _check_order(parts, source)
    return VisitExport(document, parts)


def _check_order(parts: tuple[VisitPart, ...], source: str) -> None:
    seqs = [p.record.seq for p in parts]
    if seqs != sorted(set(seqs)):
        raise VisitExportError(f"{source}: /records: records must be in seq order, each once")
    tenants = {p.record.tenant for p in parts}
    if len(tenants) != 1:
        raise VisitExportError(
            f"{source}: /records: every record must be of one institution, not "
            f"{', '.join(sorted(tenants))}"
        )
    if not any(p.role == "visit" for p in parts):
        raise VisitExportError(f"{source}: /records: no record has the role visit")


def _fixtures(platform: MockPlatform, tenant: str) -> dict[str, Any]:
    with platform.store.snapshot() as tx:
        folder = platform.engine.fixtures_for(tx, tenant).source
    if folder is None:
        raise VisitNotFoundError(
            f"the fixtures {tenant} is served were not read from a folder: they cannot be exported"
        )
    files = {name: (folder / name).read_text("utf-8") for name in _FIXTURE_FILES}
    for sub in _FIXTURE_FOLDERS:
        for path in sorted((folder / sub).glob("*.yaml")):
            files[f"{sub}/{path.name}"] = path.read_text("utf-8")
    bundled = folder.resolve() == bundled_fixture_dir().resolve()
    return {"source": "bundled" if bundled else folder.name, "files": files}


def _state(platform: MockPlatform, tenant: str, people: set[str]) -> dict[str, Any]:
    with platform.store.snapshot() as tx:
        filings = [f for f in tx.find(FilingOverride, tenant=tenant) if f.psn_no in people]
        tokens = [t for t in tx.find(EcToken, tenant=tenant) if t.psn_no in people]
        windows = tx.find(Downtime, tenant=tenant)
    return {
        "filings": [{"psn_no": f.psn_no, "filing": _filing(f.filing)} for f in filings],
        "ec_tokens": [
            {
                "token": t.token,
                "psn_no": t.psn_no,
                "issued_at": _iso(t.issued_at),
                "expires_at": _iso(t.expires_at),
            }
            for t in tokens
        ],
        "downtime": [
            {
                "window_id": w.window_id,
                "admdvs": w.admdvs,
                "start": _iso(w.start),
                "end": _iso(w.end),
                "reason": w.reason,
            }
            for w in windows
        ],
    }


def _filing(filing: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if filing is None:
        return None
    return {
        name: None if filing.get(name) is None else str(filing[name])
        for name in ("kind", "area", "begndate", "enddate")
    }


def _iso(moment: datetime) -> str:
    return moment.astimezone(CHINA_TIME).isoformat()


def _plain(value: Any) -> Any:
    """Decimals as floats, for the schema check only (types, not values, are checked)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@cache
def _validator() -> Any:
    folder = data_dir("conformance")
    record = json.loads((folder / "transcript-record.schema.json").read_text("utf-8"))
    schema = json.loads((folder / "visit-export.schema.json").read_text("utf-8"))
    registry = jsonschema_rs.Registry([(record["$id"], record)])
    return jsonschema_rs.validator_for(schema, registry=registry)


def fixture_folder(export: VisitExport, root: Path) -> Path:
    """Write the export's fixture files under ``root`` (a fresh folder); returns it.

    File names were checked against the schema's pattern when the export was read, so none
    can leave ``root``.
    """
    for name, text in export.document["fixtures"]["files"].items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root
