"""The contract's data: every transaction file, its examples, nodes.json and errors.json.

Each transaction's examples must validate, each broken copy of them must fail at the right
pointer, the metadata must follow the contract's rules (reference §5.1 for reversals), the
example amounts must satisfy the identities of reference §5.8, and an independent validator
(python-jsonschema, numbers read as Decimal) must agree with ``nhsa.spec``.
"""

from __future__ import annotations

import base64
import copy
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from functools import cache
from typing import Any

import jsonschema
import pytest
import referencing
from referencing.jsonschema import DRAFT202012

from nhsa import spec
from nhsa.spec import FieldSpec, iter_fields
from nhsa.spec._contract import DIALECTS

CONTRACT = spec.contract()
DRAFT = "https://json-schema.org/draft/2020-12/schema"

REQUIRED_INFNOS = {
    "9001", "9002", "1101", "2001", "2201", "2202", "2203", "2203A", "2204", "2205", "2206",
    "2207", "2208", "2601", "3201", "3202", "5203", "9101", "9102",
    "2301", "2302", "2303", "2304", "2305", "2401", "2402", "2404", "2405",
}  # fmt: skip
CHRONIC = {"2503", "2504", "5301"}  # 门慢/门特: registration, its cancel, the query
REQUIRED_INFNOS |= CHRONIC
REVERSIBLE = {"2207", "2208", "2304", "2305", "2401"}
QUERIES = {"1101", "2001", "3201", "3202", "5203", "9102"}
QUERIES |= {"5301"}
SAFE_WRITES = {"9001", "9002", "2601"}
UNDONE_BY = {
    "2201": "2202", "2204": "2205", "2207": "2208", "2301": "2302",
    "2304": "2305", "2401": "2404", "2402": "2405",
}  # fmt: skip
UNDONE_BY["2503"] = "2504"
COMMON_CARE = {"9001", "9002", "1101", "2001", "2601", "3201", "3202", "5203", "9101", "9102"}
FUND_FIELDS = CONTRACT.fund_fields
SCOPE_FIELDS = ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt")
NOT_NEGATED = {"pool_prop_selfpay", "balc"}
ACCOUNT_FUNDS = {"310200", "310201"}
HOSPITAL_FUND = "999996"
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_PATTERN = re.compile(r"^[0-9]{17}[0-9X]$")
UNKNOWN_CODE = "ZZ9"


# -- the contract read a second time, numbers as Decimal, for python-jsonschema ------------------


@cache
def decimal_documents() -> dict[str, dict[str, Any]]:
    """Every contract document keyed by $id, parsed with parse_float=Decimal."""
    documents = {}
    for path in sorted(CONTRACT.root.rglob("*.json")):
        if DIALECTS in path.relative_to(CONTRACT.root).parts:
            continue  # province profiles: data about the contract (tests/spec/test_dialects.py)
        document = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
        documents[document["$id"]] = document
    return documents


@cache
def registry() -> referencing.Registry:
    resources = [(i, DRAFT202012.create_resource(d)) for i, d in decimal_documents().items()]
    return referencing.Registry().with_resources(resources)


def reference_validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator({"$schema": DRAFT, **schema}, registry=registry())


@cache
def request_validator(infno: str) -> jsonschema.Draft202012Validator:
    transaction = CONTRACT.transaction(infno)
    return reference_validator(
        {
            "$ref": CONTRACT.uri("envelope/request.json"),
            "properties": {"input": {"$ref": f"{transaction.schema_id}#/$defs/input"}},
        }
    )


@cache
def response_validator(infno: str) -> jsonschema.Draft202012Validator:
    transaction = CONTRACT.transaction(infno)
    schema: dict[str, Any] = {"$ref": CONTRACT.uri("envelope/response.json")}
    if transaction.response_body == "json":
        schema["if"] = {"properties": {"infcode": {"enum": [0, "0"]}}, "required": ["infcode"]}
        schema["then"] = {
            "properties": {"output": {"$ref": f"{transaction.schema_id}#/$defs/output"}},
            "required": ["output"],
        }
    return reference_validator(schema)


