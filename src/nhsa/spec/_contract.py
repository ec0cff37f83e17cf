"""Reading ``interface_specs/<version>/`` into typed, immutable descriptions.

The contract folder is data only. This module turns it into :class:`Contract`: one
:class:`Transaction` per infno, one :class:`CodeTable` per dictionary, and the raw schema
documents keyed by ``$id`` for the validators in :mod:`nhsa.spec._validators`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from nhsa._resources import data_dir
from nhsa.spec._validators import Validators

Kind = Literal["query", "write"]
Care = Literal["common", "outpatient", "inpatient"]
BodyKind = Literal["json", "file"]
DIALECTS = "dialects"
"""The folder of province dialect profiles inside a contract version (``nhsa.spec.dialect``)."""


class UnknownTransactionError(KeyError):
    """The contract has no transaction with this infno."""

    def __init__(self, infno: str, known: list[str]) -> None:
        super().__init__(infno)
        self.infno = infno
        self.known = known

    def __str__(self) -> str:
        return f"unknown transaction {self.infno!r}; the contract defines {', '.join(self.known)}"


@dataclass(frozen=True)
class Example:
    """A bundled, valid request/response pair of one transaction."""

    name: str
    request: Mapping[str, Any]
    response: Mapping[str, Any]


@dataclass(frozen=True)
class Transaction:
    """What the contract says about one infno.

    Example:
        >>> from nhsa.spec import contract
        >>> t = contract().transaction("2207")
        >>> (t.title_en, t.kind, t.reversible_by_2601, t.undone_by)
        ('Outpatient settlement', 'write', True, '2208')
    """

    infno: str
    title_zh: str
    title_en: str
    kind: Kind
    care: Care
    safe_to_repeat: bool
    reversible_by_2601: bool
    undone_by: str | None
    path: str
    sources: str
    description: str
    schema_id: str
    document: Mapping[str, Any] = field(repr=False)
    examples: tuple[Example, ...] = field(repr=False)
    response_body: BodyKind = "json"
    input_max_chars: int = 40000

    @property
    def input_schema(self) -> Mapping[str, Any]:
        """The JSON Schema of ``input`` (``$defs/input`` of the transaction file)."""
        return self.document["$defs"]["input"]  # type: ignore[no-any-return]

    @property
    def output_schema(self) -> Mapping[str, Any]:
        """The JSON Schema of ``output`` (``$defs/output`` of the transaction file)."""
        return self.document["$defs"]["output"]  # type: ignore[no-any-return]

    @property
    def is_query(self) -> bool:
        """True for read-only transactions, which may be retried freely."""
        return self.kind == "query"


@dataclass(frozen=True)
class CodeTable:
    """A dictionary (字典) such as ``insutype``: code → Chinese name.

    Example:
        >>> from nhsa.spec import contract
        >>> table = contract().code_table("insutype")
        >>> ("310" in table, table.name_of("310"))
        (True, '职工基本医疗保险')
    """

    name: str
    title: str
    description: str
    names: Mapping[str, str]
    schema_id: str

    def __contains__(self, code: object) -> bool:
        return code in self.names

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)

    def name_of(self, code: str) -> str:
        """Chinese name of ``code``; raises ``KeyError`` naming the table for an unknown code."""
        try:
            return self.names[code]
        except KeyError:
            raise KeyError(f"{code!r} is not a code of {self.name} ({self.title})") from None


class Contract:
    """One version of the interface contract, loaded from ``interface_specs/<version>/``.

    Use :func:`nhsa.spec.contract` for the cached default rather than building your own.

    Example:
        >>> from nhsa.spec import contract
        >>> c = contract()
        >>> "2207" in c.transactions and "insutype" in c.codes
        True
    """

    def __init__(self, root: Path, version: str) -> None:
        self.root = root
        self.version = version
        self.documents: dict[str, dict[str, Any]] = {}
        for path in sorted(root.rglob("*.json")):
            if DIALECTS in path.relative_to(root).parts:
                continue  # province profiles are data about the contract, not part of it
            document = _read_json(path)
            schema_id = document.get("$id")
            if not isinstance(schema_id, str):
                raise ValueError(f"{path}: a contract document needs a string $id")
            self.documents[schema_id] = document
        self.base_uri = _base_uri(self.documents)
        self.transactions: Mapping[str, Transaction] = MappingProxyType(
            {t.infno: t for t in self._read_transactions()}
        )
        self.codes: Mapping[str, CodeTable] = MappingProxyType(
            {c.name: c for c in self._read_code_tables()}
        )

    def __repr__(self) -> str:
        return f"<Contract {self.version} {len(self.transactions)} transactions at {self.root}>"

    def transaction(self, infno: str) -> Transaction:
        """The transaction with this infno, or :class:`UnknownTransactionError`."""
        try:
            return self.transactions[infno]
        except KeyError:
            raise UnknownTransactionError(infno, sorted(self.transactions)) from None

    def code_table(self, name: str) -> CodeTable:
        """The code table with this name (``insutype``, ``med_type``, …)."""
        try:
            return self.codes[name]
        except KeyError:
            raise KeyError(
                f"unknown code table {name!r}; the contract defines {', '.join(sorted(self.codes))}"
            ) from None

    @cached_property
    def fund_fields(self) -> tuple[str, ...]:
        """The setlinfo fund payments whose sum is ``fund_pay_sumamt`` (``x-sum-of`` in
        nodes.json): the one definition of the fund-sum identity that the mock's calculator,
        the SDK and the checks use.

        Example:
            >>> from nhsa.spec import contract
            >>> fields = contract().fund_fields
            >>> (fields[0], "hifdm_pay" in fields, "acct_pay" in fields)
            ('hifp_pay', True, False)
        """
        nodes = self.documents[self.uri("nodes.json")]
        total = nodes["$defs"]["setlinfo_base"]["properties"]["fund_pay_sumamt"]
        return tuple(total["x-sum-of"])

    @cached_property
    def validators(self) -> Validators:
        """Compiled validators for this contract (built once, reused for every message)."""
        return Validators(self)

    def uri(self, relative: str) -> str:
        """Absolute ``$id`` of a contract document, e.g. ``uri("envelope/request.json")``."""
        return self.base_uri + relative

    def _read_transactions(self) -> Iterator[Transaction]:
        prefix = self.uri("transactions/")
        for schema_id, doc in self.documents.items():
            if not schema_id.startswith(prefix):
                continue
            examples = tuple(
                Example(name=e["name"], request=e["request"], response=e["response"])
                for e in doc.get("examples", [])
            )
            yield Transaction(
                infno=doc["infno"],
                title_zh=doc["title_zh"],
                title_en=doc["title_en"],
                kind=doc["kind"],
                care=doc["care"],
                safe_to_repeat=doc["safe_to_repeat"],
                reversible_by_2601=doc["reversible_by_2601"],
                undone_by=doc.get("undone_by"),
                path=doc["path"],
                sources=doc["sources"],
                description=doc["description"],
                schema_id=schema_id,
                document=doc,
                examples=examples,
                response_body=doc.get("response_body", "json"),
                input_max_chars=doc.get("input_max_chars", 40000),
            )

    def _read_code_tables(self) -> Iterator[CodeTable]:
        prefix = self.uri("codes/")
        for schema_id, doc in self.documents.items():
            if schema_id.startswith(prefix):
                name = schema_id.removeprefix(prefix).removesuffix(".json")
                yield CodeTable(
                    name=name,
                    title=doc["title"],
                    description=doc["description"],
                    names=MappingProxyType(dict(doc["x-names"])),
                    schema_id=schema_id,
                )


def default_root(version: str = "v1") -> Path:
    """Directory of the bundled contract of ``version``."""
    return data_dir("interface_specs") / version


def _read_json(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    if not isinstance(document, dict):
        raise ValueError(f"{path}: a contract document must be a JSON object")
    return document


def _base_uri(documents: Mapping[str, Any]) -> str:
    common = next((i for i in documents if i.endswith("/common.json")), None)
    if common is None:
        raise ValueError("the contract has no common.json")
    return common.removesuffix("common.json")
