"""Base classes of every generated model: strict for what we send, tolerant for what we read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

from nhsa.redaction import redact


class _MaskedRepr(BaseModel):
    """``repr`` shows names, ID and card numbers, phones and tokens masked (a settled charge
    printed into a log must not leak its patient); the values themselves are untouched."""

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            if isinstance(value, BaseModel) or name is None:
                yield name, value
            else:
                yield name, redact({name: value})[name]


class InputModel(_MaskedRepr):
    """A node a HIS sends. Unknown fields are errors: a misspelt field must not pass silently.

    Example:
        >>> from pydantic import ValidationError
        >>> from nhsa.models import Input2205Data
        >>> try:
        ...     Input2205Data(mdtrt_id="3000000000001", chrg_bchno="B1", psn_no="P1", psn_nmae="x")
        ... except ValidationError as error:
        ...     print([(issue["loc"], issue["type"]) for issue in error.errors()])
        [(('psn_nmae',), 'extra_forbidden')]
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, serialize_by_alias=True
    )

    def to_wire(self) -> dict[str, Any]:
        """The node as wire-ready Python values (Decimal amounts, formatted dates, no nulls)."""
        return self.model_dump(by_alias=True, exclude_none=True)


class OutputModel(_MaskedRepr):
    """A node the platform answers with. Unknown fields are kept: platforms add members.

    Example:
        >>> from nhsa.models import Output1101Baseinfo
        >>> person = Output1101Baseinfo(psn_no="P1", psn_name="测试甲", certno="440304199001011233")
        >>> (person.psn_name, "测试甲" in repr(person), "440304199001011233" in repr(person))
        ('测试甲', False, False)
    """

    model_config = ConfigDict(
        extra="allow", frozen=True, populate_by_name=True, serialize_by_alias=True
    )

    def to_wire(self) -> dict[str, Any]:
        """The node as wire-ready Python values (Decimal amounts, formatted dates)."""
        return self.model_dump(by_alias=True)


@dataclass(frozen=True)
class TransactionModels:
    """The input and output model of one transaction (see :func:`nhsa.models.models_for`)."""

    infno: str
    input: type[InputModel]
    output: type[OutputModel]
