"""Building requests from models and reading answers, against the bundled examples."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import orjson
import pytest
from pydantic import ValidationError

from nhsa.envelope import (
    MalformedResponseError,
    MissingInsuredAreaError,
    Operator,
    Sender,
    build_request,
    dumps,
    encode_request,
    parse_response,
)
from nhsa.models import Input2207, Input2207Data, Output2204, Output2207, Setlinfo, models_for
from nhsa.spec import Example, validate_request

HOSPITAL = Sender("H53010100001", "示例市第一人民医院", "530100")
CASHIER = Operator("1", "C0001", "收费员甲")


def _rebuild(example: Example) -> bytes:
    request = example.request
    infno = request["infno"]
    envelope = build_request(
        infno,
        models_for(infno).input.model_validate(request["input"]),
        sender=Sender(
            request["fixmedins_code"],
            request["fixmedins_name"],
            request["mdtrtarea_admvs"],
            request["recer_sys_code"],
            request["infver"],
        ),
        operator=Operator(
            request["opter_type"],
            request["opter"],
            request["opter_name"],
            request.get("dev_no"),
            request.get("dev_safe_info"),
        ),
        msgid=request["msgid"],
        inf_time=datetime.strptime(request["inf_time"], "%Y-%m-%d %H:%M:%S"),
        sign_no=request.get("sign_no"),
        insuplc_admdvs=request["insuplc_admdvs"],
    )
    return encode_request(envelope)


def test_rebuilt_example_is_valid_and_equal_to_the_original(
    example_of: Callable[[str], Example],
) -> None:
    example = example_of("2207")
    body = _rebuild(example)
    sent = orjson.loads(body)
    assert validate_request(sent) == []
    expected = {k: v for k, v in example.request.items() if v is not None}
    assert sent == {**expected, "cainfo": "", "signtype": ""}


def test_amounts_travel_as_exact_numbers() -> None:
    assert dumps({"a": Decimal("0.10"), "b": Decimal("-25.1"), "c": Decimal("0E-2")}) == (
        b'{"a":0.10,"b":-25.1,"c":0.00}'
    )
    with pytest.raises(TypeError, match="finite"):
        dumps({"a": Decimal("NaN")})


def test_request_carrying_psn_no_needs_the_insured_area(
    example_of: Callable[[str], Example],
) -> None:
    node = Input2207.model_validate(example_of("2207").request["input"])
    with pytest.raises(MissingInsuredAreaError, match="insuplc_admdvs"):
        build_request(
            "2207",
            node,
            sender=HOSPITAL,
            operator=CASHIER,
            msgid="H53010100001202611231015300001",
            inf_time=datetime(2026, 11, 23, 10, 15, 30),
        )


def test_input_model_must_match_the_transaction(example_of: Callable[[str], Example]) -> None:
    node = Input2207.model_validate(example_of("2207").request["input"])
    with pytest.raises(TypeError, match="2208 takes Input2208"):
        build_request(
            "2208",
            node,
            sender=HOSPITAL,
            operator=CASHIER,
            msgid="H53010100001202611231015300001",
            inf_time=datetime(2026, 11, 23, 10, 15, 30),
            insuplc_admdvs="440300",
        )


def test_inf_time_is_written_in_china_time(example_of: Callable[[str], Example]) -> None:
    node = Input2207.model_validate(example_of("2207").request["input"])
    envelope = build_request(
        "2207",
        node,
        sender=HOSPITAL,
        operator=CASHIER,
        msgid="H53010100001202611231015300001",
        inf_time=datetime(2026, 11, 23, 2, 15, 30, tzinfo=UTC),
        insuplc_admdvs="440300",
    )
    assert orjson.loads(encode_request(envelope))["inf_time"] == "2026-11-23 10:15:30"


def test_input_models_refuse_bad_values_before_anything_is_built(
    example_of: Callable[[str], Example],
) -> None:
    data = example_of("2207").request["input"]["data"]
    with pytest.raises(ValidationError, match="medfee_sumamt"):
        Input2207Data.model_validate({**data, "medfee_sumamt": -0.001})
    with pytest.raises(ValidationError, match="insutype"):
        Input2207Data.model_validate({**data, "insutype": "999"})


def test_parse_success_gives_typed_exact_output(example_of: Callable[[str], Example]) -> None:
    parsed = parse_response(orjson.dumps(example_of("2207").response), "2207")
    assert parsed.ok
    assert parsed.warnings == ()
    assert isinstance(parsed.output, Output2207)
    assert parsed.output.setlinfo.hifp_pay == Decimal("72.80")
    assert parsed.output.setlinfo.setl_time == datetime(2026, 11, 23, 10, 15, 30)


def test_parse_tolerates_what_real_platforms_send(example_of: Callable[[str], Example]) -> None:
    response = example_of("2207").response
    response["infcode"] = "0"
    setlinfo = response["output"]["setlinfo"]
    setlinfo["pdn_cash_pay"] = setlinfo.pop("psn_cash_pay")
    response["output"]["expContent"] = None
    response["warn_msg"] = "余额不足提醒"
    parsed = parse_response(orjson.dumps(response), "2207")
    assert parsed.ok
    assert isinstance(parsed.output, Output2207)
    assert parsed.output.setlinfo.psn_cash_pay == Decimal("0")
    assert [(w.kind, w.pointer, str(w)) for w in parsed.warnings] == [
        ("infcode-string", "/infcode", "infcode sent as a string"),
        ("platform-warning", "/warn_msg", "warn_msg: 余额不足提醒"),
        ("renamed", "/output/setlinfo/pdn_cash_pay", "pdn_cash_pay read as psn_cash_pay"),
        ("unknown-member", "/output/expContent", "expContent not in the contract; kept"),
    ]


def test_business_failure_is_read_not_raised() -> None:
    parsed = parse_response(
        b'{"infcode":-1,"err_msg":"\xe5\xb0\xb1\xe8\xaf\x8a","output":{}}', "2207"
    )
    assert (parsed.ok, parsed.infcode, parsed.output) == (False, -1, None)
    assert parsed.err_msg == "就诊"


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        (b"<html>502 Bad Gateway</html>", "json"),
        (b"", "json"),
        (b"[1,2]", "type"),
        (b'{"err_msg":"x"}', "infcode"),
        (b'{"infcode":"ok"}', "infcode"),
        (b'{"infcode":0,"output":"done"}', "type"),
        (b'{"infcode":0,"output":{"baseinfo":{"psn_no":"P1"}}}', "transaction"),
    ],
)
def test_untrustworthy_answers_raise_with_issues(body: bytes, rule: str) -> None:
    with pytest.raises(MalformedResponseError) as caught:
        parse_response(body, "2207")
    assert caught.value.issues[0].rule == rule


def test_a_value_of_the_wrong_type_is_dropped_with_a_warning(
    example_of: Callable[[str], Example],
) -> None:
    response = example_of("2207").response
    response["output"]["setlinfo"]["hifp_pay"] = "a lot"
    response["output"]["setldetail"].append(7)
    parsed = parse_response(orjson.dumps(response), "2207")
    assert isinstance(parsed.output, Output2207)
    assert parsed.output.setlinfo is not None
    assert parsed.output.setlinfo.hifp_pay is None
    assert parsed.output.setlinfo.medfee_sumamt == Decimal("120.00")
    assert parsed.output.setldetail is not None
    assert len(parsed.output.setldetail) == 2
    kinds = [(w.kind, w.pointer) for w in parsed.warnings]
    assert ("unreadable", "/output/setlinfo/hifp_pay") in kinds
    assert ("unreadable", "/output/setldetail/2") in kinds
    assert ("invalid", "/output/setlinfo/hifp_pay") in kinds


def test_however_many_values_are_unreadable_the_answer_is_read(
    example_of: Callable[[str], Example],
) -> None:
    response = example_of("2204").response
    row = response["output"]["result"][0]
    response["output"]["result"] = [
        {**row, "feedetl_sn": f"L{i:04d}", "det_item_fee_sumamt": "n/a"} for i in range(600)
    ]
    parsed = parse_response(orjson.dumps(response), "2204")
    assert isinstance(parsed.output, Output2204)
    assert parsed.output.result is not None
    assert [r.feedetl_sn for r in parsed.output.result][-1] == "L0599"
    assert all(r.det_item_fee_sumamt is None for r in parsed.output.result)
    unreadable = [w.pointer for w in parsed.warnings if w.kind == "unreadable"]
    assert unreadable == [f"/output/result/{i}/det_item_fee_sumamt" for i in range(600)]


def test_a_refusal_with_an_unreadable_err_msg_is_still_a_refusal() -> None:
    parsed = parse_response(b'{"infcode":-1,"err_msg":404}', "2207")
    assert (parsed.ok, parsed.err_msg) == (False, None)
    assert [(w.kind, w.pointer) for w in parsed.warnings] == [("unreadable", "/err_msg")]


def test_output_codes_are_read_tolerantly(example_of: Callable[[str], Example]) -> None:
    response = example_of("2207").response
    response["output"]["setlinfo"]["clr_way"] = "1"  # samples omit the leading zero
    response["output"]["setlinfo"]["psn_type"] = "116032"  # a local extension code
    parsed = parse_response(orjson.dumps(response), "2207")
    assert isinstance(parsed.output, Output2207)
    assert isinstance(parsed.output.setlinfo, Setlinfo)
    assert parsed.output.setlinfo.psn_type == "116032"


def _nested_member(body: bytes, depth: int) -> bytes:
    """``body`` with an extra member nested ``depth`` levels inside its output's first node
    (by hand: the encoders refuse such depths)."""
    deep = b'"deep":' + b'{"a":' * depth + b"1" + b"}" * depth + b","
    return body.replace(b'"setlinfo":{', b'"setlinfo":{' + deep, 1)


@pytest.mark.parametrize("depth", [40, 500, 1000])
def test_a_member_nested_too_deep_is_cut_and_the_answer_still_read(
    example_of: Callable[[str], Example], depth: int
) -> None:
    # 1,000 levels reached Python's recursion limit while reading (RecursionError escaped).
    body = _nested_member(orjson.dumps(example_of("2207").response), depth)
    parsed = parse_response(body, "2207")
    assert parsed.ok
    assert isinstance(parsed.output, Output2207)
    assert parsed.output.setlinfo is not None
    assert parsed.output.setlinfo.medfee_sumamt == Decimal("120.00")
    (cut,) = [w for w in parsed.warnings if w.kind == "too-deep"]
    assert cut.pointer == "/output/setlinfo/deep" + "/a" * 29  # 32 levels kept, the rest cut


def test_an_answer_too_deep_to_parse_is_malformed_for_its_depth(
    example_of: Callable[[str], Example],
) -> None:
    body = _nested_member(orjson.dumps(example_of("2207").response), 1100)
    with pytest.raises(MalformedResponseError) as caught:
        parse_response(body, "2207")
    assert caught.value.issues[0].rule == "max-depth"
