"""Translating between the contract and each dialect: what the SDK renders the mock decodes
back to the same national message, and what the mock encodes the SDK reads back the same."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import orjson
import pytest

from nhsa import spec
from nhsa.envelope import (
    DialectRenderError,
    decode_answer,
    decode_request,
    encode_answer,
    fill_envelope,
    gateway_refusal_body,
    parse_response,
    read_shape,
    render_request,
)

DIALECTS = spec.dialect_names()
EXAMPLES = [
    (infno, example)
    for infno, transaction in sorted(spec.contract().transactions.items())
    for example in transaction.examples
]


def _extras(dialect: spec.Dialect, message: dict[str, Any]) -> dict[str, Any]:
    """A value for every extra member the dialect requires of ``message``."""
    extras: dict[str, Any] = {}
    for name, node in message["input"].items():
        rows = node if isinstance(node, list) else [node]
        for index, _ in enumerate(rows):
            for extra in dialect.extras_for(message["infno"], name, "request"):
                key = (
                    f"{name}/{index}/{extra.member}"
                    if isinstance(node, list)
                    else f"{name}/{extra.member}"
                )
                extras[key] = "示例名称"[: extra.max_length or 4]
    return extras


@pytest.mark.parametrize("name", DIALECTS)
@pytest.mark.parametrize(("infno", "example"), EXAMPLES, ids=lambda v: getattr(v, "name", v))
def test_what_the_sdk_renders_the_mock_reads_back_as_the_same_national_message(
    name: str, infno: str, example: spec.Example
) -> None:
    dialect = spec.dialect(name)
    configured = {m.member: "某软件有限公司" for m in dialect.envelope if m.fill == "config"}
    national = fill_envelope(dialect, {**copy.deepcopy(dict(example.request)), **configured})
    assert spec.validate_request(orjson.loads(orjson.dumps(national))) == []
    rendered = render_request(dialect, national, _extras(dialect, national))
    read, issues = decode_request(dialect, orjson.loads(orjson.dumps(rendered)))
    assert issues == []
    assert read == orjson.loads(orjson.dumps(national))


@pytest.mark.parametrize("name", DIALECTS)
@pytest.mark.parametrize(("infno", "example"), EXAMPLES, ids=lambda v: getattr(v, "name", v))
def test_what_the_mock_encodes_the_sdk_reads_back_as_the_same_national_answer(
    name: str, infno: str, example: spec.Example
) -> None:
    dialect = spec.dialect(name)
    answer = dict(example.response)
    sent = orjson.dumps(encode_answer(dialect, infno, answer))
    read = parse_response(sent, infno, dialect)
    national = parse_response(orjson.dumps(answer), infno)
    assert read.infcode == national.infcode
    assert read.output == national.output
    assert {w.kind for w in read.warnings} <= {w.kind for w in national.warnings} | set(
        spec_kinds_of(dialect)
    )


def spec_kinds_of(dialect: spec.Dialect) -> tuple[str, ...]:
    """The warning kinds a dialect's own spelling brings (nothing else may appear)."""
    return ("dialect-renamed", "local-code") if not dialect.is_national else ()


# -- a national request is not in a province's dialect ----------------------------------------


def _example(infno: str) -> dict[str, Any]:
    return copy.deepcopy(dict(spec.contract().transaction(infno).examples[0].request))


NOT_IN_DIALECT = [
    ("guangdong", "3201", "/input/data/refd_setl_flag", "dialect-spelling", "REFD_SETL_FLAG"),
    ("guangdong", "9001", "/recer_admdvs", "required-by-dialect", "recer_admdvs"),
    ("guangzhou", "2201", "/input/data", "dialect-node", "mdtrtinfo"),
    ("jiangsu", "9001", "/fixmedins_soft_fcty", "required-by-dialect", "fixmedins_soft_fcty"),
    (
        "guangdong",
        "2204",
        "/input/feedetail/0/medins_list_name",
        "required-by-dialect",
        "医疗机构目录名称",
    ),
]


@pytest.mark.parametrize(("name", "infno", "pointer", "rule", "named"), NOT_IN_DIALECT)
def test_a_national_request_is_not_in_a_province_dialect_and_the_member_is_named(
    name: str, infno: str, pointer: str, rule: str, named: str
) -> None:
    _, issues = decode_request(spec.dialect(name), _example(infno))
    found = [i for i in issues if i.pointer == pointer]
    assert [i.rule for i in found] == [rule]
    assert named in found[0].message
    assert name in found[0].message


def test_sichuan_takes_exp_content_as_expContent_and_a_json_object() -> None:
    sichuan = spec.dialect("sichuan")
    message = _example("2201")
    message["input"]["data"]["exp_content"] = '{"card_token":"CT-1"}'
    rendered = render_request(sichuan, message)
    assert rendered["input"]["data"]["expContent"] == {"card_token": "CT-1"}
    assert "exp_content" not in rendered["input"]["data"]
    national, issues = decode_request(sichuan, rendered)
    assert issues == []
    assert orjson.loads(national["input"]["data"]["exp_content"]) == {"card_token": "CT-1"}
    _, issues = decode_request(sichuan, message)
    assert [(i.pointer, i.rule) for i in issues] == [
        ("/input/data/exp_content", "dialect-spelling")
    ]
    as_text = {**message, "input": {"data": {**message["input"]["data"], "expContent": "x"}}}
    del as_text["input"]["data"]["exp_content"]
    _, issues = decode_request(sichuan, as_text)
    assert [(i.pointer, i.rule) for i in issues] == [("/input/data/expContent", "json-object")]
    message["input"]["data"]["exp_content"] = "not json"
    with pytest.raises(DialectRenderError) as caught:
        render_request(sichuan, message)
    assert (caught.value.field, caught.value.rule) == ("data.exp_content", "json-object")


