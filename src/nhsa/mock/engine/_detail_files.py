"""The 3202 files: the hospital's detail upload and the platform's result (reference §3.15).

Both are ZIP archives holding one TAB-separated text file, one row per settlement, no header
[inference: the column order is confirmed (S9, S2), the delimiter is TAB per S2's parser, a
header line is not; a first line starting with ``setl_id``/``psn_no`` is skipped on reading].

- upload (9101 → 3202): ``setl_id, mdtrt_id, psn_no, medfee_sumamt, fund_pay_sumamt,
  acct_pay, refd_setl_flag``;
- result (3202 → 9102), ``result.txt``: ``psn_no, mdtrt_id, setl_id, msgid, stmt_rslt,
  refd_setl_flag, memo, medfee_sumamt, fund_pay_sumamt, acct_pay``.

Text is UTF-8 (a GBK file is read too: many HIS write the Windows code page).

Example:
    >>> row = DetailRow("4000000000001", "3000000000001", "P1", Decimal("4.52"),
    ...                 Decimal("0.00"), Decimal("4.52"), "0")
    >>> read_detail_file(write_detail_file([row])) == [row]
    True
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields
from decimal import Decimal, InvalidOperation

_FLAGS = ("0", "1")


class DetailFileError(ValueError):
    """A detail file that cannot be read; the message names the line, the column and the rule.

    Example:
        >>> str(DetailFileError("line 2, column 4 (medfee_sumamt): 'x' is not an amount"))
        "line 2, column 4 (medfee_sumamt): 'x' is not an amount"
    """


@dataclass(frozen=True)
class DetailRow:
    """One row of the hospital's detail file."""

    setl_id: str
    mdtrt_id: str
    psn_no: str
    medfee_sumamt: Decimal
    fund_pay_sumamt: Decimal
    acct_pay: Decimal
    refd_setl_flag: str


@dataclass(frozen=True)
class ResultRow:
    """One row of the platform's ``result.txt``.

    ``stmt_rslt``: 0 对平 (both agree), 1 中心多 (only the platform has it), 2 医药机构多 (only
    the hospital has it), 3 数据不一致 (both have it, with different data; ``memo`` says which).
    """

    psn_no: str
    mdtrt_id: str
    setl_id: str
    msgid: str
    stmt_rslt: str
    refd_setl_flag: str
    memo: str
    medfee_sumamt: Decimal
    fund_pay_sumamt: Decimal
    acct_pay: Decimal


def write_detail_file(rows: Sequence[DetailRow], *, member: str = "detail.txt") -> bytes:
    """A detail upload: a ZIP holding ``member`` with one TAB-separated row per settlement."""
    return _zip(member, [_cells(row) for row in rows])


def read_detail_file(content: bytes) -> list[DetailRow]:
    """Parse a detail upload; :class:`DetailFileError` names the line, column and rule."""
    rows = []
    for number, cells in _rows_of(content, expected=len(fields(DetailRow)), header="setl_id"):
        setl_id, mdtrt_id, psn_no, medfee, fund, acct, flag = cells
        if flag not in _FLAGS:
            raise DetailFileError(
                f"line {number}, column 7 (refd_setl_flag): {flag!r} must be 0 (settlement) "
                "or 1 (refund/reversal)"
            )
        rows.append(
            DetailRow(
                _text(number, 1, "setl_id", setl_id),
                _text(number, 2, "mdtrt_id", mdtrt_id),
                _text(number, 3, "psn_no", psn_no),
                _amount(number, 4, "medfee_sumamt", medfee),
                _amount(number, 5, "fund_pay_sumamt", fund),
                _amount(number, 6, "acct_pay", acct),
                flag,
            )
        )
    return rows


def write_result_file(rows: Sequence[ResultRow]) -> bytes:
    """The result file: a ZIP holding ``result.txt``."""
    return _zip("result.txt", [_cells(row) for row in rows])


def read_result_file(content: bytes) -> list[ResultRow]:
    """Parse a result file (for a HIS, a test, or a lab reading the platform's answer)."""
    rows = []
    for number, cells in _rows_of(content, expected=len(fields(ResultRow)), header="psn_no"):
        psn_no, mdtrt_id, setl_id, msgid, rslt, flag, memo, medfee, fund, acct = cells
        rows.append(
            ResultRow(
                psn_no,
                mdtrt_id,
                setl_id,
                msgid,
                rslt,
                flag,
                memo,
                _amount(number, 8, "medfee_sumamt", medfee),
                _amount(number, 9, "fund_pay_sumamt", fund),
                _amount(number, 10, "acct_pay", acct),
            )
        )
    return rows


def _cells(row: DetailRow | ResultRow) -> list[str]:
    return [
        format(value, "f") if isinstance(value, Decimal) else str(value) for value in astuple(row)
    ]


def _zip(member: str, lines: Sequence[Sequence[str]]) -> bytes:
    text = "".join("\t".join(cells) + "\r\n" for cells in lines)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, text.encode("utf-8"))
    return buffer.getvalue()


def _rows_of(content: bytes, *, expected: int, header: str) -> list[tuple[int, list[str]]]:
    text = _text_member(content)
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or (number == 1 and line.startswith(header)):
            continue
        cells = line.split("\t")
        if len(cells) != expected:
            raise DetailFileError(
                f"line {number}: {len(cells)} TAB-separated columns, {expected} expected"
            )
        rows.append((number, [cell.strip() for cell in cells]))
    return rows


def _text_member(content: bytes) -> str:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        raise DetailFileError("the file is not a ZIP archive (upload the TXT zipped)") from None
    with archive:
        texts = [info for info in archive.infolist() if not info.is_dir()]
        if len(texts) != 1:
            raise DetailFileError(
                f"the ZIP holds {len(texts)} files; it must hold exactly one text file"
            )
        raw = archive.read(texts[0])
    for encoding in ("utf-8-sig", "gbk"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DetailFileError(f"{texts[0].filename} is neither UTF-8 nor GBK text")


def _text(number: int, column: int, name: str, value: str) -> str:
    if not value or len(value) > 30:
        raise DetailFileError(
            f"line {number}, column {column} ({name}): {value!r} must be 1 to 30 characters"
        )
    return value


def _amount(number: int, column: int, name: str, value: str) -> Decimal:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        amount = Decimal("NaN")
    exponent = amount.as_tuple().exponent
    if not amount.is_finite() or not isinstance(exponent, int) or exponent < -2:
        raise DetailFileError(
            f"line {number}, column {column} ({name}): {value!r} is not an amount with at "
            "most two decimals"
        )
    return amount
