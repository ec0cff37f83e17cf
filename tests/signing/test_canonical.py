"""Locating the top-level cainfo and signtype members in raw bytes, exactly."""

from __future__ import annotations

import pytest

from nhsa.signing._canonical import locate
from nhsa.signing.errors import EmptyBodyError, MalformedBodyError


def _blank(body: bytes) -> bytes:
    return locate(body).splice(cainfo=b'""')


def test_whitespace_around_the_colon_is_tolerated_and_kept() -> None:
    body = b'{\n  "cainfo" :\t "abc",\n  "signtype":   null\n}'
    located = locate(body)
    assert located.value("cainfo") == "abc"
    assert located.value("signtype") is None
    assert _blank(body) == b'{\n  "cainfo" :\t "",\n  "signtype":   null\n}'


def test_string_values_that_mention_cainfo_are_not_keys() -> None:
    body = b'{"note":"\\"cainfo\\": \\"x\\"","cainfo":"v","signtype":"SM2"}'
    assert _blank(body) == b'{"note":"\\"cainfo\\": \\"x\\"","cainfo":"","signtype":"SM2"}'


def test_a_nested_cainfo_member_is_left_alone() -> None:
    body = b'{"output":{"cainfo":"inner","signtype":"x"},"cainfo":"outer","signtype":null}'
    located = locate(body)
    assert located.value("cainfo") == "outer"
    assert _blank(body) == (
        b'{"output":{"cainfo":"inner","signtype":"x"},"cainfo":"","signtype":null}'
    )


def test_a_nested_cainfo_after_the_top_level_one_is_left_alone() -> None:
    body = b'{"cainfo":"outer","signtype":null,"input":[{"cainfo":"inner"}]}'
    assert _blank(body) == b'{"cainfo":"","signtype":null,"input":[{"cainfo":"inner"}]}'


def test_a_key_spelled_with_unicode_escapes_is_found() -> None:
    body = b'{"c\\u0061info":"v","sign\\u0074ype":"SM2","x":"\\u4e2d"}'
    located = locate(body)
    assert located.value("cainfo") == "v"
    assert _blank(body) == b'{"c\\u0061info":"","sign\\u0074ype":"SM2","x":"\\u4e2d"}'


def test_escaped_chinese_text_keeps_the_fast_path_correct() -> None:
    body = b'{"fixmedins_name":"\\u793a\\u4f8b","cainfo":null,"signtype":null}'
    assert _blank(body) == b'{"fixmedins_name":"\\u793a\\u4f8b","cainfo":"","signtype":null}'


def test_a_string_value_with_escaped_quotes_and_backslashes_is_spanned_whole() -> None:
    body = b'{"cainfo":"a\\\\\\"b\\\\","signtype":null}'
    assert locate(body).value("cainfo") == 'a\\"b\\'
    assert _blank(body) == b'{"cainfo":"","signtype":null}'


@pytest.mark.parametrize(
    "body",
    [
        b'{"cainfo":"","cainfo":"","signtype":null}',
        b'{"cainfo":"","c\\u0061info":"","signtype":null}',
        b'{"cainfo":"","signtype":null,"signtype":"SM2"}',
    ],
)
def test_two_top_level_members_of_one_name_are_rejected(body: bytes) -> None:
    with pytest.raises(MalformedBodyError) as caught:
        locate(body)
    assert caught.value.rule == "unique"


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        (b'{"signtype":null}', "cainfo", "required"),
        (b'{"cainfo":""}', "signtype", "required"),
        (b'{"input":{"cainfo":""},"signtype":null}', "cainfo", "required"),
        (b'{"cainfo":1,"signtype":null}', "cainfo", "string-or-null"),
        (b'{"cainfo":"","signtype":["SM2"]}', "signtype", "string-or-null"),
        (b'[{"cainfo":"","signtype":null}]', "body", "object"),
        (b'{"cainfo":"","signtype":null', "body", "json"),
        (b'{"cainfo":"\xff","signtype":null}', "body", "json"),
    ],
)
def test_bodies_without_one_usable_member_are_malformed(body: bytes, field: str, rule: str) -> None:
    with pytest.raises(MalformedBodyError) as caught:
        locate(body)
    assert (caught.value.field, caught.value.rule) == (field, rule)


@pytest.mark.parametrize("body", [b"", b" \r\n\t"])
def test_an_empty_body_is_its_own_error(body: bytes) -> None:
    with pytest.raises(EmptyBodyError):
        locate(body)