def decimal_examples(infno: str) -> list[dict[str, Any]]:
    return decimal_documents()[CONTRACT.transaction(infno).schema_id]["examples"]  # type: ignore[no-any-return]


def decimal_example(infno: str, index: int = 0) -> dict[str, Any]:
    return decimal_examples(infno)[index]


EXAMPLES = [
    pytest.param(infno, index, id=f"{infno}-{index}")
    for infno, transaction in sorted(CONTRACT.transactions.items())
    for index in range(len(transaction.examples))
]
TRANSACTIONS = sorted(CONTRACT.transactions)


def walk(value: Any) -> Iterator[Mapping[str, Any]]:
    """Every JSON object inside ``value``, ``value`` included."""
    if isinstance(value, Mapping):
        yield value
        for child in value.values():
            yield from walk(child)
    elif isinstance(value, list):
        for child in value:
            yield from walk(child)


def has_valid_check_digit(number: str) -> bool:
    total = sum(int(c) * w for c, w in zip(number[:17], ID_WEIGHTS, strict=True))
    return number[17] == "10X98765432"[total % 11]


# -- metadata ----------------------------------------------------------------------------------


def test_every_required_transaction_is_in_the_contract() -> None:
    assert set(CONTRACT.transactions) >= REQUIRED_INFNOS


@pytest.mark.parametrize("infno", TRANSACTIONS)
def test_file_name_and_id_match_the_infno(infno: str) -> None:
    transaction = CONTRACT.transaction(infno)
    assert transaction.schema_id == CONTRACT.uri(f"transactions/{infno}.json")
    assert (CONTRACT.root / "transactions" / f"{infno}.json").is_file()
    assert re.fullmatch(r"[0-9]{4}[A-Z]?", infno)


@pytest.mark.parametrize("infno", TRANSACTIONS)
def test_metadata_follows_the_contract_rules(infno: str) -> None:
    t = CONTRACT.transaction(infno)
    assert t.kind == ("query" if infno in QUERIES else "write")
    assert t.safe_to_repeat is (infno in QUERIES or infno in SAFE_WRITES)
    assert t.reversible_by_2601 is (infno in REVERSIBLE)
    assert t.undone_by == UNDONE_BY.get(infno)
    outpatient = infno[:2] == "22" or infno in CHRONIC
    expected_care = (
        "common" if infno in COMMON_CARE else "outpatient" if outpatient else "inpatient"
    )
    assert t.care == expected_care
    assert t.response_body == ("file" if infno == "9102" else "json")
    assert t.path.startswith("/fsi/api/")
    assert all((t.title_zh, t.title_en, t.description, t.sources))
    assert {"input", "output"} <= set(t.document["$defs"])


def test_reversible_set_is_exactly_reference_5_1() -> None:
    reversible = {i for i, t in CONTRACT.transactions.items() if t.reversible_by_2601}
    assert reversible == REVERSIBLE


@pytest.mark.parametrize("infno", TRANSACTIONS)
def test_undoing_transaction_exists_and_changes_state(infno: str) -> None:
    t = CONTRACT.transaction(infno)
    if t.undone_by is None:
        return
    undo = CONTRACT.transaction(t.undone_by)
    assert undo.kind == "write"
    assert undo.care == t.care


def test_every_query_is_safe_to_repeat() -> None:
    assert all(t.safe_to_repeat for t in CONTRACT.transactions.values() if t.is_query)


def test_spelling_traps_are_kept_in_paths() -> None:
    assert CONTRACT.transaction("2201").path.endswith("/outpatientRregistration")
    assert CONTRACT.transaction("2208").path.endswith("/cancleSettletment")
    assert CONTRACT.transaction("2203A").path.endswith("/outpatientMdtrtinfoUpA")


def test_inferences_are_marked() -> None:
    assert "[inference]" in CONTRACT.transaction("9002").document["$defs"]["output"]["description"]
    trtinfo = CONTRACT.transaction("2001").document["$defs"]["output"]["properties"]["trtinfo"]
    assert "[inference]" in trtinfo["description"]


