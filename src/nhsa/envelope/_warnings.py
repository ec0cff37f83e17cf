"""What a reader tolerated in an answer: one typed warning per departure from the contract.

A definite answer is read whatever its shape; everything that does not match the contract is
reported here instead of failing the read. The kinds::

    kind              the answer…                                   the model holds
    missing           lacks a member the contract requires          None
    null              has null where the contract allows no null    None
    unknown-code      carries a code its table does not list        the code as sent
                      (a local or newer code)
    invalid           breaks another rule (length, format, range)   the value as sent
    unreadable        has a value that is not of the member's type  None (the value dropped)
    unknown-member    carries a member the contract does not know   kept in ``model_extra``
    too-deep          nests deeper than 32 levels somewhere         ``"…"`` where it was cut
    renamed           spells a member as a known misprint           under the right name
    infcode-string    sends infcode as a string                     the number
    platform-warning  carries a warn_msg                            ``envelope.warn_msg``
    err-msg-on-success  is infcode 0 with an err_msg (a success:    ``envelope.err_msg``
                      infcode decides; some platforms, Hunan's,
                      put a real error text there)
    dialect-renamed   spells a member as the dialect does           under the contract's name
                      (``warnMsg``)
    dialect-shape     comes in the dialect's wrapper (Guangdong's   the envelope inside
                      ``{code, type, message, data}``), or is a
                      refusal body the dialect calls definite
    local-code        carries a code the dialect lists: its         the national code for a
                      spelling of a national code, or a local       spelling; else as sent
                      extension

Example:
    >>> from nhsa.spec import ValidationIssue
    >>> issue = ValidationIssue("/output/setlinfo/setl_time", "required", "setl_time: required")
    >>> warning = contract_warnings("2207", {"setlinfo": {}}, [issue])[0]
    >>> warning.kind, warning.pointer
    ('missing', '/output/setlinfo/setl_time')
    >>> str(warning)
    'setlinfo.setl_time missing (the contract requires it)'

"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from nhsa.redaction import redact
from nhsa.spec import FieldSpec, ValidationIssue, contract, iter_fields

WarningKind = Literal[
    "missing",
    "null",
    "unknown-code",
    "invalid",
    "unreadable",
    "unknown-member",
    "too-deep",
    "renamed",
    "infcode-string",
    "platform-warning",
    "err-msg-on-success",
    "dialect-renamed",
    "dialect-shape",
    "local-code",
]


_RANK: dict[WarningKind, int] = {"missing": 0, "null": 1, "unknown-code": 2, "invalid": 3}

DIALECT_KINDS: frozenset[WarningKind] = frozenset(
    {"dialect-renamed", "dialect-shape", "local-code"}
)
"""What a province's platform does as its profile says it does: warnings that name the departure
from the contract, but nothing an operator has to look at (the SDK logs them at debug)."""


@dataclass(frozen=True, slots=True)
class AnswerWarning:
    """One thing a reader tolerated (see the module docstring for the kinds).

    Attributes:
        kind: what was tolerated.
        pointer: JSON pointer of the member in the answer (``/output/setlinfo/clr_way``);
            ``""`` for the answer as a whole.
        message: one line naming the member and what was wrong with it (personal data masked).

    Example:
        >>> renamed = AnswerWarning(
        ...     "renamed", "/output/setlinfo/pdn_cash_pay", "pdn_cash_pay read as psn_cash_pay")
        >>> str(renamed)
        'pdn_cash_pay read as psn_cash_pay'
    """

    kind: WarningKind
    pointer: str
    message: str

    def __str__(self) -> str:
        return self.message


def contract_warnings(
    infno: str, output: Mapping[str, Any], issues: Iterable[ValidationIssue]
) -> list[AnswerWarning]:
    """The contract's validation issues of a success ``output``, as warnings by kind: one per
    member (a null code breaks both its type and its table; the null is what to report)."""
    fields = _output_fields(infno)
    warnings: dict[str, AnswerWarning] = {}
    for issue in issues:
        path = _path(issue.pointer)
        field = fields.get(_field_key(path))
        value = _value_at(output, path[1:])
        name = ".".join(str(part) for part in path[1:]) or "output"
        if issue.rule == "required":
            kind: WarningKind = "missing"
            message = f"{name} missing (the contract requires it)"
        elif value is None and issue.rule in ("type", "anyOf"):
            kind, message = "null", f"{name} null (the contract does not allow null here)"
        elif field is not None and field.code_table and isinstance(value, str):
            kind = "unknown-code"
            message = f"{name} {value!r} is not a code of {field.code_table} (a local code?)"
        else:
            kind = "invalid"
            message = f"{name} breaks the contract ({issue.rule}): {redact(issue.message)}"
        known = warnings.get(issue.pointer)
        if known is None or _RANK[kind] < _RANK[known.kind]:
            warnings[issue.pointer] = AnswerWarning(kind, issue.pointer, message)
    return list(warnings.values())


def _path(pointer: str) -> list[str | int]:
    parts: list[str | int] = []
    for step in pointer.split("/")[1:]:
        key = step.replace("~1", "/").replace("~0", "~")
        parts.append(int(key) if key.isdigit() else key)
    return parts


def _field_key(path: Sequence[str | int]) -> str:
    """``output/setldetail/0/fund_pay_type`` → ``setldetail[].fund_pay_type``."""
    key = ""
    for part in path[1:]:
        key += "[]" if isinstance(part, int) else (f".{part}" if key else part)
    return key


def _value_at(node: Any, path: Sequence[str | int]) -> Any:
    for part in path:
        if isinstance(part, int) and isinstance(node, list) and part < len(node):
            node = node[part]
        elif isinstance(part, str) and isinstance(node, Mapping):
            node = node.get(part)
        else:
            return None
    return node


@cache
def _output_fields(infno: str) -> Mapping[str, FieldSpec]:
    spec = contract()
    location = f"{spec.transaction(infno).schema_id}#/$defs/output"
    return {field.path: field for field in iter_fields(spec, location)}
