"""The reading rule, member by member: a definite success stays a success whatever its shape.

Every transaction's contract example answer is read with each output member removed, nulled,
given a local code or joined by an unknown member: each is still :class:`Succeeded`, with
exactly the warning the change deserves, and unusable exactly when a load-bearing member is
gone. Only what is not an answer at all stays :class:`Unknown`.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from nhsa.client import LOAD_BEARING, Succeeded, Unknown
from nhsa.client._classify import AnswerPatterns, classify
from nhsa.spec import FieldSpec, contract, iter_fields, resolve_ref, schema_at

CONTRACT = contract()
README = Path(__file__).resolve().parents[2] / "README.md"
SUCCESS_EXAMPLES = sorted(
    (infno, transaction.examples[0])
    for infno, transaction in CONTRACT.transactions.items()
    if transaction.response_body == "json" and transaction.examples[0].response["infcode"] == 0
)
EXAMPLE_IDS = [infno for infno, _ in SUCCESS_EXAMPLES]
UNKNOWN_CODE = "ZZ99"


def read(infno: str, envelope: Any, msgid: str) -> Any:
    return classify(
        httpx.Response(200, content=orjson.dumps(envelope)),
        infno=infno,
        msgid=msgid,
        patterns=AnswerPatterns(),
        verify=None,
        response_body="json",
    )


def _locations(node: Any, path: list[str]) -> Iterator[list[str | int]]:
    """The concrete location of a field path in an answer's output: first list item only."""
    if not path:
        yield []
        return
    step, rest = path[0], path[1:]
    name, _, bracket = step.partition("[")
    if not isinstance(node, dict) or name not in node:
        return
    if bracket:
        items = node[name]
        if isinstance(items, list) and items:
            for tail in _locations(items[0], rest):
                yield [name, 0, *tail]
        return
    for tail in _locations(node[name], rest):
        yield [name, *tail]


def _parent(output: Any, location: list[str | int]) -> Any:
    node = output
    for step in location[:-1]:
        node = node[step]
    return node


def _pointer(location: list[str | int]) -> str:
    return "/output/" + "/".join(str(step) for step in location)


def _lost(infno: str, field: FieldSpec) -> set[str]:
    """Load-bearing members that disappear with ``field``: itself, or members of the object it
    is (members of a list's items go with the list: no item is left to lack them)."""
    prefix = field.path
    return {
        need.member
        for need in LOAD_BEARING.get(infno, ())
        if not need.names_msgid and (need.member == prefix or need.member.startswith(prefix + "."))
    }


def _required(field: FieldSpec, fields: dict[str, FieldSpec], output: Any) -> bool:
    """Required outright, or by the owner's ``if``/``then`` (psn_cash_pay unless pdn_cash_pay,
    signoutoutb unless a flat sign_time): the answer lacks both spellings once it is gone."""
    if field.required:
        return True
    owner_path, _, _ = field.path.rpartition(".")
    owner = fields.get(owner_path)
    if owner_path and owner is None:  # an item of a list: no list items use if/then
        return False
    schema, location = (owner.schema, owner.location) if owner else (output, "")
    parts = [schema] + [
        schema_at(CONTRACT, resolve_ref(part["$ref"], location))
        for part in schema.get("allOf", [])
        if "$ref" in part
    ]
    return any(field.name in part.get("then", {}).get("required", []) for part in parts)


def _generic(member: str) -> str:
    return re.sub(r"\[\d+\]", "[]", member)


@pytest.mark.parametrize(
    ("infno", "example"), SUCCESS_EXAMPLES, ids=[i for i, _ in SUCCESS_EXAMPLES]
)
def test_each_member_removed_nulled_or_locally_coded_is_still_a_success(
    infno: str, example: Any
) -> None:
    transaction = CONTRACT.transaction(infno)
    fields = list(iter_fields(CONTRACT, f"{transaction.schema_id}#/$defs/output"))
    by_path = {field.path: field for field in fields}
    msgid = example.request["msgid"]
    assert read(infno, example.response, msgid).warnings == ()
    checked = 0
    for field in fields:
        for location in _locations(example.response["output"], field.path.split(".")):
            mutations = ["remove", "null"] + (["code"] if field.code_table else [])
            for mutation in mutations:
                answer = copy.deepcopy(example.response)
                parent = _parent(answer["output"], location)
                if mutation == "remove":
                    del parent[location[-1]]
                    required = _required(field, by_path, transaction.output_schema)
                    expected = [("missing", _pointer(location))] if required else []
                elif mutation == "null":
                    parent[location[-1]] = None
                    expected = [] if field.nullable else [("null", _pointer(location))]
                else:
                    parent[location[-1]] = UNKNOWN_CODE
                    expected = [("unknown-code", _pointer(location))]
                outcome = read(infno, answer, msgid)
                where = f"{infno} {field.path} {mutation}"
                assert isinstance(outcome, Succeeded), where
                assert [(w.kind, w.pointer) for w in outcome.warnings] == expected, where
                lost = _lost(infno, field) if mutation != "code" else set()
                assert {_generic(s.member) for s in outcome.unusable} == lost, where
                checked += 1
    assert checked >= len(fields) or not fields


@pytest.mark.parametrize(
    ("infno", "example"), SUCCESS_EXAMPLES, ids=[i for i, _ in SUCCESS_EXAMPLES]
)
def test_unknown_members_are_kept_and_warned(infno: str, example: Any) -> None:
    answer = copy.deepcopy(example.response)
    answer["expContent"] = None
    pointers = []
    for name, node in (answer["output"] or {}).items():
        rows = node if isinstance(node, list) else [node]
        if rows and isinstance(rows[0], dict):
            rows[0]["local_member"] = "省级扩展"
            pointers.append(f"/output/{name}" + ("/0" if isinstance(node, list) else ""))
    outcome = read(infno, answer, example.request["msgid"])
    assert isinstance(outcome, Succeeded)
    assert outcome.usable
    assert [(w.kind, w.pointer) for w in outcome.warnings] == [
        ("unknown-member", f"{p}/local_member") for p in pointers
    ]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"infcode":0,"output":{"setlinfo":{}},}', "malformed answer"),  # B's 2203A, not JSON
        (b'{"err_msg":null,"output":{}}', "infcode: missing"),
        (b'{"infcode":"success","output":{}}', "is not a number"),
        (b'{"infcode":0,"output":[]}', "output is an object"),
        (
            orjson.dumps({"infcode": 0, "output": CONTRACT.transaction("1101").examples[0]
                          .response["output"]}),
            "none of 2207's nodes",
        ),
    ],
)  # fmt: skip
def test_what_is_not_an_answer_stays_unknown(body: bytes, reason: str) -> None:
    outcome = classify(
        httpx.Response(200, content=body),
        infno="2207",
        msgid="H53010100001202611231015300001",
        patterns=AnswerPatterns(),
        verify=None,
        response_body="json",
    )
    assert isinstance(outcome, Unknown)
    assert reason in outcome.reason


def test_readme_lists_every_load_bearing_member() -> None:
    text = README.read_text("utf-8")
    section = text.split("- **Reading answers**", 1)[1].split("- **Journal**", 1)[0]
    rows = [line for line in section.splitlines() if line.strip().startswith("| ")]
    for infno, needs in LOAD_BEARING.items():
        row = next((r for r in rows if re.search(rf"\b{infno}\b", r.split("|")[1])), None)
        assert row is not None, f"README has no load-bearing row for {infno}"
        for need in needs:
            assert f"`{need.member}`" in row, f"README's {infno} row lacks {need.member}"