# -- schemas ------------------------------------------------------------------------------------


@pytest.mark.parametrize("schema_id", sorted(decimal_documents()))
def test_every_document_is_a_valid_2020_12_schema(schema_id: str) -> None:
    jsonschema.Draft202012Validator.check_schema(decimal_documents()[schema_id])


def _refs(value: Any) -> Iterator[str]:
    for obj in walk(value):
        ref = obj.get("$ref")
        if isinstance(ref, str):
            yield ref


@pytest.mark.parametrize("schema_id", sorted(decimal_documents()))
def test_every_ref_resolves(schema_id: str) -> None:
    document = decimal_documents()[schema_id]
    resolver = registry().resolver(base_uri=schema_id)
    for ref in _refs({k: v for k, v in document.items() if k != "examples"}):
        resolved = resolver.lookup(ref).contents
        assert isinstance(resolved, Mapping), ref


def _nodes_of(schema: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Object schemas that describe nodes or rows (they carry properties)."""
    for obj in walk(schema):
        if "properties" in obj and obj.get("type") == "object":
            yield obj


@pytest.mark.parametrize("infno", TRANSACTIONS)
def test_input_nodes_are_closed_and_output_nodes_open(infno: str) -> None:
    defs = CONTRACT.transaction(infno).document["$defs"]
    for name, schema in defs.items():
        if name == "input" or name.startswith("input_"):
            assert all(n["additionalProperties"] is False for n in _nodes_of(schema)), name
        else:
            assert all(n["additionalProperties"] is True for n in _nodes_of(schema)), name


def _fields(location: str) -> list[FieldSpec]:
    return list(iter_fields(CONTRACT, location))


@pytest.mark.parametrize("infno", TRANSACTIONS)
def test_optional_fields_are_nullable(infno: str) -> None:
    t = CONTRACT.transaction(infno)
    for side in ("input", "output"):
        for f in _fields(f"{t.schema_id}#/$defs/{side}"):
            assert f.required or f.nullable, f"{side}: {f.path}"


@pytest.mark.parametrize("infno", TRANSACTIONS)
def test_strings_are_bounded(infno: str) -> None:
    t = CONTRACT.transaction(infno)
    for side in ("input", "output"):
        for f in _fields(f"{t.schema_id}#/$defs/{side}"):
            if f.kind == "string" and f.code_table is None and f.pattern is None:
                assert f.max_length is not None, f"{side}: {f.path}"


@pytest.mark.parametrize("infno", ["2204", "2301"])
def test_fee_line_arrays_are_bounded(infno: str) -> None:
    feedetail = CONTRACT.transaction(infno).input_schema["properties"]["feedetail"]
    assert feedetail["minItems"] == 1
    assert feedetail["maxItems"] == 1000


def test_2601_oinfno_accepts_suffixed_infnos() -> None:
    oinfno = CONTRACT.transaction("2601").document["$defs"]["input_data"]["properties"]["oinfno"]
    assert oinfno["maxLength"] == 6
    assert re.fullmatch(oinfno["pattern"], "2203A")


def test_shared_nodes_are_kept_and_extended() -> None:
    defs = CONTRACT.documents[CONTRACT.uri("nodes.json")]["$defs"]
    assert {"setlinfo", "setldetail_item", "fee_result_item", "setlinfo_cancel"} <= set(defs)
    assert "overlmt_amt" in defs["fee_result_item"]["properties"]
    assert {"psn_cash_pay", "pdn_cash_pay"} <= set(defs["setlinfo_cancel"]["properties"])


# -- examples -----------------------------------------------------------------------------------


@pytest.mark.parametrize("infno", TRANSACTIONS)
def test_every_transaction_has_a_named_example(infno: str) -> None:
    examples = CONTRACT.transaction(infno).examples
    assert examples
    assert len({e.name for e in examples}) == len(examples)
    assert all(e.request["infno"] == infno for e in examples)


@pytest.mark.parametrize(("infno", "index"), EXAMPLES)
def test_example_is_valid(infno: str, index: int) -> None:
    example = CONTRACT.transaction(infno).examples[index]
    assert spec.validate_request(example.request) == []
    assert spec.validate_response(example.response, infno) == []


@pytest.mark.parametrize(("infno", "index"), EXAMPLES)
def test_python_jsonschema_agrees_on_the_example(infno: str, index: int) -> None:
    example = decimal_example(infno, index)
    request_errors = [e.message for e in request_validator(infno).iter_errors(example["request"])]
    response_errors = [
        e.message for e in response_validator(infno).iter_errors(example["response"])
    ]
    assert request_errors == []
    assert response_errors == []


@pytest.mark.parametrize(("infno", "index"), EXAMPLES)
def test_example_envelope_is_internally_consistent(infno: str, index: int) -> None:
    example = CONTRACT.transaction(infno).examples[index]
    request, response = example.request, example.response
    digits = re.sub(r"[^0-9]", "", request["inf_time"])
    assert request["msgid"] == request["fixmedins_code"] + digits + request["msgid"][-4:]
    carries_psn_no = any("psn_no" in obj for obj in walk(request["input"]))
    assert bool(re.fullmatch(r"[0-9]{6}", request["insuplc_admdvs"])) or not carries_psn_no
    if response["infcode"] == 0:
        assert response["inf_refmsgid"].startswith(request["mdtrtarea_admvs"])
        assert len(response["inf_refmsgid"]) == 30


def _certificate_numbers(value: Any) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    for obj in walk(value):
        for key in ("certno", "mdtrt_cert_no"):
            number = obj.get(key)
            if isinstance(number, str):
                yield key, number, obj


@pytest.mark.parametrize(("infno", "index"), EXAMPLES)
def test_id_card_numbers_carry_a_valid_check_digit(infno: str, index: int) -> None:
    example = CONTRACT.transaction(infno).examples[index]
    for key, number, owner in _certificate_numbers([example.request, example.response]):
        id_card = (key == "mdtrt_cert_no" and owner.get("mdtrt_cert_type") == "02") or (
            key == "certno" and owner.get("psn_cert_type") == "01"
        )
        if id_card or ID_PATTERN.fullmatch(number):
            assert ID_PATTERN.fullmatch(number), number
            assert has_valid_check_digit(number), number


def test_check_digit_rule_rejects_a_wrong_digit() -> None:
    assert has_valid_check_digit("51010719850320001X")
    assert not has_valid_check_digit("440304199001011234")


# -- broken examples fail at the right pointer ---------------------------------------------------


def _pointer(path: str, message: Mapping[str, Any]) -> tuple[str, ...]:
    """JSON pointer parts of a field path from iter_fields in ``message``, array rows at index
    0 — unless the message gives the node as one object (a node the contract takes as one
    object or an array of them)."""
    parts: list[str] = ["input"]
    for step in path.split("."):
        if step.endswith("[]"):
            parts.append(step[:-2])
            if not isinstance(_get(message, tuple(parts)), Mapping):
                parts.append("0")
        else:
            parts.append(step)
    return tuple(parts)


def _get(message: Mapping[str, Any], parts: tuple[str, ...]) -> Any:
    value: Any = message
    for part in parts:
        if isinstance(value, list):
            if int(part) >= len(value):
                return None
            value = value[int(part)]
        elif isinstance(value, Mapping) and part in value:
            value = value[part]
        else:
            return None
    return value


def _parent(message: dict[str, Any], parts: tuple[str, ...]) -> Any:
    value: Any = message
    for part in parts[:-1]:
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def _node_fields(infno: str) -> list[FieldSpec]:
    """Fields one level inside the input's nodes (data.psn_no, feedetail[].cnt, …)."""
    schema_id = CONTRACT.transaction(infno).schema_id
    return [f for f in _fields(f"{schema_id}#/$defs/input") if f.path.count(".") == 1]


def _first(infno: str, example: Mapping[str, Any], wanted: Any) -> FieldSpec | None:
    for f in _node_fields(infno):
        if wanted(f) and _get(example, _pointer(f.path, example)) is not None:
            return f
    return None


def _both_reject(infno: str, request: dict[str, Any]) -> list[spec.ValidationIssue]:
    issues = spec.validate_request(request)
    as_decimal = json.loads(json.dumps(request), parse_float=Decimal)
    assert not request_validator(infno).is_valid(as_decimal)
    return issues


def _at(issues: list[spec.ValidationIssue], parts: tuple[str, ...]) -> set[str]:
    pointer = "/" + "/".join(parts)
    return {i.rule for i in issues if i.pointer == pointer}


def _long_string_target(infno: str, request: Mapping[str, Any]) -> FieldSpec | None:
    return _first(infno, request, lambda f: f.kind == "string" and f.max_length is not None)


def _code_target(infno: str, request: Mapping[str, Any]) -> FieldSpec | None:
    strict = _first(infno, request, lambda f: f.code_table is not None and not f.nullable)
    return strict or _first(infno, request, lambda f: f.code_table is not None)


def _has_psn_no(infno: str, request: Mapping[str, Any]) -> bool:
    return any("psn_no" in obj for obj in walk(request["input"]))


def _examples_where(applies: Callable[[str, Mapping[str, Any]], object]) -> list[Any]:
    """The examples a broken-copy test applies to: cases that do not apply are not generated,
    rather than generated and skipped."""
    return [
        param
        for param in EXAMPLES
        if applies(
            param.values[0], CONTRACT.transaction(param.values[0]).examples[param.values[1]].request
        )
    ]


WITH_LONG_STRING = _examples_where(_long_string_target)
WITH_CODE = _examples_where(_code_target)
WITH_PSN_NO = _examples_where(_has_psn_no)


def test_broken_copy_tests_cover_most_transactions() -> None:
    # Guard against the filters above silently emptying the parametrized tests.
    for selected in (WITH_LONG_STRING, WITH_CODE, WITH_PSN_NO):
        assert len({param.values[0] for param in selected}) >= 15


@pytest.mark.parametrize(("infno", "index"), EXAMPLES)
def test_dropping_a_required_field_is_reported(infno: str, index: int) -> None:
    request = copy.deepcopy(dict(CONTRACT.transaction(infno).examples[index].request))
    target = _first(infno, request, lambda f: f.required)
    assert target is not None
    parts = _pointer(target.path, request)
    del _parent(request, parts)[parts[-1]]
    assert "required" in _at(_both_reject(infno, request), parts)


@pytest.mark.parametrize(("infno", "index"), WITH_LONG_STRING)
def test_an_over_long_string_is_reported(infno: str, index: int) -> None:
    request = copy.deepcopy(dict(CONTRACT.transaction(infno).examples[index].request))
    target = _long_string_target(infno, request)
    assert target is not None
    parts = _pointer(target.path, request)
    _parent(request, parts)[parts[-1]] = "9" * (target.max_length + 1)  # type: ignore[operator]
    assert "maxLength" in _at(_both_reject(infno, request), parts)


@pytest.mark.parametrize(("infno", "index"), WITH_CODE)
def test_an_unknown_code_is_reported(infno: str, index: int) -> None:
    request = copy.deepcopy(dict(CONTRACT.transaction(infno).examples[index].request))
    target = _code_target(infno, request)
    assert target is not None
    parts = _pointer(target.path, request)
    _parent(request, parts)[parts[-1]] = UNKNOWN_CODE
    assert _at(_both_reject(infno, request), parts) & {"enum", "anyOf"}


@pytest.mark.parametrize(("infno", "index"), EXAMPLES)
def test_an_unknown_member_is_reported(infno: str, index: int) -> None:
    request = copy.deepcopy(dict(CONTRACT.transaction(infno).examples[index].request))
    node_name, node = next(iter(request["input"].items()))
    row, parts = (node[0], ("input", node_name, "0")) if isinstance(node, list) else (node, ())
    row["psn_nmae"] = "x"
    parts = parts or ("input", node_name)
    assert "additionalProperties" in _at(_both_reject(infno, request), parts)
    request = copy.deepcopy(dict(CONTRACT.transaction(infno).examples[index].request))
    request["input"]["datas"] = {}
    assert "additionalProperties" in _at(_both_reject(infno, request), ("input",))


def test_social_security_card_needs_card_sn() -> None:
    request = copy.deepcopy(dict(CONTRACT.transaction("1101").examples[1].request))
    assert request["input"]["data"]["mdtrt_cert_type"] == "03"
    request["input"]["data"]["card_sn"] = None
    assert _at(_both_reject("1101", request), ("input", "data", "card_sn"))
    del request["input"]["data"]["card_sn"]
    assert "required" in _at(_both_reject("1101", request), ("input", "data", "card_sn"))


@pytest.mark.parametrize(("infno", "index"), WITH_PSN_NO)
def test_blank_insured_area_is_reported_when_input_has_psn_no(infno: str, index: int) -> None:
    request = copy.deepcopy(dict(CONTRACT.transaction(infno).examples[index].request))
    request["insuplc_admdvs"] = ""
    assert "insuplc-when-psn" in _at(spec.validate_request(request), ("insuplc_admdvs",))


def test_empty_fee_detail_is_rejected() -> None:
    request = copy.deepcopy(dict(CONTRACT.transaction("2204").examples[0].request))
    request["input"]["feedetail"] = []
    assert "minItems" in _at(_both_reject("2204", request), ("input", "feedetail"))


# -- output shape variants ------------------------------------------------------------------------


def test_2208_answer_validates_with_either_cash_spelling_but_not_without() -> None:
    response = copy.deepcopy(dict(CONTRACT.transaction("2208").examples[0].response))
    setlinfo = response["output"]["setlinfo"]
    setlinfo["pdn_cash_pay"] = setlinfo.pop("psn_cash_pay")
    assert spec.validate_response(response, "2208") == []
    del setlinfo["pdn_cash_pay"]
    issues = spec.validate_response(response, "2208")
    assert "required" in _at(issues, ("output", "setlinfo", "psn_cash_pay"))


def test_9002_answer_may_be_flat() -> None:
    response = copy.deepcopy(dict(CONTRACT.transaction("9002").examples[0].response))
    response["output"] = {"sign_time": response["output"]["signoutoutb"]["sign_time"]}
    assert spec.validate_response(response, "9002") == []
    response["output"] = {}
    assert "required" in _at(spec.validate_response(response, "9002"), ("output", "signoutoutb"))


def test_9102_example_is_a_json_error_because_success_is_a_zip() -> None:
    t = CONTRACT.transaction("9102")
    assert t.response_body == "file"
    assert t.examples[0].response["infcode"] == -1
    assert t.examples[0].response["err_msg"]


def test_9101_example_uploads_a_real_zip_of_the_3202_rows() -> None:
    upload = CONTRACT.transaction("9101").examples[0].request["input"]["fsUploadIn"]
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(upload["in"], validate=True)))
    (name,) = archive.namelist()
    rows = [line.split("\t") for line in archive.read(name).decode("utf-8").splitlines()]
    assert all(len(row) == 7 for row in rows)
    detail = decimal_example("3202")["request"]["input"]["data"]
    assert len(rows) == detail["fixmedins_setl_cnt"]
    assert sum(Decimal(r[3]) for r in rows) == detail["medfee_sumamt"]
    assert sum(Decimal(r[4]) for r in rows) == detail["fund_pay_sumamt"]
    acct = sum(Decimal(r[5]) for r in rows)
    assert detail["cash_payamt"] == detail["medfee_sumamt"] - detail["fund_pay_sumamt"] - acct
    totals = decimal_example("3201")["request"]["input"]["data"]
    assert (totals["medfee_sumamt"], totals["acct_pay"]) == (detail["medfee_sumamt"], acct)


