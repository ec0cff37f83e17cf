"""Base classes of every generated model: strict for what we send, tolerant for what we read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict


class InputModel(BaseModel):
    """A node a HIS sends. Unknown fields are errors: a misspelt field must not pass silently.

    Example:
        >>> from nhsa.models import Input2207Data
        >>> Input2207Data.model_fields["psn_no"].metadata[0].max_length
        30
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, serialize_by_alias=True
    )

    def to_wire(self) -> dict[str, Any]:
        """The node as wire-ready Python values (Decimal amounts, formatted dates, no nulls)."""
        return self.model_dump(by_alias=True, exclude_none=True)


class OutputModel(BaseModel):
    """A node the platform answers with. Unknown fields are kept: platforms add members."""

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
