"""The interface contract: transactions, code tables and validation.

``interface_specs/`` is the single source of truth; this package loads it (from a checkout or
an installed wheel), compiles validators once, and reports every problem of a message as a
:class:`ValidationIssue` (JSON pointer, rule, message) — never a traceback.

Example:
    >>> from nhsa import spec
    >>> spec.contract().transaction("2207").title_zh
    '门诊结算'
    >>> issues = spec.validate_request({"infno": "2207"})
    >>> any(i.pointer == "/msgid" and i.rule == "required" for i in issues)
    True
"""

from __future__ import annotations

from functools import cache

from nhsa.spec._contract import (
    CodeTable,
    Contract,
    Example,
    Transaction,
    UnknownTransactionError,
    default_root,
)
from nhsa.spec._dialect_model import (
    AnswerShape,
    Dialect,
    DialectGateway,
    DialectRoutes,
    Evidence,
    LocalCode,
)
from nhsa.spec._dialects import (
    DEFAULT_DIALECT,
    DialectError,
    dialect,
    dialect_names,
    dialects,
    iter_evidence,
    load_dialect,
)
from nhsa.spec._issues import ValidationIssue
from nhsa.spec._json import parse_json
from nhsa.spec._nodes import NodeShape, envelope_members, nodes_of
from nhsa.spec._walk import FieldSpec, iter_fields
from nhsa.spec._walk import node_at as schema_at
from nhsa.spec._walk import resolve as resolve_ref

__all__ = [
    "DEFAULT_DIALECT",
    "AnswerShape",
    "CodeTable",
    "Contract",
    "Dialect",
    "DialectError",
    "DialectGateway",
    "DialectRoutes",
    "Evidence",
    "Example",
    "FieldSpec",
    "LocalCode",
    "NodeShape",
    "Transaction",
    "UnknownTransactionError",
    "ValidationIssue",
    "code_table",
    "contract",
    "dialect",
    "dialect_names",
    "dialects",
    "envelope_members",
    "iter_evidence",
    "iter_fields",
    "load_dialect",
    "nodes_of",
    "parse_json",
    "resolve_ref",
    "schema_at",
    "validate_input",
    "validate_output",
    "validate_request",
    "validate_response",
]


@cache
def contract(version: str = "v1") -> Contract:
    """The bundled contract of ``version``, loaded once per process."""
    return Contract(default_root(version), version)


def validate_request(message: object) -> list[ValidationIssue]:
    """Every problem of a request envelope and its input; an empty list means valid.

    Example:
        >>> validate_request([])[0].message
        'a request envelope must be a JSON object'
    """
    return contract().validators.check_request(message)


def validate_response(message: object, infno: str | None = None) -> list[ValidationIssue]:
    """Every problem of a response envelope; pass ``infno`` to check the output nodes too."""
    return contract().validators.check_response(message, infno)


def validate_input(infno: str, value: object) -> list[ValidationIssue]:
    """Every problem of one transaction's ``input`` object."""
    return contract().validators.check_input(infno, value)


def validate_output(infno: str, value: object) -> list[ValidationIssue]:
    """Every problem of one transaction's ``output`` object."""
    return contract().validators.check_output(infno, value)


def code_table(name: str) -> CodeTable:
    """A code table of the bundled contract, e.g. ``code_table("med_type").name_of("11")``."""
    return contract().code_table(name)