def test_a_dialect_extra_is_sent_only_where_the_dialect_has_it() -> None:
    message = _example("2204")
    rows = range(len(message["input"]["feedetail"]))
    extras = {f"feedetail/{i}/medins_list_name": f"项目{i}" for i in rows}
    guangdong = render_request(spec.dialect("guangdong"), message, extras)
    assert [row["medins_list_name"] for row in guangdong["input"]["feedetail"]] == [
        f"项目{i}" for i in rows
    ]
    national = render_request(spec.dialect(), message, extras)
    assert "medins_list_name" not in national["input"]["feedetail"][0]
    assert render_request(spec.dialect("jilin"), message, extras) == message


def test_local_codes_reach_the_engine_as_their_national_code_or_are_named() -> None:
    jilin = spec.dialect("jilin")
    message = _example("2207")
    message["input"]["data"]["med_type"] = "140104"
    national, issues = decode_request(jilin, message)
    assert (national["input"]["data"]["med_type"], issues) == ("14", [])
    message["input"]["data"]["med_type"] = "990404"
    _, issues = decode_request(jilin, message)
    assert [(i.pointer, i.rule) for i in issues] == [("/input/data/med_type", "local-code")]
    assert "门诊特检特治" in issues[0].message


def test_envelope_members_the_dialect_fills_and_those_it_leaves() -> None:
    jilin = spec.dialect("jilin")
    sign_in = fill_envelope(jilin, _example("9001"))
    assert (sign_in["insuplc_admdvs"], sign_in["enc_type"]) == (sign_in["mdtrtarea_admvs"], "SM4")
    settle = fill_envelope(jilin, _example("2207"))
    assert settle["insuplc_admdvs"] == _example("2207")["insuplc_admdvs"]  # not its own area
    jiangsu = fill_envelope(spec.dialect("jiangsu"), _example("9001"))
    assert jiangsu["enc_type"] == ""
    assert "fixmedins_soft_fcty" not in jiangsu  # the configuration's, not a constant


# -- answers in a province's shapes ------------------------------------------------------------


def test_jilin_answers_warnMsg_and_spells_chrgitm_lv_without_the_zero() -> None:
    jilin = spec.dialect("jilin")
    answer = dict(spec.contract().transaction("2204").examples[0].response)
    encoded = encode_answer(jilin, "2204", answer)
    assert "warnMsg" in encoded
    assert "warn_msg" not in encoded
    levels = [row["chrgitm_lv"] for row in encoded["output"]["result"]]
    assert all(len(level) == 1 for level in levels)
    national, warnings = decode_answer(jilin, "2204", encoded)
    assert [row["chrgitm_lv"] for row in national["output"]["result"]] == [
        row["chrgitm_lv"] for row in answer["output"]["result"]
    ]
    assert {w.kind for w in warnings} == {"dialect-renamed", "local-code"}


def test_hunan_puts_its_usual_warn_msg_on_a_success_and_the_reader_takes_it_as_usual() -> None:
    hunan = spec.dialect("hunan")
    answer = dict(spec.contract().transaction("9001").examples[0].response)
    encoded = encode_answer(hunan, "9001", answer)
    assert encoded["warn_msg"] == "成功"
    assert parse_response(orjson.dumps(encoded), "9001", hunan).warnings == ()
    assert [w.kind for w in parse_response(orjson.dumps(encoded), "9001").warnings] == [
        "platform-warning"
    ]


@pytest.mark.parametrize(
    ("name", "definite"),
    [("hunan", True), ("jiangsu", True), ("guangdong", False), ("guangzhou", False)],
)
def test_a_gateway_refusal_in_the_dialect_shape_reads_as_definite_only_where_the_profile_says(
    name: str, definite: bool
) -> None:
    dialect = spec.dialect(name)
    body = gateway_refusal_body(dialect, 401, "签名不一致: …", dict)
    reading = read_shape(dialect, body)
    assert reading is not None
    assert (reading.definite_refusal, reading.message) == (definite, "签名不一致: …")


def test_without_a_gateway_shape_a_gateway_refusal_is_an_envelope() -> None:
    envelope = {"infcode": -1, "err_msg": "缺少请求头"}
    assert (
        gateway_refusal_body(spec.dialect("jilin"), 401, "缺少请求头", lambda: envelope) == envelope
    )
    assert read_shape(spec.dialect("jilin"), envelope) is None


def test_a_request_holding_decimal_amounts_decodes_with_them_exact() -> None:
    message = _example("2207")
    message["input"]["data"]["medfee_sumamt"] = Decimal("120.10")
    national, issues = decode_request(spec.dialect("jilin"), message)
    assert issues == []
    assert national["input"]["data"]["medfee_sumamt"] == Decimal("120.10")
    assert isinstance(national["input"]["data"]["medfee_sumamt"], Decimal)
