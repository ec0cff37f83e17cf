"""PII redaction: structures, JSON text, escaped JSON, bytes, free text, log records."""

from __future__ import annotations

import json
import logging

import orjson
import pytest

from nhsa.redaction import RedactionFilter, get_logger, redact, remember_names

CERTNO = "440304199001011233"  # synthetic; GB 11643 check digit valid
NAME = "测试甲"
PHONE = "13800001234"
ADDRESS = "示例市示例路1号"
EC_TOKEN = "ec-token-0123456789abcdef"
SECRETS = [CERTNO, NAME, PHONE, ADDRESS, EC_TOKEN, "hunter2", "C9V8Q7", "ZG1004897052XYZ"]


def _gb11643_check(first17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights, strict=True)) % 11]


def test_the_synthetic_certno_has_a_valid_check_digit() -> None:
    assert _gb11643_check(CERTNO[:17]) == CERTNO[17]


def _patient() -> dict[str, object]:
    return {
        "psn_name": NAME,
        "certno": CERTNO,
        "mdtrt_cert_no": CERTNO,
        "card_sn": "C9V8Q7",
        "tel": PHONE,
        "conn_tel": PHONE,
        "mobilePhone": PHONE,
        "live_addr": ADDRESS,
        "ecToken": EC_TOKEN,
        "passwd": "hunter2",
        "psn_no": "44030000000000012345",
        "insutype": "310",
        "age": 36.0,
    }


def _assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, secret


def test_nested_structures_are_masked_and_the_input_is_untouched() -> None:
    original = {"infno": "2207", "input": {"data": _patient(), "list": [_patient(), 1, None]}}
    snapshot = json.dumps(original, ensure_ascii=False)
    masked = redact(original)
    _assert_clean(json.dumps(masked, ensure_ascii=False))
    assert json.dumps(original, ensure_ascii=False) == snapshot
    data = masked["input"]["data"]
    assert data["certno"] == "*" * 14 + "1233"
    assert data["conn_tel"] == "*" * 7 + "1234"
    assert data["card_sn"] == "******"  # too short to keep a tail
    assert data["psn_name"] == data["live_addr"] == data["ecToken"] == data["passwd"] == "***"
    assert (data["psn_no"], data["insutype"], data["age"]) == ("44030000000000012345", "310", 36.0)
    assert masked["input"]["list"][1:] == [1, None]


def test_tuples_stay_tuples_and_empty_values_stay_empty() -> None:
    assert redact(({"certno": ""}, {"certno": None})) == ({"certno": ""}, {"certno": None})
    assert redact({"certno": 440304199001011233}) == {"certno": "*" * 14 + "1233"}


def test_json_text_is_masked_anywhere_in_the_body() -> None:
    text = json.dumps({"output": {"setlinfo": _patient()}}, ensure_ascii=False)
    masked = redact(text)
    _assert_clean(masked)
    assert json.loads(masked)["output"]["setlinfo"]["insutype"] == "310"


def test_ascii_escaped_json_text_is_masked() -> None:
    text = json.dumps({"baseinfo": _patient()}, ensure_ascii=True)
    masked = redact(text)
    _assert_clean(masked)
    _assert_clean(json.loads(masked)["baseinfo"].__repr__())


def test_escaped_json_inside_a_string_field_is_masked() -> None:
    inner = json.dumps({"data": _patient()}, ensure_ascii=False)
    outer = json.dumps({"infno": "1101", "input": inner}, ensure_ascii=False)
    twice = json.dumps({"wrapped": outer}, ensure_ascii=False)
    for text in (outer, twice):
        masked = redact(text)
        _assert_clean(masked)
        _assert_clean(masked.encode().decode("unicode_escape", errors="ignore"))


def test_bytes_come_back_as_bytes() -> None:
    body = orjson.dumps({"input": {"data": _patient()}})
    masked = redact(body)
    assert isinstance(masked, bytes)
    _assert_clean(masked.decode())


def test_bytes_that_are_not_utf8_pass_through_scrubbed() -> None:
    body = b"\xd5\xc5 certno=" + CERTNO.encode() + b" \xff"
    masked = redact(body)
    assert masked.startswith(b"\xd5\xc5 certno=")
    assert masked.endswith(b" \xff")
    assert CERTNO.encode() not in masked


@pytest.mark.parametrize(
    "text",
    [
        'sending {"certno": "%s", "psn_name": "%s", "addr": "%s"} to the platform',
        "query certno=%s&psn_name=%s&addr=%s",
        "{'certno': '%s', 'psn_name': '%s', 'addr': '%s'}",  # a Python repr
        '{"certno":"%s","psn_name":"%s","addr":"%s"',  # truncated JSON
        '{"certno":"%s","psn_name":"%s","addr":"%s", "x": [1, 2',
        'body={\\"certno\\":\\"%s\\",\\"psn_name\\":\\"%s\\",\\"addr\\":\\"%s\\"}',
    ],
)
def test_text_that_is_not_json_is_scrubbed_by_pattern(text: str) -> None:
    masked = redact(text % (CERTNO, NAME, ADDRESS))
    _assert_clean(masked)
    assert "1233" in masked


