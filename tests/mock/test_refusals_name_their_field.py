"""Every contract refusal names the field it refuses: each field of each transaction's example
request (envelope and input, list items included) is broken one way per rule the contract
gives it, sent to the mock, and the answer must be a refusal whose err_msg carries the field's
JSON pointer and name. A harness found 450 of 3,515 such answers that did not name the field.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any, Final

import httpx
import orjson
import pytest

from nhsa.envelope import dumps
from nhsa.mock import MockPlatform
from nhsa.spec import FieldSpec, contract, iter_fields
from nhsa.spec._issues import pointer_of
from tests.mock.test_app_his import KUNMING, SyntheticHis

CONTRACT = contract()
SINGLE = "/fsi/api/rsfComIfsService/callService"
_ABSENT: Final = object()


def breakages(field: FieldSpec) -> Iterator[tuple[str, object]]:
    """(rule, value) pairs, each breaking one rule the contract gives ``field``."""
    schema = field.schema
    if field.required:
        yield "required", _ABSENT
    if not field.nullable:
        yield "type (null)", None
    if field.kind == "string":
        yield "type", 12345
        if field.max_length:
            yield "maxLength", "9" * (field.max_length + 1)
        if schema.get("minLength"):
            yield "minLength", ""
        if field.pattern:
            yield "pattern", "!?"
        if field.code_table or "enum" in schema:
            yield "enum", "ZZ"
        else:
            yield "plain-text", "A\u202eB"
    elif field.kind in ("integer", "number"):
        yield "type", "x"
        if "minimum" in schema:
            yield "minimum", schema["minimum"] - 1
        if "maximum" in schema:
            yield "maximum", schema["maximum"] + 1
        if 0 < schema.get("multipleOf", 1) < 1:
            yield "multipleOf", 1 + schema["multipleOf"] / 10
    elif field.kind in ("array", "object"):
        yield "type", "x"
        if schema.get("minItems"):
            yield "minItems", []


def _place(document: dict[str, Any], path: str, value: object) -> list[str | int] | None:
    """Put ``value`` at the dotted ``path`` (``feedetail[].cnt``: the first item); return its
    pointer parts, or ``None`` when the example has no such node to put it in."""
    node: Any = document
    parts: list[str | int] = []
    steps = path.split(".")
    for step in steps[:-1]:
        name = step.removesuffix("[]")
        node = node.get(name) if isinstance(node, dict) else None
        parts.append(name)
        if step.endswith("[]"):
            if not isinstance(node, list) or not node:
                return None
            node, parts = node[0], [*parts, 0]
        if not isinstance(node, dict):
            return None
    last = steps[-1].removesuffix("[]")
    if value is _ABSENT:
        node.pop(last, None)
    else:
        node[last] = value
    return [*parts, last]


def _cases() -> Iterator[tuple[str, str, str, object]]:
    envelope = CONTRACT.uri("envelope/request.json") + "#"
    for infno, transaction in sorted(CONTRACT.transactions.items()):
        if not transaction.examples:
            continue
        fields = [("", f) for f in iter_fields(CONTRACT, envelope) if f.name != "input"]
        fields += [
            ("input.", f) for f in iter_fields(CONTRACT, f"{transaction.schema_id}#/$defs/input")
        ]
        for prefix, field in fields:
            for rule, value in breakages(field):
                yield infno, prefix + field.path, rule, value


CASES = list(_cases())


@pytest.fixture(scope="module")
def his() -> Iterator[SyntheticHis]:
    with MockPlatform(profile="none") as mock:
        mock.enroll(KUNMING)
        client = httpx.Client(transport=mock.transport, base_url=mock.base_url, timeout=10)
        his = SyntheticHis(client)
        his.sign_in()
        yield his


def test_the_generator_covers_every_transaction_and_rule() -> None:
    assert {infno for infno, *_ in CASES} == {
        infno for infno, t in CONTRACT.transactions.items() if t.examples
    }
    rules = {rule for _, _, rule, _ in CASES}
    assert {"required", "type", "maxLength", "pattern", "enum", "plain-text"} <= rules
    assert {"minimum", "maximum", "multipleOf", "minItems"} <= rules
    assert len(CASES) > 2000


def test_every_contract_refusal_names_the_field_it_refuses(his: SyntheticHis) -> None:
    unnamed: list[str] = []
    for infno, path, rule, value in CASES:
        request = copy.deepcopy(CONTRACT.transaction(infno).examples[0].request)
        request.update(
            fixmedins_code=his.code,
            fixmedins_name=his.name,
            mdtrtarea_admvs=his.area,
            sign_no=his.sign_no,
            msgid=his.new_msgid(),
        )
        parts = _place(request, path, value)
        if parts is None:
            continue
        answer = orjson.loads(his.client.post(SINGLE, content=dumps(request)).content)
        err_msg = answer.get("err_msg") or ""
        pointer, name = pointer_of(parts), str(parts[-1])
        refused = answer["infcode"] == -1
        named = name in err_msg and (pointer in err_msg or path in ("infno", "fixmedins_code"))
        if not (refused and named):
            unnamed.append(f"{infno} {pointer} ({rule}): infcode {answer['infcode']} {err_msg}")
    assert unnamed == [], f"{len(unnamed)} answers do not name their field:\n" + "\n".join(
        unnamed[:20]
    )
