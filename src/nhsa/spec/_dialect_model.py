"""A province dialect, typed: what ``interface_specs/v1/dialects/<name>.json`` says, as values.

Every fact keeps its :class:`Evidence`. The lookups the translators need (which alias a member
of a node has, which local code a table lists) are methods here, so the SDK, the mock and the
conformance suite ask one object the same questions.

Example:
    >>> from nhsa.spec import dialect
    >>> guangdong = dialect("guangdong")
    >>> guangdong.member_alias("3202", "data", "refd_setl_flag", "request")
    'REFD_SETL_FLAG'
    >>> guangdong.gateway.family, guangdong.routes.default
    ('tif', 'per-transaction')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

__all__ = [
    "ENVELOPE",
    "Alias",
    "AnswerShape",
    "Confidence",
    "Dialect",
    "DialectGateway",
    "DialectRoutes",
    "Direction",
    "EnvelopeMember",
    "Evidence",
    "ExtraMember",
    "Fact",
    "Fill",
    "Gap",
    "GatewayFamily",
    "LocalCode",
    "NodeRename",
    "Source",
]

Confidence = Literal["confirmed", "single", "thin", "inference"]
Direction = Literal["request", "answer"]
GatewayFamily = Literal["tif", "csb", "bearer", "none"]
Fill = Literal["call", "config"] | tuple[Literal["copy", "constant"], str]
"""Where a value comes from: the call, the configuration, ("copy", member) or ("constant", v)."""

ENVELOPE = "envelope"
"""The node name of the envelope itself in an alias."""
ANY = "*"


@dataclass(frozen=True, slots=True)
class Source:
    """A public source a profile cites, by its label (``C1``, ``D``…)."""

    label: str
    region: str
    repo: str | None = None
    commit: str | None = None
    index_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Evidence:
    """Where a fact comes from (labels of the profile's sources) and how sure we are."""

    confidence: Confidence
    sources: tuple[str, ...] = ()
    where: str | None = None
    note: str | None = None

    def __str__(self) -> str:
        cited = ", ".join(self.sources) or "no source"
        return f"{self.confidence} ({cited})"


@dataclass(frozen=True, slots=True)
class Fact:
    """One value with its evidence (a gateway parameter, a route)."""

    value: str | int
    evidence: Evidence


@dataclass(frozen=True, slots=True)
class EnvelopeMember:
    """An envelope member this province's HIS sends (``request``) or its platform answers."""

    member: str
    fill: Fill
    evidence: Evidence
    direction: Direction = "request"
    infnos: tuple[str, ...] = (ANY,)
    required: bool = False
    send: bool = True

    def applies_to(self, infno: str) -> bool:
        """Whether this member is sent for ``infno``."""
        return ANY in self.infnos or infno in self.infnos


@dataclass(frozen=True, slots=True)
class Alias:
    """A contract member spelt ``alias`` in ``node`` of ``infnos`` (``*``: any)."""

    member: str
    alias: str
    infnos: tuple[str, ...]
    node: str
    direction: Direction
    evidence: Evidence
    value: Literal["same", "json-object"] = "same"

    def applies(self, infno: str, node: str, direction: Direction) -> bool:
        """Whether the alias holds for ``node`` of ``infno`` in ``direction``."""
        return (
            self.direction == direction
            and (ANY in self.infnos or infno in self.infnos)
            and (self.node in (ANY, node))
        )


@dataclass(frozen=True, slots=True)
class NodeRename:
    """A contract node of ``infnos`` named ``alias`` in this province."""

    node: str
    alias: str
    infnos: tuple[str, ...]
    direction: Direction
    evidence: Evidence


@dataclass(frozen=True, slots=True)
class ExtraMember:
    """A member the contract does not have, in ``node`` (``input``/``output``: the root)."""

    member: str
    title: str
    infnos: tuple[str, ...]
    node: str
    direction: Direction
    evidence: Evidence
    required: bool = False
    max_length: int | None = None
    fill: Fill = "call"

    def applies(self, infno: str, node: str, direction: Direction) -> bool:
        """Whether this member belongs to ``node`` of ``infno`` in ``direction``."""
        return (
            self.direction == direction
            and (ANY in self.infnos or infno in self.infnos)
            and self.node == node
        )


@dataclass(frozen=True, slots=True)
class LocalCode:
    """A code outside the national table: another ``spelling`` of one, or an ``extension``."""

    table: str
    code: str
    name: str
    kind: Literal["spelling", "extension"]
    evidence: Evidence
    national: str | None = None


@dataclass(frozen=True, slots=True)
class DialectGateway:
    """The gateway family in front of the platform and its parameters (see the schema)."""

    family: GatewayFamily
    evidence: Evidence
    facts: Mapping[str, Fact] = field(default_factory=dict)

    def value(self, name: str, default: str | int | None = None) -> str | int | None:
        """A parameter's value (``timestamp``, ``api_name``…), or ``default``."""
        fact = self.facts.get(name)
        return fact.value if fact is not None else default

    def text(self, name: str, default: str) -> str:
        """A parameter as text."""
        return str(self.value(name, default))


@dataclass(frozen=True, slots=True)
class DialectRoutes:
    """The URL paths of business calls: a single entry and/or one path per transaction."""

    default: Literal["single-entry", "per-transaction"]
    single_entry: Fact | None = None
    per_transaction: Fact | None = None

    def template(self) -> str | None:
        """The per-transaction path template (``/…/{infno}``), ``contract``, or ``None``."""
        return str(self.per_transaction.value) if self.per_transaction is not None else None


@dataclass(frozen=True, slots=True)
class AnswerShape:
    """An answer that is not a response envelope (a wrapper, a gateway's or helper's refusal)."""

    name: str
    kind: Literal["wrapper", "refusal"]
    members: Mapping[str, str]
    definite: bool
    evidence: Evidence
    codes: tuple[str | int, ...] = ()
    ok_codes: tuple[str, ...] = ()
    gateway: bool = False

    def matches(self, body: Mapping[str, object]) -> bool:
        """Whether ``body`` has this shape: its members, and a code this shape lists."""
        if "infcode" in body or any(m not in body for m in self._marking_members()):
            return False
        return not self.codes or body.get(self.members["code"]) in self.codes

    def _marking_members(self) -> tuple[str, ...]:
        roles = ("code", "message", "data") if self.kind == "wrapper" else ("code", "message")
        return tuple(self.members[role] for role in roles if role in self.members)


@dataclass(frozen=True, slots=True)
class Gap:
    """Something the sources show of this province that nhsa-kit does not reproduce."""

    what: str
    evidence: Evidence


@dataclass(frozen=True)
class Dialect:
    """One province's departures from the national contract (``interface_specs/v1/dialects``).

    Example:
        >>> from nhsa.spec import dialect
        >>> jilin = dialect("jilin")
        >>> jilin.local_code("med_type", "140104").national, jilin.spelling("chrgitm_lv", "01")
        ('14', '1')
    """

    name: str
    title_zh: str
    title_en: str
    description: str
    sources: Mapping[str, Source]
    gateway: DialectGateway
    routes: DialectRoutes
    envelope: tuple[EnvelopeMember, ...] = ()
    aliases: tuple[Alias, ...] = ()
    node_renames: tuple[NodeRename, ...] = ()
    extra_members: tuple[ExtraMember, ...] = ()
    local_codes: tuple[LocalCode, ...] = ()
    shapes: tuple[AnswerShape, ...] = ()
    err_msg_on_success: Evidence | None = None
    warn_msg_on_success: Fact | None = None
    not_simulated: tuple[Gap, ...] = ()
    path: str = ""

    def __repr__(self) -> str:
        return f"<Dialect {self.name}: {self.title_en}>"

    @property
    def is_national(self) -> bool:
        """True for the national default (no departures at all)."""
        return self.name == "national"

    def member_alias(self, infno: str, node: str, member: str, direction: Direction) -> str | None:
        """This province's name for ``member`` of ``node`` (``envelope``: the envelope)."""
        alias = self.alias_of(infno, node, member, direction)
        return alias.alias if alias is not None else None

    def alias_of(self, infno: str, node: str, member: str, direction: Direction) -> Alias | None:
        """The alias rule for ``member`` of ``node`` of ``infno``, or ``None``."""
        for alias in self.aliases:
            if alias.member == member and alias.applies(infno, node, direction):
                return alias
        return None

    def aliases_for(self, infno: str, node: str, direction: Direction) -> tuple[Alias, ...]:
        """Every alias that holds in ``node`` of ``infno``."""
        key = ("aliases", infno, node, direction)
        if key not in self._memo:
            self._memo[key] = tuple(a for a in self.aliases if a.applies(infno, node, direction))
        found: tuple[Alias, ...] = self._memo[key]
        return found

    @cached_property
    def _memo(self) -> dict[tuple[str, ...], Any]:
        """Answers to the per-node questions, asked for every row of every message."""
        return {}

    def node_name(self, infno: str, node: str, direction: Direction) -> str:
        """This province's name for a contract node of ``infno``."""
        for rename in self.node_renames:
            scoped = ANY in rename.infnos or infno in rename.infnos
            if rename.node == node and rename.direction == direction and scoped:
                return rename.alias
        return node

    def contract_node(self, infno: str, name: str, direction: Direction) -> str:
        """The contract's name of a node this province calls ``name`` (``name`` if it is one).

        Example:
            >>> from nhsa.spec import dialect
            >>> dialect("guangzhou").contract_node("2201", "mdtrtinfo", "request")
            'data'
        """
        for rename in self.node_renames:
            scoped = ANY in rename.infnos or infno in rename.infnos
            if rename.alias == name and rename.direction == direction and scoped:
                return rename.node
        return name

    def extras_for(self, infno: str, node: str, direction: Direction) -> tuple[ExtraMember, ...]:
        """The extra members of ``node`` of ``infno`` (``input``/``output``: the root)."""
        key = ("extras", infno, node, direction)
        if key not in self._memo:
            self._memo[key] = tuple(
                e for e in self.extra_members if e.applies(infno, node, direction)
            )
        found: tuple[ExtraMember, ...] = self._memo[key]
        return found

    def envelope_members(self, infno: str, direction: Direction) -> tuple[EnvelopeMember, ...]:
        """The envelope rules that hold for ``infno`` in ``direction``."""
        return tuple(m for m in self.envelope if m.direction == direction and m.applies_to(infno))

    def local_code(self, table: str, code: str) -> LocalCode | None:
        """The local code ``code`` of ``table``, or ``None``."""
        return self._codes.get((table, code))

    def spelling(self, table: str, national: str) -> str | None:
        """How this province spells the national ``table`` code ``national``, if otherwise."""
        return self._spellings.get((table, national))

    def tables_with_local_codes(self) -> frozenset[str]:
        """The code tables this dialect extends or respells."""
        return self._tables

    @cached_property
    def _codes(self) -> dict[tuple[str, str], LocalCode]:
        return {(local.table, local.code): local for local in self.local_codes}

    @cached_property
    def _spellings(self) -> dict[tuple[str, str], str]:
        return {
            (local.table, local.national): local.code
            for local in self.local_codes
            if local.kind == "spelling" and local.national is not None
        }

    @cached_property
    def _tables(self) -> frozenset[str]:
        return frozenset(local.table for local in self.local_codes)

    def entries(self, infno: str) -> tuple[str, ...]:
        """The URL paths a request of ``infno`` may be posted to on this dialect's platform.

        Example:
            >>> from nhsa.spec import dialect
            >>> dialect("guangdong").entries("2207")
            ('/ebus/gdyb_inf/poc/hsa/hgs/2207',)
        """
        from nhsa.spec import contract  # noqa: PLC0415 - the package imports this module

        found: list[str] = []
        if self.routes.single_entry is not None:
            found.append(str(self.routes.single_entry.value))
        template = self.routes.template()
        if template == "contract":
            transaction = contract().transactions.get(infno)
            if transaction is not None:
                found.append(transaction.path)
        elif template is not None:
            found.append(template.replace("{infno}", infno))
        return tuple(found)

    def gateway_shape(self) -> AnswerShape | None:
        """The shape the mock answers its gateway refusals in (``None``: an envelope)."""
        return next((s for s in self.shapes if s.gateway), None)

    def shape_of(self, body: Mapping[str, object]) -> AnswerShape | None:
        """The answer shape ``body`` has, or ``None`` when it has none of this dialect's."""
        return next((s for s in self.shapes if s.matches(body)), None)