# -- amounts (reference §5.8) -------------------------------------------------------------------


def _setlinfos() -> Iterator[Any]:
    for infno, transaction in sorted(CONTRACT.transactions.items()):
        for index in range(len(transaction.examples)):
            output = decimal_example(infno, index)["response"].get("output") or {}
            if "setlinfo" in output:
                yield pytest.param(infno, output, id=f"{infno}-{index}")


def _cash(setlinfo: Mapping[str, Any]) -> Decimal:
    value = setlinfo.get("psn_cash_pay", setlinfo.get("pdn_cash_pay"))
    assert isinstance(value, Decimal | int)
    return Decimal(value)


@pytest.mark.parametrize(("infno", "output"), list(_setlinfos()))
def test_settlement_amounts_satisfy_the_identities(infno: str, output: Mapping[str, Any]) -> None:
    s = output["setlinfo"]
    assert s["medfee_sumamt"] == sum(s[k] for k in SCOPE_FIELDS)
    assert s["fund_pay_sumamt"] == sum(s.get(k) or 0 for k in FUND_FIELDS)
    # 5203 answers in its table's shape: psn_pay and cash_payamt stand for the person's part
    part = s["psn_part_amt"] if "psn_part_amt" in s else s["psn_pay"]
    assert part == s["medfee_sumamt"] - s["fund_pay_sumamt"] - s.get("hosp_part_amt", 0)
    cash = _cash(s) if "cash_payamt" not in s else s["cash_payamt"]
    assert cash == part - s["acct_pay"] - (s["acct_mulaid_pay"] or 0)
    rows = output["setldetail"]
    pooling = [r for r in rows if r["fund_pay_type"] not in ACCOUNT_FUNDS | {HOSPITAL_FUND}]
    assert sum(r["fund_payamt"] for r in pooling) == s["fund_pay_sumamt"]
    account = [r for r in rows if r["fund_pay_type"] in ACCOUNT_FUNDS]
    assert sum(r["fund_payamt"] for r in account) == s["acct_pay"]


