"""Wire value types shared by every model, mirroring ``interface_specs/v1/common.json``.

Amounts are :class:`~decimal.Decimal` with the scale the spec gives — never float. Dates travel
as ``yyyy-MM-dd HH:mm:ss`` / ``yyyy-MM-dd`` and are :class:`~datetime.datetime` /
:class:`~datetime.date` in Python. A test checks each constraint here against common.json.

Example:
    >>> from pydantic import TypeAdapter
    >>> TypeAdapter(Money).validate_python(4.52)
    Decimal('4.52')
    >>> when = TypeAdapter(NhsaDateTime)
    >>> when.dump_python(when.validate_python("2026-11-23 10:15:30"))
    '2026-11-23 10:15:30'
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import BeforeValidator, Field, PlainSerializer

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
DATE_FORMAT = "%Y-%m-%d"


def _decimal(digits: int, places: int, low: str, high: str) -> object:
    return Field(max_digits=digits, decimal_places=places, ge=Decimal(low), le=Decimal(high))


Money = Annotated[Decimal, _decimal(15, 2, "-9999999999999.99", "9999999999999.99")]
"""Amount in yuan, at most two decimal places (数值型(16,2), bounded at 15 significant digits)."""

Quantity = Annotated[Decimal, _decimal(15, 4, "-99999999999.9999", "99999999999.9999")]
"""Quantity, 数值型(16,4); negative on refund lines."""

Price = Annotated[Decimal, _decimal(15, 6, "0", "999999999.999999")]
"""Unit price, 数值型(16,6)."""

Ratio = Annotated[Decimal, _decimal(5, 4, "0", "1")]
"""A ratio in [0, 1], 数值型(5,4)."""

Age = Annotated[Decimal, _decimal(4, 1, "0", "200")]
"""Age in years, 数值型(4,1)."""

NhsaDateTime = Annotated[
    datetime,
    PlainSerializer(lambda value: value.strftime(DATETIME_FORMAT), return_type=str),
]
"""Local date and time; on the wire ``yyyy-MM-dd HH:mm:ss``."""

NhsaDate = Annotated[
    date,
    PlainSerializer(lambda value: value.strftime(DATE_FORMAT), return_type=str),
]
"""Local date; on the wire ``yyyy-MM-dd``."""

Admdvs = Annotated[str, Field(pattern=r"^[0-9]{6}$")]
"""Six-digit medical-insurance area code (医保区划)."""

OpspDiseCode = Annotated[str, Field(pattern=r"^M[0-9]{5}$", max_length=30)]
"""A chronic or special outpatient disease code (门慢门特病种目录代码): M + 5 digits."""


PLAIN_TEXT_PATTERN = (
    "^[^\\u0000-\\u001f\\u007f-\\u009f\\u00ad\\u061c\\u180e\\u200b-\\u200f"
    "\\u2028-\\u202e\\u2060-\\u2064\\u2066-\\u2069\\ufeff\\ufffe\\uffff]*$"
)
PlainText = Annotated[str, Field(pattern=PLAIN_TEXT_PATTERN)]
"""Text without control, bidirectional, invisible or separator characters: every string a HIS
sends (common.json ``plain_text``, which the request envelope applies to all its strings).

Example:
    >>> from pydantic import TypeAdapter, ValidationError
    >>> try:
    ...     TypeAdapter(PlainText).validate_python("MZ\u202e0001")
    ... except ValidationError as error:
    ...     print(error.errors()[0]["type"])
    string_pattern_mismatch
"""


def _coerce_infcode(value: object) -> object:
    # Some gateways send "0" instead of 0; both mean the same answer.
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return value


InfCode = Annotated[int, BeforeValidator(_coerce_infcode), Field(ge=-9999, le=9999)]
"""Transaction status code: 0 success, -1 failure; accepted as number or numeric string."""

_Item = TypeVar("_Item")


def _listed(value: Any) -> Any:
    # A lone object stands for a list of one: the shape some integrations send.
    return [value] if isinstance(value, dict) or hasattr(value, "model_fields") else value


OneOrMany = Annotated[list[_Item], BeforeValidator(_listed)]
"""A node the contract accepts as one object or as an array of them (``anyOf [array, X]``);
in Python always a list, written back as a list.

Example:
    >>> from pydantic import TypeAdapter
    >>> TypeAdapter(OneOrMany[dict[str, int]]).validate_python({"a": 1})
    [{'a': 1}]
"""

COMMON_TYPES: dict[str, object] = {
    "money": Money,
    "quantity": Quantity,
    "price": Price,
    "ratio": Ratio,
    "age": Age,
    "datetime": NhsaDateTime,
    "date": NhsaDate,
    "admdvs": Admdvs,
    "infcode": InfCode,
    "opsp_dise_code": OpspDiseCode,
    "plain_text": PlainText,
}
"""common.json ``$defs`` name → the Python type that models it (used by codegen and tests)."""
