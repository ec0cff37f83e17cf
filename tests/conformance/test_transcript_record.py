"""The transcript record: what the mock writes, ``conformance/transcript-record.schema.json``,
and the suite's typed reader (``TranscriptRecord``) agree — member names, which are required,
their types — and records older than the version still read."""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from typing import Any

import httpx
import jsonschema
import pytest
from typer.testing import CliRunner

from nhsa._resources import data_dir
from nhsa.cli import app as cli
from nhsa.conformance import MockError, TranscriptRecord
from nhsa.conformance._transcript import parse_record
from nhsa.envelope import dumps
from nhsa.mock import MockPlatform
from nhsa.mock.faults import FaultKind
from nhsa.mock.transcript import SCHEMA_VERSION, masked
from tests.mock.test_app_his import KUNMING, SyntheticHis

ADMIN_TOKEN = "test-admin-token"


@cache
def schema() -> dict[str, Any]:
    path = data_dir("conformance") / "transcript-record.schema.json"
    document: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return document


def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker())


def as_served(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record as JSON, the way the admin API serves it."""
    served: dict[str, Any] = json.loads(dumps(record))
    return served


def schema_problems(records: Iterable[Mapping[str, Any]]) -> list[str]:
    """Where each record breaks the schema (``seq: /pointer: message``); [] when none does."""
    validator = _validator()
    return [
        f"{record.get('seq')}: /{'/'.join(map(str, error.path))}: {error.message}"
        for record in records
        for error in validator.iter_errors(as_served(record))
    ]


# -- records the mock writes ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def written() -> Iterator[list[dict[str, Any]]]:
    """Records of every kind of answer: successes, refusals in front of the engine and by it,
    faults before and after the engine, a body that is no JSON; as the admin API serves them."""
    with MockPlatform(profile="tif+sm2", admin_token=ADMIN_TOKEN) as mock:
        enrollment = mock.enroll(KUNMING)
        client = httpx.Client(transport=mock.transport, base_url=mock.base_url, timeout=5)
        his = SyntheticHis(client, signing=enrollment.client_signing())
        his.sign_in()
        mdtrt_id = his.register()

        def send(infno: str, nodes: dict[str, Any]) -> None:
            with contextlib.suppress(httpx.TransportError):  # a withheld answer
                his.post(his.envelope(infno, nodes, insuplc="530100"))

        lookup = {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "x", "psn_cert_type": "01"}}
        sign_in = {"signIn": {"opter_no": his.opter, "ip": "10.53.1.21"}}
        mock.arm_fault(KUNMING, "http-error", status=502, after_commit=True, infno="1101")
        send("1101", lookup)
        mock.arm_fault(KUNMING, "latency", ms=0, infno="1101")
        send("1101", lookup)
        mock.arm_fault(KUNMING, "hang", infno="2208")
        send("2208", {"data": {"psn_no": "P1", "mdtrt_id": mdtrt_id, "setl_id": "2"}})
        mock.arm_fault(KUNMING, "commit-then-drop", mode="reset", infno="9001")
        send("9001", sign_in)
        send("2202", {"data": {"mdtrt_id": mdtrt_id, "psn_no": "P1", "ipt_otp_no": "x"}})
        send("1101", {"data": {"mdtrt_cert_type": 2}})  # the contract check refuses
        his.client.post("/fsi/api/rsfComIfsService/callService", content=b"{not json")
        admin = httpx.Client(
            transport=mock.transport,
            base_url=mock.base_url,
            headers={"authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        served = admin.get(f"/admin/tenants/{KUNMING}/transcript").json()
        served += admin.get("/admin/tenants/-/transcript").json()
        assert served[: len(served) - 1] == [as_served(r) for r in mock.transcript(KUNMING)]
        yield served


def test_every_record_the_mock_writes_follows_the_schema(written: list[dict[str, Any]]) -> None:
    jsonschema.Draft202012Validator.check_schema(schema())
    assert {r["schema_version"] for r in written} == {SCHEMA_VERSION}
    kinds = {r["fault"]["kind"] for r in written if r["fault"]}
    assert kinds == {"http-error", "latency", "hang", "commit-then-drop"}
    assert {r["infcode"] for r in written} == {0, -1, None}
    assert any(r["validation"] for r in written)
    assert any(r["error_id"] for r in written)
    assert schema_problems(written) == []
    assert schema_problems(masked(r) for r in written) == []  # the .jsonl export's default


def test_the_cli_and_the_admin_api_serve_the_same_versioned_records(tmp_path: Any) -> None:
    db = tmp_path / "lab.db"
    with MockPlatform(db=db) as mock:
        his = SyntheticHis(httpx.Client(transport=mock.transport, base_url=mock.base_url))
        his.sign_in()
        served = [as_served(masked(r)) for r in mock.transcript(KUNMING)]
    printed = CliRunner().invoke(cli, ["mock", "transcript", "--tenant", KUNMING, "--db", str(db)])
    assert printed.exit_code == 0, printed.output
    lines = [json.loads(line) for line in printed.stdout.splitlines()]
    assert lines == served
    assert [line["schema_version"] for line in lines] == [SCHEMA_VERSION]


def test_every_record_the_mock_writes_parses(written: list[dict[str, Any]]) -> None:
    records = [parse_record(r) for r in written]
    signed_in = records[0]
    assert (signed_in.infno, signed_in.definite_success) == ("9001", True)
    assert signed_in.sign_no_issued is not None
    assert signed_in.gateway.scheme == "tif"
    assert signed_in.signature.ok is True
    dropped = next(r for r in records if r.fault_kind is FaultKind.COMMIT_THEN_DROP)
    assert (dropped.infno, dropped.answer_trusted, dropped.state_changed) == ("9001", False, True)
    cancel = next(r for r in records if r.infno == "2202")
    assert (cancel.definite_failure, cancel.mdtrt_id, cancel.psn_no) == (
        True,
        cancel.data["mdtrt_id"],
        "P1",
    )
    refused = next(r for r in records if r.validation)
    assert refused.definite_failure
    assert refused.validation[0].pointer.startswith("/input/data")
    garbled = records[-1]
    assert (garbled.request, garbled.envelope, garbled.infno) == (None, {}, None)


# -- the schema and the typed reader agree ---------------------------------------------------------


def _resolve(node: Mapping[str, Any], defs: Mapping[str, Any]) -> Mapping[str, Any]:
    return _resolve(defs[node["$ref"].rsplit("/", 1)[-1]], defs) if "$ref" in node else node


def _json_types(node: Mapping[str, Any], defs: Mapping[str, Any]) -> frozenset[str]:
    """The JSON types a (pydantic or hand-written) schema node allows; ``any`` for ``{}``."""
    node = _resolve(node, defs)
    if "anyOf" in node:
        return frozenset().union(*(_json_types(option, defs) for option in node["anyOf"]))
    if "enum" in node or "const" in node:
        values = node.get("enum", [node.get("const")])
        return frozenset(
            "null" if v is None else "boolean" if isinstance(v, bool) else "string" for v in values
        )
    kind = node.get("type")
    if kind is None:
        return frozenset({"any"})
    return frozenset([kind] if isinstance(kind, str) else kind)


def _shape(node: Mapping[str, Any], defs: Mapping[str, Any]) -> dict[str, Any]:
    """Types, required members and members' shapes of a schema node, nested ones included."""
    node = _resolve(node, defs)
    options = [_resolve(option, defs) for option in node.get("anyOf", [node])]
    objects = [option for option in options if "properties" in option]
    shape: dict[str, Any] = {"types": _json_types(node, defs)}
    if objects:
        shape["required"] = frozenset(objects[0].get("required", ()))
        shape["members"] = {n: _shape(s, defs) for n, s in objects[0]["properties"].items()}
    values = node.get("additionalProperties")
    if isinstance(values, Mapping):
        shape["values"] = _shape(values, defs)
    if "items" in node:
        shape["items"] = _shape(node["items"], defs)
    return shape


def _reader_schema() -> dict[str, Any]:
    return TranscriptRecord.model_json_schema(by_alias=True, mode="validation")


def test_member_names_required_members_and_types_agree() -> None:
    reader = _reader_schema()
    written = schema()
    assert _shape(reader, reader.get("$defs", {})) == _shape(written, {})
    assert _shape(written, {})["required"] == frozenset(written["properties"])  # all required


def test_the_fault_vocabulary_is_the_mocks() -> None:
    kinds = schema()["properties"]["fault"]["properties"]["kind"]["enum"]
    assert kinds == [kind.value for kind in FaultKind]


_OF_TYPE: dict[str, Any] = {
    "string": "7",
    "integer": 7,
    "boolean": True,
    "object": {},
    "array": [],
    "null": None,
}


def _mutations(record: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The record with one required member dropped, or one member of a type it may not have."""
    for name in schema()["required"]:
        if name != "schema_version":  # without it a record is read as one from before 1.0
            dropped = copy.deepcopy(dict(record))
            del dropped[name]
            yield f"without {name}", dropped
        allowed = _json_types(schema()["properties"][name], {})
        if "any" in allowed:
            continue
        kind = next(kind for kind in _OF_TYPE if kind not in allowed)
        changed = copy.deepcopy(dict(record))
        changed[name] = _OF_TYPE[kind]
        yield f"{name} of type {kind}", changed
    for member in ("headers", "gateway", "signature"):
        for name in schema()["properties"][member]["required"]:
            nested = copy.deepcopy(dict(record))
            del nested[member][name]
            yield f"without {member}.{name}", nested


def test_what_the_schema_refuses_the_reader_refuses(written: list[dict[str, Any]]) -> None:
    validator = _validator()
    checked = 0
    for what, record in _mutations(written[0]):
        assert list(validator.iter_errors(record)), f"the schema accepts a record {what}"
        with pytest.raises(MockError):
            parse_record(record)
        checked += 1
    assert checked > 60


def test_a_record_from_before_the_version_reads_as_1_0_without_error_id(
    written: list[dict[str, Any]],
) -> None:
    legacy = {k: v for k, v in written[0].items() if k not in ("schema_version", "error_id")}
    record = parse_record(legacy)
    assert (record.schema_version, record.error_id) == ("1.0", None)
    current = parse_record(written[0])
    assert record.model_copy(update={"schema_version": current.schema_version}) == current
    assert "carry no `schema_version` and no `error_id`" in schema()["description"]


def test_a_1_0_record_without_a_dialect_reads_as_the_national_contract(
    written: list[dict[str, Any]],
) -> None:
    old = {k: v for k, v in written[0].items() if k != "dialect"} | {"schema_version": "1.0"}
    record = parse_record(old)
    assert record.dialect is None
    assert record.spoken.name == "national"
    assert record.envelope == written[0]["request"]
    assert (
        "a reader reads a 1.0 record, which has none, with `dialect` null"
        in (schema()["description"])
    )


def test_a_later_minor_version_reads_and_another_major_is_refused(
    written: list[dict[str, Any]],
) -> None:
    later = {**written[0], "schema_version": "1.7", "a_member_of_1_7": {"x": 1}}
    assert parse_record(later).seq == written[0]["seq"]
    with pytest.raises(MockError, match=r"schema_version 2\.0 is not 1\.x"):
        parse_record({**written[0], "schema_version": "2.0"})