def _results() -> Iterator[Any]:
    for infno in ("2204", "2301"):
        for index, example in enumerate(decimal_examples(infno)):
            for row in example["response"]["output"]["result"]:
                yield pytest.param(row, id=f"{infno}-{index}-{row['feedetl_sn']}")


@pytest.mark.parametrize("row", list(_results()))
def test_fee_line_results_split_the_line_exactly(row: Mapping[str, Any]) -> None:
    parts = ("fulamt_ownpay_amt", "overlmt_amt", "preselfpay_amt", "inscp_scp_amt")
    assert row["det_item_fee_sumamt"] == sum(row[k] for k in parts)
    assert row["det_item_fee_sumamt"] == (row["pric"] * row["cnt"]).quantize(Decimal("0.01"))
    if row["chrgitm_lv"] == "03":
        assert row["fulamt_ownpay_amt"] == row["det_item_fee_sumamt"]


@pytest.mark.parametrize(
    ("lines", "pre", "settle"), [("2204", "2206", "2207"), ("2301", "2303", "2304")]
)
def test_settlement_echoes_the_priced_lines(lines: str, pre: str, settle: str) -> None:
    results = decimal_example(lines)["response"]["output"]["result"]
    sums = {
        "medfee_sumamt": sum(r["det_item_fee_sumamt"] for r in results),
        "fulamt_ownpay_amt": sum(r["fulamt_ownpay_amt"] for r in results),
        "overlmt_selfpay": sum(r["overlmt_amt"] for r in results),
        "preselfpay_amt": sum(r["preselfpay_amt"] for r in results),
        "inscp_scp_amt": sum(r["inscp_scp_amt"] for r in results),
    }
    settled = decimal_example(settle)
    assert {k: settled["request"]["input"]["data"][k] for k in sums} == sums
    pre_info = decimal_example(pre)["response"]["output"]["setlinfo"]
    settled_info = settled["response"]["output"]["setlinfo"]
    amounts = [k for k, v in settled_info.items() if isinstance(v, Decimal | int) and k != "age"]
    assert {k: pre_info[k] for k in amounts} == {k: settled_info[k] for k in amounts}
    assert (pre_info["setl_id"], pre_info["medins_setl_id"]) == (None, None)
    assert settled_info["medins_setl_id"] == settled["request"]["msgid"]


