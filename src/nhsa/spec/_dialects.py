"""Loading province dialects: ``interface_specs/v1/dialects/<name>.json``, checked at start-up.

A profile is first checked against its own JSON Schema (``dialect.schema.json``: an unknown key
is refused there), then against the contract: every alias, node and local code must name what
the contract has, and none may be ambiguous. A profile that breaks a rule is refused with a
:class:`DialectError` naming the file, the key (a JSON pointer into the profile) and the rule:

=========================  ===================================================================
rule                       the profile…
=========================  ===================================================================
known-key                  has a key its schema does not define (or a value of the wrong type)
name-matches-file          names itself other than its file
source-defined             cites a source label its ``sources`` does not define
evidence-count             is ``confirmed`` on fewer than two sources, ``single``/``thin`` on
                           none, or ``inference`` without a note
known-transaction          names an infno the contract does not have
envelope-member            names an envelope member the contract's envelope does not have
contract-value             gives an envelope value the contract would refuse
node-in-contract           names a node the transaction does not have
member-in-contract         aliases a member the node does not have
alias-differs              aliases a member to its own name
one-alias-per-name         gives one member two aliases
alias-unique               gives two members the same alias
extra-not-in-contract      declares an "extra" member the contract already has
code-table                 extends a code table the contract does not have
local-not-national         lists a national code as local
national-code              maps a local code to a code the national table lacks
spelling-names-national    gives a spelling without the national code it spells
one-entry-per-code         lists one local code twice, or two spellings of one national code
route-template             has a route that is not a path (a template needs one ``{infno}``)
default-route              makes default a route it does not have
gateway-param              lacks a parameter its gateway family needs, or has one it cannot use
shape                      has a wrapper without data or ok_codes, or two shapes of one name
one-gateway-shape          answers gateway refusals in more than one shape
=========================  ===================================================================

Example:
    >>> from nhsa.spec import dialect, dialect_names
    >>> "national" in dialect_names() and dialect("sichuan").gateway.family == "none"
    True
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import jsonschema_rs

from nhsa.spec._contract import DIALECTS, Contract, UnknownTransactionError, default_root
from nhsa.spec._dialect_model import (
    ANY,
    ENVELOPE,
    Alias,
    AnswerShape,
    Dialect,
    DialectGateway,
    DialectRoutes,
    EnvelopeMember,
    Evidence,
    ExtraMember,
    Fact,
    Fill,
    Gap,
    LocalCode,
    NodeRename,
    Source,
)
from nhsa.spec._nodes import Side, envelope_members, nodes_of

__all__ = [
    "DEFAULT_DIALECT",
    "DialectError",
    "dialect",
    "dialect_names",
    "dialects",
    "load_dialect",
]

DEFAULT_DIALECT: Final = "national"
SCHEMA_FILE: Final = "dialect.schema.json"
_GATEWAY_PARAMS: Final = {
    "tif": {"timestamp", "window_seconds"},
    "csb": {"api_name", "api_version", "timestamp", "window_seconds", "content_type"},
    "bearer": {"token_path", "grant_type"},
    "none": set(),
}
_GATEWAY_NEEDS: Final = {"csb": {"api_name", "timestamp"}, "bearer": {"token_path"}}
_TIMESTAMP_UNITS: Final = ("s", "ms")
_ROOTS: Final = {"request": "input", "answer": "output"}
_PROBE_INFNO: Final = "2207"


class DialectError(ValueError):
    """A dialect profile that cannot be used, naming the file, the key and the rule.

    Attributes:
        file: the profile's path.
        key: a JSON pointer into the profile (``/aliases/0/member``).
        rule: the rule broken (see the module docstring's table).

    Example:
        >>> error = DialectError("gd.json", "/aliases/0", "alias-differs", "aliased to itself")
        >>> print(error)
        gd.json: /aliases/0: aliased to itself (rule alias-differs)
    """

    def __init__(self, file: str | Path, key: str, rule: str, message: str) -> None:
        self.file = str(file)
        self.key = key
        self.rule = rule
        self.message = message
        super().__init__(f"{self.file}: {key or '/'}: {message} (rule {rule})")


def dialects_dir(version: str = "v1") -> Path:
    """The folder of the bundled dialect profiles."""
    return default_root(version) / DIALECTS


@cache
def dialects(version: str = "v1") -> Mapping[str, Dialect]:
    """Every bundled dialect of ``version`` by name, each checked (loaded once per process)."""
    from nhsa.spec import contract  # noqa: PLC0415 - the package imports this module

    found = {}
    for path in sorted(dialects_dir(version).glob("*.json")):
        if path.name != SCHEMA_FILE:
            loaded = load_dialect(path, contract(version))
            found[loaded.name] = loaded
    return MappingProxyType(found)


def dialect_names(version: str = "v1") -> tuple[str, ...]:
    """The names of the bundled dialects, national first."""
    names = sorted(dialects(version))
    return (DEFAULT_DIALECT, *(n for n in names if n != DEFAULT_DIALECT))


def dialect(name: str | Dialect | None = None, version: str = "v1") -> Dialect:
    """The bundled dialect ``name`` (national when ``None``); a :class:`Dialect` is returned as is.

    An unknown name is a :class:`DialectError` listing the known ones.

    Example:
        >>> dialect("kunming")
        Traceback (most recent call last):
        ...
        nhsa.spec._dialects.DialectError: dialect: /: no dialect 'kunming'; the bundled ones \
are national, guangdong, guangzhou, hunan, jiangsu, jilin, sichuan (rule known-dialect)
    """
    if isinstance(name, Dialect):
        return name
    known = dialects(version)
    chosen = known.get(name or DEFAULT_DIALECT)
    if chosen is None:
        raise DialectError(
            "dialect",
            "",
            "known-dialect",
            f"no dialect {name!r}; the bundled ones are {', '.join(dialect_names(version))}",
        )
    return chosen


@cache
def _schema_validator(version: str) -> Any:
    schema = json.loads((dialects_dir(version) / SCHEMA_FILE).read_text("utf-8"))
    return jsonschema_rs.validator_for(schema)


def load_dialect(path: str | Path, contract: Contract) -> Dialect:
    """Read and check one profile; :class:`DialectError` names the file, the key and the rule."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise DialectError(path, "", "readable", str(error)) from None
    except json.JSONDecodeError as error:
        raise DialectError(path, "", "json", f"line {error.lineno}: {error.msg}") from None
    for issue in _schema_validator(contract.version).iter_errors(raw):
        key = "/" + "/".join(str(step) for step in issue.instance_path)
        unexpected = getattr(issue.kind, "unexpected", None)
        if unexpected:
            key = f"{key.rstrip('/')}/{unexpected[0]}"
            message = f"unknown key {unexpected[0]!r} (not in {SCHEMA_FILE})"
        else:
            message = issue.message
        raise DialectError(path, key, "known-key", message)
    return _Checker(path, raw, contract).build()


class _Checker:
    """The contract rules of the module docstring, then the typed :class:`Dialect`."""

    def __init__(self, path: Path, raw: dict[str, Any], contract: Contract) -> None:
        self.path = path
        self.raw = raw
        self.contract = contract

    def fail(self, key: str, rule: str, message: str) -> DialectError:
        return DialectError(self.path, key, rule, message)

    def build(self) -> Dialect:
        raw = self.raw
        if raw["name"] != self.path.stem:
            raise self.fail("/name", "name-matches-file", f"{raw['name']!r} in {self.path.name}")
        sources = {
            label: Source(
                label,
                entry["region"],
                entry.get("repo"),
                entry.get("commit"),
                tuple(entry.get("index_ids", ())),
            )
            for label, entry in raw["sources"].items()
        }
        answers = raw.get("answers", {})
        return Dialect(
            name=raw["name"],
            title_zh=raw["title_zh"],
            title_en=raw["title_en"],
            description=raw["description"],
            sources=MappingProxyType(sources),
            gateway=self._gateway(raw["gateway"]),
            routes=self._routes(raw["routes"]),
            envelope=tuple(self._envelope(i, e) for i, e in enumerate(raw.get("envelope", []))),
            aliases=self._aliases(raw.get("aliases", [])),
            node_renames=tuple(
                self._rename(i, r) for i, r in enumerate(raw.get("node_renames", []))
            ),
            extra_members=tuple(
                self._extra(i, e) for i, e in enumerate(raw.get("extra_members", []))
            ),
            local_codes=self._local_codes(raw.get("local_codes", [])),
            shapes=self._shapes(answers.get("shapes", [])),
            err_msg_on_success=(
                self._evidence("/answers/err_msg_on_success", answers["err_msg_on_success"])
                if "err_msg_on_success" in answers
                else None
            ),
            warn_msg_on_success=self._optional_fact(
                "/answers/warn_msg_on_success", answers.get("warn_msg_on_success")
            ),
            not_simulated=tuple(
                Gap(g["what"], self._evidence(f"/not_simulated/{i}/evidence", g["evidence"]))
                for i, g in enumerate(raw.get("not_simulated", []))
            ),
            path=str(self.path),
        )

    # -- evidence ---------------------------------------------------------------------------

    def _evidence(self, key: str, raw: Mapping[str, Any]) -> Evidence:
        cited = tuple(raw.get("sources", ()))
        for index, label in enumerate(cited):
            if label not in self.raw["sources"]:
                raise self.fail(
                    f"{key}/sources/{index}",
                    "source-defined",
                    f"source {label!r} is not defined in /sources",
                )
        confidence = raw["confidence"]
        if confidence == "confirmed" and len(cited) < 2:
            raise self.fail(
                f"{key}/confidence", "evidence-count", "confirmed needs two or more sources"
            )
        if confidence in ("single", "thin") and not cited:
            raise self.fail(f"{key}/sources", "evidence-count", f"{confidence} needs a source")
        if confidence == "inference" and not raw.get("note"):
            raise self.fail(f"{key}/note", "evidence-count", "inference needs a note saying why")
        return Evidence(confidence, cited, raw.get("where"), raw.get("note"))

    def _fact(self, key: str, raw: Mapping[str, Any]) -> Fact:
        return Fact(raw["value"], self._evidence(f"{key}/evidence", raw["evidence"]))

    def _optional_fact(self, key: str, raw: Mapping[str, Any] | None) -> Fact | None:
        return self._fact(key, raw) if raw is not None else None

    # -- scopes -----------------------------------------------------------------------------

    def _infnos(self, key: str, infnos: list[str]) -> tuple[str, ...]:
        for index, infno in enumerate(infnos):
            if infno != ANY and infno not in self.contract.transactions:
                raise self.fail(
                    f"{key}/{index}",
                    "known-transaction",
                    f"the contract has no transaction {infno}",
                )
        return tuple(infnos)

    def _scope(self, infnos: tuple[str, ...]) -> list[str]:
        """The transactions a rule names (every one for ``*``)."""
        return sorted(self.contract.transactions) if ANY in infnos else list(infnos)

    def _node(self, infno: str, side: Side, node: str) -> Mapping[str, Any] | None:
        """The members of ``node`` of ``infno`` (``input``/``output`` is the root)."""
        try:
            shape = nodes_of(infno, side).get(node)
        except UnknownTransactionError:
            return None
        return shape.members if shape is not None else None

    # -- envelope ---------------------------------------------------------------------------

    def _envelope(self, index: int, raw: Mapping[str, Any]) -> EnvelopeMember:
        key = f"/envelope/{index}"
        side: Side = raw.get("direction", "request")
        members = envelope_members(side)
        if raw["member"] not in members:
            raise self.fail(
                f"{key}/member",
                "envelope-member",
                f"the {side} envelope has no member {raw['member']!r}",
            )
        fill = _fill(raw["fill"])
        if isinstance(fill, tuple) and fill[0] == "copy" and fill[1] not in members:
            raise self.fail(
                f"{key}/fill/copy",
                "envelope-member",
                f"the {side} envelope has no member {fill[1]!r} to copy",
            )
        if side == "request" and isinstance(fill, tuple) and fill[0] == "constant":
            self._check_envelope_value(f"{key}/fill/constant", raw["member"], fill[1])
        infnos = self._infnos(f"{key}/infnos", raw.get("infnos", [ANY]))
        return EnvelopeMember(
            member=raw["member"],
            fill=fill,
            evidence=self._evidence(f"{key}/evidence", raw["evidence"]),
            direction=side,
            infnos=infnos,
            required=raw.get("required", False),
            send=raw.get("send", True),
        )

    def _check_envelope_value(self, key: str, member: str, value: str) -> None:
        """The constant must be one the contract's envelope accepts."""
        example = dict(self.contract.transaction(_PROBE_INFNO).examples[0].request)
        example[member] = value
        for issue in self.contract.validators.check_request(example):
            if issue.pointer == f"/{member}":
                raise self.fail(key, "contract-value", f"{member} {value!r}: {issue.message}")

    # -- aliases and renames ----------------------------------------------------------------

    def _aliases(self, raw: list[Mapping[str, Any]]) -> tuple[Alias, ...]:
        aliases = tuple(self._alias(i, a) for i, a in enumerate(raw))
        seen: dict[tuple[str, str, str, str], int] = {}
        taken: dict[tuple[str, str, str, str], tuple[int, str]] = {}
        for index, alias in enumerate(aliases):
            for infno, node in self._alias_places(alias):
                name = (alias.direction, infno, node, alias.member)
                if name in seen and seen[name] != index:
                    raise self.fail(
                        f"/aliases/{index}/member",
                        "one-alias-per-name",
                        f"{alias.member} of {infno} {node} is already aliased by "
                        f"/aliases/{seen[name]}",
                    )
                seen[name] = index
                spelt = (alias.direction, infno, node, alias.alias)
                other = taken.get(spelt)
                if other is not None and other[1] != alias.member:
                    raise self.fail(
                        f"/aliases/{index}/alias",
                        "alias-unique",
                        f"{alias.alias} of {infno} {node} already stands for {other[1]} "
                        f"(/aliases/{other[0]})",
                    )
                taken[spelt] = (index, alias.member)
        return aliases

    def _alias(self, index: int, raw: Mapping[str, Any]) -> Alias:
        key = f"/aliases/{index}"
        alias = Alias(
            member=raw["member"],
            alias=raw["alias"],
            infnos=self._infnos(f"{key}/infnos", raw["infnos"]),
            node=raw["node"],
            direction=raw["direction"],
            evidence=self._evidence(f"{key}/evidence", raw["evidence"]),
            value=raw.get("value", "same"),
        )
        if alias.alias == alias.member:
            raise self.fail(f"{key}/alias", "alias-differs", f"{alias.member} aliased to itself")
        if not self._alias_places(alias):
            where = "any transaction" if ANY in alias.infnos else ", ".join(alias.infnos)
            raise self.fail(
                f"{key}/member",
                "member-in-contract",
                f"no {alias.node} node of {where} has a member {alias.member!r}",
            )
        if ANY not in alias.infnos:
            for infno in alias.infnos:
                if not self._alias_places(alias, only=infno):
                    raise self.fail(
                        f"{key}/member",
                        "member-in-contract",
                        f"{infno} {alias.node} has no member {alias.member!r}",
                    )
        return alias

    def _alias_places(self, alias: Alias, only: str | None = None) -> list[tuple[str, str]]:
        """Every (infno, node) of the alias's scope whose node has the member."""
        places = []
        for infno in [only] if only else self._scope(alias.infnos):
            if alias.node == ENVELOPE:
                if alias.member in envelope_members(alias.direction):
                    places.append((infno, ENVELOPE))
                continue
            try:
                shapes = nodes_of(infno, alias.direction)
            except UnknownTransactionError:
                continue
            for name, shape in shapes.items():
                if alias.node in (ANY, name) and alias.member in shape.members:
                    places.append((infno, name))
        return places

    def _rename(self, index: int, raw: Mapping[str, Any]) -> NodeRename:
        key = f"/node_renames/{index}"
        rename = NodeRename(
            node=raw["node"],
            alias=raw["alias"],
            infnos=self._infnos(f"{key}/infnos", raw["infnos"]),
            direction=raw["direction"],
            evidence=self._evidence(f"{key}/evidence", raw["evidence"]),
        )
        root = _ROOTS[rename.direction]
        for infno in self._scope(rename.infnos):
            members = self._node(infno, rename.direction, root) or {}
            if rename.node not in members:
                raise self.fail(
                    f"{key}/node", "node-in-contract", f"{infno} {root} has no node {rename.node!r}"
                )
            if rename.alias in members:
                raise self.fail(
                    f"{key}/alias",
                    "alias-unique",
                    f"{infno} {root} already has a node {rename.alias!r}",
                )
        return rename

    # -- extra members and local codes ------------------------------------------------------

    def _extra(self, index: int, raw: Mapping[str, Any]) -> ExtraMember:
        key = f"/extra_members/{index}"
        extra = ExtraMember(
            member=raw["member"],
            title=raw["title"],
            infnos=self._infnos(f"{key}/infnos", raw["infnos"]),
            node=raw["node"],
            direction=raw["direction"],
            evidence=self._evidence(f"{key}/evidence", raw["evidence"]),
            required=raw.get("required", False),
            max_length=raw.get("max_length"),
            fill=_fill(raw.get("fill", "call")),
        )
        if extra.fill == "config":
            raise self.fail(f"{key}/fill", "known-key", "an extra member is filled per call")
        for infno in self._scope(extra.infnos):
            members = self._node(infno, extra.direction, extra.node)
            if members is None:
                raise self.fail(
                    f"{key}/node", "node-in-contract", f"{infno} has no node {extra.node!r}"
                )
            if extra.member in members:
                raise self.fail(
                    f"{key}/member",
                    "extra-not-in-contract",
                    f"{infno} {extra.node} already has {extra.member!r} in the contract",
                )
            copied = extra.fill[1] if isinstance(extra.fill, tuple) else None
            if copied is not None and extra.fill[0] == "copy" and copied not in members:
                raise self.fail(
                    f"{key}/fill/copy",
                    "member-in-contract",
                    f"{infno} {extra.node} has no member {copied!r} to copy",
                )
        return extra

    def _local_codes(self, raw: list[Mapping[str, Any]]) -> tuple[LocalCode, ...]:
        codes = []
        for index, entry in enumerate(raw):
            key = f"/local_codes/{index}"
            table = self.contract.codes.get(entry["table"])
            if table is None:
                raise self.fail(
                    f"{key}/table", "code-table", f"the contract has no code table {entry['table']}"
                )
            if entry["code"] in table:
                raise self.fail(
                    f"{key}/code",
                    "local-not-national",
                    f"{entry['code']} is a national code of {table.name} "
                    f"({table.name_of(entry['code'])})",
                )
            national = entry.get("national")
            if national is not None and national not in table:
                raise self.fail(
                    f"{key}/national", "national-code", f"{national} is not a code of {table.name}"
                )
            if entry["kind"] == "spelling" and national is None:
                raise self.fail(
                    f"{key}/national",
                    "spelling-names-national",
                    "a spelling must name the national code it spells",
                )
            codes.append(
                LocalCode(
                    entry["table"],
                    entry["code"],
                    entry["name"],
                    entry["kind"],
                    self._evidence(f"{key}/evidence", entry["evidence"]),
                    national,
                )
            )
        self._unique_codes(codes)
        return tuple(codes)

    def _unique_codes(self, codes: list[LocalCode]) -> None:
        for what, keys in (
            ("code", Counter((c.table, c.code) for c in codes)),
            ("spelling", Counter((c.table, c.national) for c in codes if c.kind == "spelling")),
        ):
            for (table, code), count in keys.items():
                if count > 1:
                    index = next(
                        i
                        for i, c in reversed(list(enumerate(codes)))
                        if c.table == table and (c.code if what == "code" else c.national) == code
                    )
                    raise self.fail(
                        f"/local_codes/{index}",
                        "one-entry-per-code",
                        f"{table} {code} has {count} {what} entries",
                    )

    # -- gateway, routes, answers -----------------------------------------------------------

    def _gateway(self, raw: Mapping[str, Any]) -> DialectGateway:
        family = raw["family"]
        params = {k: v for k, v in raw.items() if k not in ("family", "evidence")}
        for name in params:
            if name not in _GATEWAY_PARAMS[family]:
                raise self.fail(
                    f"/gateway/{name}", "gateway-param", f"a {family} gateway has no {name}"
                )
        for name in _GATEWAY_NEEDS.get(family, ()):
            if name not in params:
                raise self.fail(
                    f"/gateway/{name}", "gateway-param", f"a {family} gateway needs {name}"
                )
        facts = {name: self._fact(f"/gateway/{name}", value) for name, value in params.items()}
        unit = facts.get("timestamp")
        if unit is not None and unit.value not in _TIMESTAMP_UNITS:
            raise self.fail("/gateway/timestamp/value", "gateway-param", "timestamp is s or ms")
        token_path = facts.get("token_path")
        if token_path is not None and not str(token_path.value).startswith("/"):
            raise self.fail("/gateway/token_path/value", "route-template", "a path starts with /")
        return DialectGateway(
            family, self._evidence("/gateway/evidence", raw["evidence"]), MappingProxyType(facts)
        )

    def _routes(self, raw: Mapping[str, Any]) -> DialectRoutes:
        single = self._optional_fact("/routes/single_entry", raw.get("single_entry"))
        per = self._optional_fact("/routes/per_transaction", raw.get("per_transaction"))
        if single is not None:
            path = str(single.value)
            if not path.startswith("/") or "{" in path:
                raise self.fail(
                    "/routes/single_entry/value", "route-template", f"{path!r} is not a path"
                )
        if per is not None:
            path = str(per.value)
            valid = path == "contract" or (path.startswith("/") and path.count("{infno}") == 1)
            if not valid or path.replace("{infno}", "").count("{"):
                raise self.fail(
                    "/routes/per_transaction/value",
                    "route-template",
                    f"{path!r}: 'contract' or a path with one {{infno}}",
                )
        default = raw["default"]
        if (default == "single-entry" and single is None) or (
            default == "per-transaction" and per is None
        ):
            raise self.fail("/routes/default", "default-route", f"no {default} route is given")
        return DialectRoutes(default, single, per)

    def _shapes(self, raw: list[Mapping[str, Any]]) -> tuple[AnswerShape, ...]:
        shapes: list[AnswerShape] = []
        for index, entry in enumerate(raw):
            key = f"/answers/shapes/{index}"
            members = entry["members"]
            if entry["kind"] == "wrapper" and ("data" not in members or "ok_codes" not in entry):
                raise self.fail(key, "shape", "a wrapper needs members.data and ok_codes")
            if any(s.name == entry["name"] for s in shapes):
                raise self.fail(f"{key}/name", "shape", f"two shapes are named {entry['name']}")
            shapes.append(
                AnswerShape(
                    name=entry["name"],
                    kind=entry["kind"],
                    members=MappingProxyType(dict(members)),
                    definite=entry["definite"],
                    evidence=self._evidence(f"{key}/evidence", entry["evidence"]),
                    codes=tuple(entry.get("codes", ())),
                    ok_codes=tuple(entry.get("ok_codes", ())),
                    gateway=entry.get("gateway", False),
                )
            )
        gateway = [i for i, s in enumerate(shapes) if s.gateway]
        if len(gateway) > 1:
            raise self.fail(
                f"/answers/shapes/{gateway[1]}/gateway",
                "one-gateway-shape",
                "gateway refusals can come in one shape only",
            )
        return tuple(shapes)


def _fill(raw: object) -> Fill:
    if raw in ("call", "config"):
        return raw
    assert isinstance(raw, Mapping), "the schema allows call, config, {copy} or {constant}"
    ((kind, value),) = raw.items()
    return (kind, str(value))


def iter_evidence(profile: Dialect) -> Iterator[tuple[str, Evidence]]:
    """Every fact of ``profile`` with its evidence, for reports and tests.

    Example:
        >>> from nhsa.spec import dialect
        >>> all(e.sources or e.note for _, e in iter_evidence(dialect("guangdong")))
        True
    """
    yield "gateway", profile.gateway.evidence
    for name, fact in profile.gateway.facts.items():
        yield f"gateway.{name}", fact.evidence
    for route in (profile.routes.single_entry, profile.routes.per_transaction):
        if route is not None:
            yield f"route {route.value}", route.evidence
    groups: tuple[tuple[str, tuple[Any, ...]], ...] = (
        ("envelope", profile.envelope),
        ("alias", profile.aliases),
        ("node", profile.node_renames),
        ("extra", profile.extra_members),
        ("code", profile.local_codes),
        ("shape", profile.shapes),
        ("gap", profile.not_simulated),
    )
    for kind, items in groups:
        for item in items:
            yield kind, item.evidence