def test_a_quoted_value_containing_an_escaped_quote_is_masked_whole() -> None:
    masked = redact('note {"addr": "示例路\\", 1号\\"", "x": 1} end')
    assert "示例路" not in masked
    assert "1号" not in masked
    assert masked.endswith('"x": 1} end')


def test_an_identity_number_in_free_text_is_masked() -> None:
    masked = redact(f"人员{CERTNO}不存在; mdtrt_id 530100000000001001 kept")
    assert CERTNO not in masked
    assert "**************1233" in masked
    assert "530100000000001001" in masked  # not a plausible date: not an identity number


def test_digits_that_fail_the_check_digit_are_left_alone() -> None:
    wrong = CERTNO[:17] + ("5" if CERTNO[17] != "5" else "6")
    assert redact(f"serial {wrong}") == f"serial {wrong}"


def test_text_without_sensitive_content_is_returned_unchanged() -> None:
    for text in ("plain message", "infno 2207 msgid H53010100001202611231015300001", ""):
        assert redact(text) == text
    assert redact(42) == 42
    assert redact(None) is None


def test_the_log_filter_masks_args_and_message() -> None:
    record = logging.LogRecord(
        "nhsa.client",
        logging.DEBUG,
        __file__,
        1,
        "request %s answer %r extra " + CERTNO,
        ({"input": {"data": _patient()}}, orjson.dumps({"output": _patient()})),
        None,
    )
    assert RedactionFilter().filter(record)
    message = record.getMessage()
    _assert_clean(message)
    assert record.args is None


def test_the_log_filter_handles_mapping_args_and_broken_format_strings() -> None:
    mapping = logging.LogRecord(
        "nhsa", logging.INFO, __file__, 1, "%(certno)s", ({"certno": CERTNO},), None
    )
    RedactionFilter().filter(mapping)
    assert mapping.getMessage() == "*" * 14 + "1233"
    broken = logging.LogRecord("nhsa", logging.INFO, __file__, 1, "%s %s", (CERTNO,), None)
    RedactionFilter().filter(broken)
    assert CERTNO not in broken.getMessage()


def test_loggers_from_get_logger_mask_before_any_handler(caplog: pytest.LogCaptureFixture) -> None:
    log = get_logger("nhsa.test.redaction")
    assert get_logger("nhsa.test.redaction") is log
    assert sum(isinstance(f, RedactionFilter) for f in log.filters) == 1
    with caplog.at_level(logging.DEBUG, logger="nhsa"):
        log.debug("patient %s", _patient())
        log.info(f"f-string body {json.dumps(_patient(), ensure_ascii=False)}")
    _assert_clean(caplog.text)
    assert len(caplog.records) == 2


@pytest.mark.parametrize("depth", [300, 990, 1100])
def test_values_nested_beyond_the_bound_are_masked_whole_never_walked(depth: int) -> None:
    # orjson refused to encode past 255 levels and the walk hit Python's recursion limit, so a
    # hostile body in a log line raised inside the logging filter.
    text = '{"certno": "' + CERTNO + '", "deep": ' + '{"a": ' * depth + "1" + "}" * depth + "}"
    masked = redact(text)
    assert CERTNO not in masked
    assert redact(text.encode()) == masked.encode()
    nested: object = {"certno": CERTNO}
    for _ in range(depth):
        nested = {"a": nested}
    assert CERTNO not in repr(redact(nested))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("结算失败：患者：测试丙已在他院结算", "结算失败：患者：***在他院结算"),
        ("患者(测试丙)本日已结算", "患者(***)本日已结算"),
        ("人员姓名=测试丙，证件号码错误", "人员姓名=***，证件号码错误"),
        ("参保人 欧阳测试 信息有误", "参保人 *** 信息有误"),
        ("患者信息不存在", "患者信息不存在"),  # a label with no separator: not a name
        ("姓名不能为空", "姓名不能为空"),
    ],
)
def test_a_name_after_a_label_is_masked_in_free_text(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_a_name_held_elsewhere_in_the_same_value_is_masked_in_its_free_text() -> None:
    record = {
        "response": {"output": {"setlinfo": {"psn_name": "测试丁"}}},
        "err_msg": "测试丁的个人账户余额不足",
        "note": '{"memo": "为测试丁退费"}',
    }
    masked = redact(record)
    assert masked["err_msg"] == "***的个人账户余额不足"
    assert "测试丁" not in masked["note"]
    assert redact("测试丁的个人账户余额不足") == "测试丁的个人账户余额不足"  # nobody said so


def test_a_remembered_name_is_masked_anywhere_and_short_ones_are_not_taken() -> None:
    remember_names("测试戊", "某", "")
    assert redact("测试戊在3号窗口缴费") == "***在3号窗口缴费"
    assert redact("某医院") == "某医院"
    assert redact({"memo": "退费：测试戊"}) == {"memo": "退费：***"}


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("Authorization: Bearer eyJhbGciOi.abc", "Authorization: Bearer ***"),
        ("authorization=Basic dXNlcjpwYXNz, next", "authorization=Basic ***, next"),
        ("header Authorization: Bearer <access_token> is missing",
         "header Authorization: Bearer *** is missing"),
        ("Authorization: s3cr3t", "Authorization: ***"),
    ],
)  # fmt: skip
def test_an_authorization_header_in_text_keeps_its_scheme_and_masks_its_credentials(
    text: str, masked: str
) -> None:
    assert redact(text) == masked
