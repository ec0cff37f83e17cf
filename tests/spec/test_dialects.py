"""Province dialect profiles: every bundled one loads, every fact has evidence, and a broken
profile is refused at start-up naming the file, the key and the rule (one case per rule)."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from nhsa import spec
from nhsa.spec import DialectError, load_dialect
from nhsa.spec._dialects import dialects_dir

Profile = dict[str, Any]


def _raw(name: str) -> Profile:
    loaded: Profile = json.loads((dialects_dir() / f"{name}.json").read_text("utf-8"))
    return loaded


def test_the_profile_schema_is_a_json_schema_and_every_profile_follows_it() -> None:
    schema = json.loads((dialects_dir() / "dialect.schema.json").read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    for name in spec.dialect_names():
        jsonschema.validate(_raw(name), schema)


def test_the_bundled_dialects() -> None:
    assert spec.dialect_names() == (
        "national",
        "guangdong",
        "guangzhou",
        "hunan",
        "jiangsu",
        "jilin",
        "sichuan",
    )
    families = {name: spec.dialect(name).gateway.family for name in spec.dialect_names()}
    assert families == {
        "national": "tif",
        "guangdong": "tif",
        "guangzhou": "tif",
        "hunan": "csb",
        "jiangsu": "csb",
        "jilin": "bearer",
        "sichuan": "none",
    }
    assert spec.dialect().is_national
    assert spec.dialect(None).name == "national"


@pytest.mark.parametrize("name", spec.dialect_names())
def test_every_fact_of_a_profile_carries_its_evidence(name: str) -> None:
    profile = spec.dialect(name)
    facts = list(spec.iter_evidence(profile))
    assert len(facts) >= 3
    for what, evidence in facts:
        if evidence.confidence == "confirmed":
            assert len(evidence.sources) >= 2, what
        elif evidence.confidence in ("single", "thin"):
            assert evidence.sources, what
        else:
            assert evidence.note, what
        assert set(evidence.sources) <= set(profile.sources), what


def test_the_facts_the_brief_names_are_in_the_profiles() -> None:
    guangdong, jilin, sichuan = (spec.dialect(n) for n in ("guangdong", "jilin", "sichuan"))
    assert guangdong.member_alias("3201", "data", "refd_setl_flag", "request") == "REFD_SETL_FLAG"
    assert [
        e.member for e in guangdong.extras_for("2204", "feedetail", "request") if e.required
    ] == ["medins_list_name"]
    assert any(m.member == "recer_admdvs" and m.required for m in guangdong.envelope)
    assert sichuan.member_alias("2201", "data", "exp_content", "request") == "expContent"
    assert jilin.local_code("med_type", "140201").national == "14"  # type: ignore[union-attr]
    assert jilin.spelling("chrgitm_lv", "03") == "3"
    assert jilin.local_code("psn_setlway", "0202") is not None
    hunan = spec.dialect("hunan")
    assert hunan.gateway.value("api_name") == "infno"
    assert hunan.gateway.value("timestamp") == "ms"
    assert spec.dialect("jiangsu").gateway.value("timestamp") == "s"
    assert hunan.err_msg_on_success is not None
    assert {s.name: s.definite for s in hunan.shapes} == {
        "csb-gateway-refusal": True,
        "hgs-helper-error": False,
    }


def test_an_unknown_dialect_name_is_refused_listing_the_known_ones() -> None:
    with pytest.raises(DialectError, match=r"no dialect 'kunming'.*national, guangdong") as caught:
        spec.dialect("kunming")
    assert caught.value.rule == "known-dialect"


# -- a broken profile is refused, naming file, key and rule -----------------------------------

Mutation = Callable[[Profile], object]


def _set(path: str, value: object) -> Mutation:
    """Set the member at a slash path (list indexes as digits)."""

    def mutate(raw: Profile) -> None:
        *parents, last = path.strip("/").split("/")
        node: Any = raw
        for step in parents:
            node = node[int(step)] if isinstance(node, list) else node[step]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


def _append(path: str, value: object) -> Mutation:
    def mutate(raw: Profile) -> None:
        node: Any = raw
        for step in path.strip("/").split("/"):
            node = node[int(step)] if isinstance(node, list) else node[step]
        node.append(copy.deepcopy(value))

    return mutate


def _guangdong() -> Profile:
    return _raw("guangdong")


_ALIAS = _guangdong()["aliases"][0]
_CODE = _guangdong()["local_codes"][0]
_SHAPE = _guangdong()["answers"]["shapes"][0]

BROKEN: list[tuple[str, Mutation, str, str]] = [
    ("unknown key in an alias", _set("/aliases/0/nodee", "data"), "/aliases/0/nodee", "known-key"),
    ("unknown top-level key", _set("/aliasez", []), "/aliasez", "known-key"),
    ("wrong type", _set("/aliases/0/infnos", "3201"), "/aliases/0/infnos", "known-key"),
    ("name is not the file's", _set("/name", "guangzhou"), "/name", "name-matches-file"),
    (
        "undefined source",
        _set("/aliases/0/evidence/sources", ["C9"]),
        "/aliases/0/evidence/sources/0",
        "source-defined",
    ),
    (
        "confirmed on one source",
        _set("/aliases/0/evidence/sources", ["C1"]),
        "/aliases/0/evidence/confidence",
        "evidence-count",
    ),
    (
        "inference without a note",
        _set("/aliases/0/evidence", {"confidence": "inference"}),
        "/aliases/0/evidence/note",
        "evidence-count",
    ),
    (
        "unknown infno",
        _set("/aliases/0/infnos", ["3299"]),
        "/aliases/0/infnos/0",
        "known-transaction",
    ),
    (
        "envelope member the contract lacks",
        _set("/envelope/0/member", "recer_admvs"),
        "/envelope/0/member",
        "envelope-member",
    ),
    (
        "envelope value the contract refuses",
        _set("/envelope/1/fill", {"constant": "1.0.0.0.0"}),
        "/envelope/1/fill/constant",
        "contract-value",
    ),
    (
        "alias naming a member the contract does not have",
        _set("/aliases/0/member", "refd_flag"),
        "/aliases/0/member",
        "member-in-contract",
    ),
    (
        "alias of a node the transaction lacks",
        _set("/aliases/0/node", "setlinfo"),
        "/aliases/0/member",
        "member-in-contract",
    ),
    (
        "alias to its own name",
        _set("/aliases/0/alias", "refd_setl_flag"),
        "/aliases/0/alias",
        "alias-differs",
    ),
    (
        "two aliases for one name",
        _append("/aliases", {**_ALIAS, "alias": "RefdSetlFlag"}),
        "/aliases/1/member",
        "one-alias-per-name",
    ),
    (
        "one alias for two names",
        _append("/aliases", {**_ALIAS, "member": "clr_type"}),
        "/aliases/1/alias",
        "alias-unique",
    ),
    (
        "extra member in a node the transaction lacks",
        _set("/extra_members/0/node", "feedetails"),
        "/extra_members/0/node",
        "node-in-contract",
    ),
    (
        "extra member the contract already has",
        _set("/extra_members/0/member", "medins_list_codg"),
        "/extra_members/0/member",
        "extra-not-in-contract",
    ),
    (
        "unknown code table",
        _set("/local_codes/0/table", "fund_type"),
        "/local_codes/0/table",
        "code-table",
    ),
    (
        "national code as local",
        _set("/local_codes/0/code", "310100"),
        "/local_codes/0/code",
        "local-not-national",
    ),
    (
        "local code mapped to no national code",
        _set("/local_codes/0/national", "999999"),
        "/local_codes/0/national",
        "national-code",
    ),
    (
        "spelling without its national code",
        _set("/local_codes/0/kind", "spelling"),
        "/local_codes/0/national",
        "spelling-names-national",
    ),
    (
        "one local code twice",
        _append("/local_codes", _CODE),
        "/local_codes/4",
        "one-entry-per-code",
    ),
    (
        "route template without {infno}",
        _set("/routes/per_transaction/value", "/ebus/gdyb_inf/poc/hsa/hgs/"),
        "/routes/per_transaction/value",
        "route-template",
    ),
    (
        "default route it does not have",
        _set("/routes/default", "single-entry"),
        "/routes/default",
        "default-route",
    ),
    (
        "gateway parameter of another family",
        _set(
            "/gateway/token_path",
            {"value": "/t", "evidence": {"confidence": "inference", "note": "n"}},
        ),
        "/gateway/token_path",
        "gateway-param",
    ),
    (
        "wrapper without ok codes",
        _set("/answers/shapes/0", {k: v for k, v in _SHAPE.items() if k != "ok_codes"}),
        "/answers/shapes/0",
        "shape",
    ),
    (
        "two gateway shapes",
        _append("/answers/shapes", {**_SHAPE, "name": "another-front"}),
        "/answers/shapes/1/gateway",
        "one-gateway-shape",
    ),
]


@pytest.mark.parametrize(("what", "mutate", "key", "rule"), BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_profile_is_refused_naming_file_key_and_rule(
    tmp_path: Path, what: str, mutate: Mutation, key: str, rule: str
) -> None:
    raw = _guangdong()
    mutate(raw)
    path = tmp_path / "guangdong.json"
    path.write_text(json.dumps(raw, ensure_ascii=False), "utf-8")
    with pytest.raises(DialectError) as caught:
        load_dialect(path, spec.contract())
    error = caught.value
    assert (error.file, error.key, error.rule) == (str(path), key, rule), what
    assert str(error).startswith(f"{path}: {key}: ")
    assert str(error).endswith(f"(rule {rule})")


def test_every_rule_of_the_loader_has_a_case() -> None:
    from nhsa.spec import _dialects  # noqa: PLC0415 - the table lives in its docstring

    rows = (
        re.match(r"([a-z][a-z-]+) {2,}\S", line) for line in (_dialects.__doc__ or "").splitlines()
    )
    documented = {row[1] for row in rows if row and row[1] != "rule"}
    assert documented == {rule for *_, rule in BROKEN}


def test_a_profile_that_is_not_json_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"name": "broken",\n  "sources": }', "utf-8")
    with pytest.raises(DialectError, match=r"broken.json: /: line 2: .* \(rule json\)"):
        load_dialect(path, spec.contract())
