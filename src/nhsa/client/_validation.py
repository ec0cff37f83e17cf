"""Checks that refuse bad input before anything is sent, each naming the field and the rule.

The contract's JSON Schema already covers types, lengths and code tables; this module adds
what a schema cannot say and what bites in the field: the GB 11643 check digit of a resident
ID number, amounts that are not exact decimals, a fee line whose total is not quantity ×
price, a certificate type a kiosk must not accept.

Example:
    >>> check_id_number("530102198503150018", "mdtrt_cert_no")
    >>> to_decimal(0.1, "pric", places=6)
    Traceback (most recent call last):
    ...
    nhsa.client.errors.InvalidInputError: pric: 0.1 is a float; pass a decimal.Decimal or a \
string so no fraction of a cent is lost
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any, Final

from pydantic import ValidationError

from nhsa.client.errors import ForbiddenCertificateError, InvalidInputError
from nhsa.idcard import id_number_problem
from nhsa.models import PLAIN_TEXT_PATTERN
from nhsa.spec import ValidationIssue, code_table, contract

ID_CARD: Final = "02"
"""mdtrt_cert_type of a resident ID card (居民身份证)."""
RESIDENT_ID: Final = "01"
"""psn_cert_type of a resident ID (居民身份证（户口簿）)."""
_PLAIN_TEXT: Final = re.compile(PLAIN_TEXT_PATTERN)


def check_id_number(value: str, field: str) -> None:
    """Refuse a resident ID number that breaks GB 11643 (shape, birth date, check digit).

    Example:
        >>> check_id_number("530102198503150019", "certno")
        Traceback (most recent call last):
        ...
        nhsa.client.errors.InvalidInputError: certno: resident ID number ****************19: \
the check character is '9'; GB 11643 requires '8' (GB 11643)
    """
    number = value.strip().upper()
    problem = id_number_problem(number)
    if problem is not None:
        masked = "*" * max(len(number) - 2, 0) + number[-2:]
        raise InvalidInputError(
            f"{field}: resident ID number {masked}: {problem.message} (GB 11643)",
            field=field,
            rule=problem.rule,
        )


def to_decimal(
    value: object,
    field: str,
    *,
    places: int,
    minimum: Decimal | None = Decimal(0),
) -> Decimal:
    """An exact Decimal from a Decimal, int or numeric string; floats are refused.

    Example:
        >>> to_decimal("12.50", "det_item_fee_sumamt", places=2)
        Decimal('12.50')
    """
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        kind = "a float" if isinstance(value, float) else f"of type {type(value).__name__}"
        raise InvalidInputError(
            f"{field}: {value!r} is {kind}; pass a decimal.Decimal or a string so no fraction "
            "of a cent is lost",
            field=field,
            rule="decimal",
        )
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise InvalidInputError(
            f"{field}: {value!r} is not a number", field=field, rule="decimal"
        ) from None
    if not number.is_finite():
        raise InvalidInputError(f"{field}: {value!r} is not finite", field=field, rule="decimal")
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise InvalidInputError(
            f"{field}: {value} has more than {places} decimal places",
            field=field,
            rule=f"at-most-{places}-decimal-places",
        )
    if minimum is not None and number < minimum:
        raise InvalidInputError(
            f"{field}: {value} is below {minimum}", field=field, rule=f"minimum-{minimum}"
        )
    return number


def check_code(table: str, value: str, field: str) -> None:
    """Refuse a value that is not a code of the contract's table ``table``.

    Example:
        >>> check_code("insutype", "999", "insutype")
        Traceback (most recent call last):
        ...
        nhsa.client.errors.InvalidInputError: insutype: '999' is not a code of insutype (险种类型)
    """
    codes = code_table(table)
    if value not in codes:
        raise InvalidInputError(
            f"{field}: {value!r} is not a code of {table} ({codes.title})",
            field=field,
            rule="enum",
        )


@cache
def _disease_code() -> re.Pattern[str]:
    common = contract().documents[contract().uri("common.json")]
    return re.compile(common["$defs"]["opsp_dise_code"]["pattern"])


def check_disease_code(value: object, field: str) -> None:
    """Refuse a chronic disease code (门慢门特病种目录代码) not of the contract's shape.

    The shape (M + 5 digits) is the contract's ``common.json#/$defs/opsp_dise_code``; whether
    the code is on the platform's list is the platform's to judge.

    Example:
        >>> check_disease_code("M03900", "chronic.code")
        >>> check_disease_code("I10.x00", "chronic.code")
        Traceback (most recent call last):
        ...
        nhsa.client.errors.InvalidInputError: chronic.code: 'I10.x00' is not a chronic disease \
