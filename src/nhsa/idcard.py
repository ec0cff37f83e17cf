"""Resident ID numbers (居民身份证号码, GB 11643-1999): one implementation for every room.

Layout: 6-digit area, 8-digit birth date, 3-digit sequence (odd for men, even for women), one
check character: the weighted sum of the first 17 digits modulo 11 picks it from
``10X98765432``. The SDK refuses a bad number before anything is sent, the mock refuses it in
1101 and validates its fixtures, and the redaction and privacy checks use it to tell an ID
number from any other 18 digits. Messages never repeat the number itself.

Example:
    >>> check_char("11010519491231002")
    'X'
    >>> id_number_problem("11010519491231002X") is None
    True
    >>> id_number_problem("110105194912310021").rule
    'gb11643-check-digit'
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Final

_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS: Final = "10X98765432"
_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")


@dataclass(frozen=True)
class IdNumberProblem:
    """Why a string is not a valid ID number.

    Attributes:
        rule: ``gb11643-shape``, ``gb11643-birth-date``, ``gb11643-check-digit``, or, when the
            number is compared with a person, ``gb11643-brdy`` / ``gb11643-gend``.
        message: what is wrong, without the number itself.
    """

    rule: str
    message: str

    def __str__(self) -> str:
        return self.message


def check_char(first17: str) -> str:
    """The check character of the first 17 digits; ``ValueError`` for anything else."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError(f"need exactly 17 digits, got {len(first17)} characters")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def has_valid_check_char(number: str) -> bool:
    """Whether an 18-character candidate ends in its GB 11643 check character (x accepted)."""
    return (
        len(number) == 18
        and number[:17].isdigit()
        and check_char(number[:17]) == number[17].upper()
    )


def id_number_problem(
    number: str, *, brdy: date | None = None, gend: str | None = None
) -> IdNumberProblem | None:
    """What is wrong with ``number``, or ``None`` when it is a valid ID number.

    ``brdy`` and ``gend`` (1 male, 2 female), when given, must agree with the number.
    """
    if not _SHAPE.fullmatch(number):
        return IdNumberProblem(
            "gb11643-shape",
            f"a resident ID number is 17 digits and a check character (digit or X), "
            f"got {len(number)} characters",
        )
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return IdNumberProblem(
            "gb11643-birth-date", "characters 7-14 of the ID number are not a calendar date"
        )
    expected = check_char(number[:17])
    if number[17] != expected:
        return IdNumberProblem(
            "gb11643-check-digit",
            f"the check character is {number[17]!r}; GB 11643 requires {expected!r}",
        )
    if brdy is not None and born != brdy:
        return IdNumberProblem(
            "gb11643-brdy", f"encodes birth date {born.isoformat()} but brdy is {brdy.isoformat()}"
        )
    sex = "1" if int(number[16]) % 2 else "2"
    if gend in ("1", "2") and sex != gend:
        return IdNumberProblem(
            "gb11643-gend", f"sequence digit {number[16]} encodes gend {sex} but gend is {gend}"
        )
    return None


def id_numbers_in(text: str) -> Iterator[re.Match[str]]:
    """Every valid ID number standing alone in ``text`` (its check character verified).

    Example:
        >>> [m.group(0) for m in id_numbers_in("a 11010519491231002X b 110105194912310021")]
        ['11010519491231002X']
    """
    return (m for m in _IN_TEXT.finditer(text) if has_valid_check_char(m.group(0)))
