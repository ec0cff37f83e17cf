"""Pydantic models of the envelopes and of every transaction's input and output.

The models are generated from ``interface_specs/`` (:mod:`nhsa.models.codegen`); a test proves,
class by class, that each field agrees with its schema (name, required, type, length, codes).
Input models are strict (unknown fields are errors, codes are ``Literal``); output models are
tolerant — every field optional and nullable, no length or pattern constraints, codes ``str``,
unknown fields kept — so that an answer in a real platform's shape never turns a completed
settlement into an unknown outcome (the reader checks the contract and warns instead).

Example:
    >>> from decimal import Decimal
    >>> from nhsa.models import Input2205, Input2205Data, models_for
    >>> node = Input2205Data(mdtrt_id="530100000000001001", chrg_bchno="0000", psn_no="P001")
    >>> Input2205(data=node).to_wire()["data"]["chrg_bchno"]
    '0000'
    >>> models_for("2207").output.__name__
    'Output2207'
"""

from __future__ import annotations

from nhsa.models._base import InputModel, OutputModel, TransactionModels
from nhsa.models._generated import *  # noqa: F403 - the generated surface is public by design
from nhsa.models._generated import TRANSACTIONS
from nhsa.models._generated import __all__ as _generated_names
from nhsa.models._types import (
    PLAIN_TEXT_PATTERN,
    Admdvs,
    Age,
    InfCode,
    Money,
    NhsaDate,
    NhsaDateTime,
    PlainText,
    Price,
    Quantity,
    Ratio,
)
from nhsa.spec import UnknownTransactionError


def models_for(infno: str) -> TransactionModels:
    """The input and output model of a transaction, or :class:`UnknownTransactionError`."""
    try:
        return TRANSACTIONS[infno]
    except KeyError:
        raise UnknownTransactionError(infno, sorted(TRANSACTIONS)) from None


__all__ = [  # noqa: PLE0604 - extended by the generated names
    "PLAIN_TEXT_PATTERN",
    "Admdvs",
    "Age",
    "InfCode",
    "InputModel",
    "Money",
    "NhsaDate",
    "NhsaDateTime",
    "OutputModel",
    "PlainText",
    "Price",
    "Quantity",
    "Ratio",
    "TransactionModels",
    "models_for",
    *_generated_names,
]