@pytest.mark.parametrize(("settle", "cancel"), [("2207", "2208"), ("2304", "2305")])
def test_cancellation_negates_the_settlement(settle: str, cancel: str) -> None:
    original = decimal_example(settle)["response"]["output"]
    cancelled = decimal_example(cancel)
    reverse = cancelled["response"]["output"]
    request = cancelled["request"]["input"]["data"]
    assert request["setl_id"] == original["setlinfo"]["setl_id"]
    for key, value in reverse["setlinfo"].items():
        if isinstance(value, Decimal | int) and key not in NOT_NEGATED:
            assert value == -original["setlinfo"][key], key
    expected_balance = original["setlinfo"]["balc"] + original["setlinfo"]["acct_pay"]
    assert reverse["setlinfo"]["balc"] == expected_balance
    assert reverse["setlinfo"]["medins_setl_id"] == cancelled["request"]["msgid"]
    paid = sorted(r["fund_payamt"] for r in original["setldetail"])
    assert sorted(-r["fund_payamt"] for r in reverse["setldetail"]) == paid


# -- errors.json --------------------------------------------------------------------------------


def errors_document() -> dict[str, Any]:
    return decimal_documents()[CONTRACT.uri("errors.json")]


def test_error_catalogue_entries_match_its_schema() -> None:
    document = errors_document()
    entry = reference_validator({"$ref": CONTRACT.uri("errors.json") + "#/$defs/error"})
    for error in document["x-errors"]:
        assert list(entry.iter_errors(error)) == [], error["id"]
        assert error["id"].split(".")[0] == error["layer"]
    ids = [e["id"] for e in document["x-errors"]]
    assert len(ids) == len(set(ids))


