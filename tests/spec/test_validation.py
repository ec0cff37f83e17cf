"""Bad input yields every error with its path and rule — never a traceback."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from nhsa import spec
from nhsa.spec import Example


def _pointers(issues: list[spec.ValidationIssue]) -> dict[str, str]:
    return {i.pointer: i.rule for i in issues}


def test_bundled_2207_example_is_valid(example_of: Callable[[str], Example]) -> None:
    example = example_of("2207")
    assert spec.validate_request(example.request) == []
    assert spec.validate_response(example.response, "2207") == []


def test_every_kind_of_error_is_reported_at_its_path(example_of: Callable[[str], Example]) -> None:
    request = example_of("2207").request
    data = request["input"]["data"]
    data["medfee_sumamt"] = "120.00"  # wrong type: amounts are JSON numbers
    data["psn_no"] = "P" * 31  # over-long
    del data["chrg_bchno"]  # missing required
    data["med_type"] = "99"  # unknown code
    data["psn_setlway"] = 1  # wrong type for a code
    request["opter_type"] = "4"
    issues = spec.validate_request(request)
    assert {(i.pointer, i.rule) for i in issues} == {
        ("/input/data/medfee_sumamt", "type"),
        ("/input/data/psn_no", "maxLength"),
        ("/input/data/chrg_bchno", "required"),
        ("/input/data/med_type", "enum"),
        ("/input/data/psn_setlway", "type"),
        ("/input/data/psn_setlway", "enum"),
        ("/opter_type", "enum"),
    }
    messages = {i.pointer: i.message for i in issues}
    assert messages["/input/data/chrg_bchno"] == "chrg_bchno: required field is missing"
    assert "not a code of med_type" in messages["/input/data/med_type"]
    assert "longer than 30" in messages["/input/data/psn_no"]


def test_amounts_with_more_than_two_decimals_are_rejected(
    example_of: Callable[[str], Example],
) -> None:
    request = example_of("2207").request
    request["input"]["data"]["medfee_sumamt"] = 120.001
    assert _pointers(spec.validate_request(request)) == {"/input/data/medfee_sumamt": "multipleOf"}


def test_misspelt_envelope_field_is_named(example_of: Callable[[str], Example]) -> None:
    request = example_of("2207").request
    request["mdtrt_area_admvs"] = request.pop("mdtrtarea_admvs")
    issues = spec.validate_request(request)
    assert {(i.pointer, i.rule) for i in issues} == {
        ("/mdtrtarea_admvs", "required"),
        ("", "additionalProperties"),
    }
    assert any("mdtrt_area_admvs" in i.message for i in issues)


def test_insured_area_is_required_when_input_carries_psn_no(
    example_of: Callable[[str], Example],
) -> None:
    request = example_of("2207").request
    request["insuplc_admdvs"] = ""
    issues = spec.validate_request(request)
    assert _pointers(issues) == {"/insuplc_admdvs": "insuplc-when-psn"}
    assert "1101" in issues[0].message


def test_msgid_must_start_with_the_institution_code(example_of: Callable[[str], Example]) -> None:
    request = example_of("2207").request
    request["msgid"] = "H53010100002" + request["msgid"][12:]
    assert _pointers(spec.validate_request(request)) == {"/msgid": "msgid-prefix"}


def test_bad_formats_are_reported(example_of: Callable[[str], Example]) -> None:
    request = example_of("2207").request
    request["inf_time"] = "2026-11-23T10:15:30"
    request["msgid"] = request["msgid"][:-1]
    rules = {(i.pointer, i.rule) for i in spec.validate_request(request)}
    assert rules == {("/inf_time", "pattern"), ("/msgid", "pattern"), ("/msgid", "minLength")}


def test_input_over_40000_characters_is_rejected(example_of: Callable[[str], Example]) -> None:
    request = example_of("2207").request
    request["input"]["data"]["exp_content"] = "x" * 4000
    assert spec.validate_request(request) == []
    request["input"]["padding"] = "x" * 40000
    assert ("/input", "input-size") in {(i.pointer, i.rule) for i in spec.validate_request(request)}


def test_unknown_infno_is_named(example_of: Callable[[str], Example]) -> None:
    request = example_of("2207").request
    request["infno"] = "9999"
    issues = spec.validate_request(request)
    assert ("/infno", "known-transaction") in {(i.pointer, i.rule) for i in issues}


@pytest.mark.parametrize("message", [None, [], "x", 3])
def test_non_objects_are_one_clear_error(message: object) -> None:
    (issue,) = spec.validate_request(message)
    assert issue.rule == "type"


@pytest.mark.parametrize(
    ("raw", "rule"),
    [(b'{"infno": }', "json"), (b"\xff\xfe", "encoding"), (b"", "json")],
)
def test_malformed_json_is_an_issue_not_a_traceback(raw: bytes, rule: str) -> None:
    value, issues = spec.parse_json(raw)
    assert value is None
    assert [i.rule for i in issues] == [rule]


def test_response_accepts_infcode_as_string_and_failures_without_output(
    example_of: Callable[[str], Example],
) -> None:
    response = example_of("2207").response
    response["infcode"] = "0"
    assert spec.validate_response(response, "2207") == []
    failure = {"infcode": -1, "err_msg": "就诊信息不存在", "output": None, "inf_refmsgid": ""}
    assert spec.validate_response(failure, "2207") == []


def test_successful_response_must_carry_the_outputs_nodes(
    example_of: Callable[[str], Example],
) -> None:
    response = example_of("2207").response
    del response["output"]["setlinfo"]["setl_id"]
    response["output"]["setldetail"][0]["fund_payamt"] = "72.80"
    assert _pointers(spec.validate_response(response, "2207")) == {
        "/output/setlinfo/setl_id": "required",
        "/output/setldetail/0/fund_payamt": "type",
    }


def test_response_tolerates_unknown_members(example_of: Callable[[str], Example]) -> None:
    response = example_of("2207").response
    response["enctype"] = ""
    response["output"]["expContent"] = None
    assert spec.validate_response(response, "2207") == []


def test_unknown_transaction_for_response_check_raises_a_named_error() -> None:
    with pytest.raises(spec.UnknownTransactionError, match="unknown transaction '0000'"):
        spec.validate_response({"infcode": 0}, "0000")


def test_code_tables_look_up_names() -> None:
    assert spec.code_table("med_type").name_of("11") == "普通门诊"
    with pytest.raises(KeyError, match="'999' is not a code of insutype"):
        spec.code_table("insutype").name_of("999")
    with pytest.raises(KeyError, match="unknown code table"):
        spec.code_table("nope")


def test_validators_are_compiled_once(spec_contract: spec.Contract) -> None:
    validators = spec_contract.validators
    assert validators is spec_contract.validators
    example = spec_contract.transaction("2207").examples[0]
    validators.check_request(example.request)
    compiled = dict(validators._compiled)
    validators.check_request(example.request)
    assert validators._compiled == compiled
    assert validators.is_valid_request(example.request)


def test_input_size_limit_is_per_transaction(spec_contract: spec.Contract) -> None:
    upload = json.loads(json.dumps(dict(spec_contract.transaction("9101").examples[0].request)))
    upload["input"]["fsUploadIn"]["in"] = "A" * 200_000
    assert spec_contract.transaction("9101").input_max_chars == 1_000_000
    rules = {(i.pointer, i.rule) for i in spec.validate_request(upload)}
    assert ("/input", "input-size") not in rules


def test_composite_failures_do_not_print_the_instance(spec_contract: spec.Contract) -> None:
    response = json.loads(json.dumps(dict(spec_contract.transaction("2207").examples[0].response)))
    secret = response["output"]["setlinfo"]["certno"]
    response["output"]["setldetail"][0]["inscp_scp_amt"] = "x"  # anyOf [money, null]
    issues = spec.validate_response(response, "2207")
    assert issues
    assert all(secret not in i.message for i in issues)


def test_walker_steps_into_list_indices(spec_contract: spec.Contract) -> None:
    location = spec_contract.uri("transactions/2207.json") + "#/examples/0/request"
    assert spec.schema_at(spec_contract, location)["infno"] == "2207"


@pytest.mark.parametrize(
    ("time", "accepted"),
    [
        ("20261123100211", True),  # the moment inf_time says
        ("20261123095712", True),  # 299 s before: inside the replay window
        ("20261123095710", False),  # 301 s before: an older message's msgid
        ("20261124100000", True),  # ahead: a generator counting on after the clock stepped back
        ("20261125100212", False),  # more than a day ahead
        ("20260230120000", False),  # matches the pattern, but there is no 30 February
    ],
)
def test_the_msgid_time_is_a_real_time_near_inf_time(
    example_of: Callable[[str], Example], time: str, accepted: bool
) -> None:
    # The rule msgid-time was stated in the contract and checked nowhere.
    message = example_of("2201").request
    assert message["inf_time"] == "2026-11-23 10:02:11"
    message["msgid"] = f"{message['msgid'][:12]}{time}0001"
    rules = [issue.rule for issue in spec.validate_request(message)]
    assert rules == ([] if accepted else ["msgid-time"])