code (门慢门特病种目录代码: M + 5 digits, e.g. M03900)
    """
    if not isinstance(value, str) or not _disease_code().fullmatch(value):
        raise InvalidInputError(
            f"{field}: {value!r} is not a chronic disease code (门慢门特病种目录代码: M + 5 "
            "digits, e.g. M03900)",
            field=field,
            rule="pattern",
        )


def check_text(value: str | None, field: str, max_length: int, *, required: bool = True) -> None:
    """Refuse a missing required text, one longer than the spec allows, or one holding a
    character no text may (control, bidirectional, invisible: common.json ``plain_text``).

    Example:
        >>> check_text("", "opter", 30)
        Traceback (most recent call last):
        ...
        nhsa.client.errors.InvalidInputError: opter: required, must not be empty
    """
    if value is None or not value.strip():
        if required:
            raise InvalidInputError(
                f"{field}: required, must not be empty", field=field, rule="required"
            )
        return
    if len(value) > max_length:
        raise InvalidInputError(
            f"{field}: {len(value)} characters, the spec allows {max_length}",
            field=field,
            rule="maxLength",
        )
    if not _PLAIN_TEXT.fullmatch(value):  # fullmatch: "$" alone would allow a final "\n"
        raise _not_plain_text(field, value)


def _not_plain_text(field: str, value: object) -> InvalidInputError:
    shown = repr(value) if isinstance(value, str) and len(value) <= 60 else "the value"
    return InvalidInputError(
        f"{field}: {shown} breaks the rule plain-text: no control, bidirectional, invisible or "
        "separator characters (common.json plain_text)",
        field=field,
        rule="plain-text",
    )


def check_certificates(
    input_nodes: Mapping[str, Any], accepted: Iterable[str], *, where: str, infno: str
) -> None:
    """Check every certificate an input carries: accepted by this mode, ID numbers valid.

    Args:
        input_nodes: the input as wire values (``{"data": {...}}``).
        accepted: mdtrt_cert_type codes this mode may accept.
        where: the mode, for the message (``"a kiosk"``).
    """
    allowed = tuple(accepted)
    for node_name, node in _nodes(input_nodes):
        cert_type = node.get("mdtrt_cert_type")
        if cert_type is not None and cert_type not in allowed:
            names = ", ".join(f"{c} {code_table('mdtrt_cert_type').name_of(c)}" for c in allowed)
            raise ForbiddenCertificateError(
                f"{node_name}.mdtrt_cert_type: {where} may not accept certificate type "
                f"{cert_type} ({code_table('mdtrt_cert_type').name_of(cert_type)}); "
                f"allowed: {names}",
                field=f"{node_name}.mdtrt_cert_type",
                rule="mode-certificates",
                infno=infno,
            )
        if cert_type == ID_CARD and isinstance(node.get("mdtrt_cert_no"), str):
            check_id_number(node["mdtrt_cert_no"], f"{node_name}.mdtrt_cert_no")
        if node.get("psn_cert_type") == RESIDENT_ID and isinstance(node.get("certno"), str):
            check_id_number(node["certno"], f"{node_name}.certno")


def error_from_issues(issues: list[ValidationIssue], infno: str) -> InvalidInputError:
    """The contract's validation issues as one error naming the first field and rule."""
    first = issues[0]
    more = f" (+{len(issues) - 1} more: " + "; ".join(str(i) for i in issues[1:4]) + ")"
    return InvalidInputError(
        f"{infno} request breaks the contract: {first.message}" + (more if len(issues) > 1 else ""),
        field=first.pointer or "/",
        rule=first.rule,
        infno=infno,
    )


def error_from_pydantic(error: ValidationError, prefix: str) -> InvalidInputError:
    """A pydantic validation error as an :class:`InvalidInputError` naming the field."""
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"])
    field = f"{prefix}.{location}" if location else prefix
    if (first.get("ctx") or {}).get("pattern") == PLAIN_TEXT_PATTERN:
        return _not_plain_text(field, first.get("input"))
    return InvalidInputError(f"{field}: {first['msg']}", field=field, rule=first["type"])


def _nodes(input_nodes: Mapping[str, Any]) -> Iterable[tuple[str, Mapping[str, Any]]]:
    for name, node in input_nodes.items():
        if isinstance(node, Mapping):
            yield name, node
        elif isinstance(node, list):
            for index, item in enumerate(node):
                if isinstance(item, Mapping):
                    yield f"{name}[{index}]", item