def test_error_catalogue_covers_the_platform_answers() -> None:
    ids = {e["id"] for e in errors_document()["x-errors"]}
    assert ids >= {
        "gateway.signature_mismatch", "gateway.stale_timestamp", "gateway.unknown_paasid",
        "gateway.replayed_nonce", "gateway.missing_header",
        "envelope.validation_failed", "envelope.unknown_infno", "envelope.sign_in_missing",
        "envelope.sign_in_expired", "envelope.duplicate_msgid",
        "business.visit_not_found", "business.illegal_state", "business.amount_mismatch",
        "business.reversal_original_not_found", "business.not_reversible",
        "business.insured_place_offline", "business.person_not_found",
        "business.certificate_invalid", "business.not_filed",
    }  # fmt: skip


def test_only_the_three_gateway_wordings_are_confirmed() -> None:
    confirmed = {e["err_msg"] for e in errors_document()["x-errors"] if e["confirmed"]}
    assert confirmed == {"签名不一致", "签名时间戳超时", "非法用户"}
    for error in errors_document()["x-errors"]:
        if not error["confirmed"]:
            assert "inference" in error["source"], error["id"]


def test_error_catalogue_names_real_transactions() -> None:
    for error in errors_document()["x-errors"]:
        for infno in error.get("applies_to", []):
            assert infno in CONTRACT.transactions, (error["id"], infno)
        if error["infcode"] == 0:
            assert error["carried_in"] == "warn_msg"


def test_reversal_of_an_unknown_msgid_is_a_success_with_a_note() -> None:
    (entry,) = [
        e
        for e in errors_document()["x-errors"]
        if e["id"] == "business.reversal_original_not_found"
    ]
    assert (entry["infcode"], entry["applies_to"]) == (0, ["2601"])


def test_error_catalogue_is_not_mistaken_for_a_transaction_or_code_table() -> None:
    assert CONTRACT.uri("errors.json") in CONTRACT.documents
    assert all(not t.schema_id.endswith("errors.json") for t in CONTRACT.transactions.values())
    assert "errors" not in CONTRACT.codes
