"""The 3202 files: the hospital's detail upload and the platform's result (reference §3.15).

A wire format like the envelope itself, so it lives here, below both sides: the SDK writes
detail files and reads result files; the mock reads detail files and writes result files.
The platform reads a HIS's upload strictly (a malformed file is refused, naming line and
column); a HIS reads the platform's result tolerantly (``result.txt`` among other members,
missing trailing columns), because the platform's answer is not the HIS's to refuse.

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
        >>> read_detail_file("4000000000001\t3000000000001\tP1\t4.52\t0.00\t4.52\t0".encode())
        Traceback (most recent call last):
        ...
        nhsa.envelope._detail_files.DetailFileError: the file is not a ZIP archive \
(upload the TXT zipped)
    """


@dataclass(frozen=True)
class DetailRow:
    """One row of the hospital's detail file: a settlement (0) or a refund/reversal (1).

    Example:
        The columns of a line of the file, in order:

        >>> from dataclasses import fields
        >>> [column.name for column in fields(DetailRow)]  # doctest: +NORMALIZE_WHITESPACE
        ['setl_id', 'mdtrt_id', 'psn_no', 'medfee_sumamt', 'fund_pay_sumamt', 'acct_pay',
         'refd_setl_flag']
    """

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

    Example:
        >>> row = ResultRow("P1", "V1", "S1", "H53010100001202611231015300001", "1", "0",
        ...                 "中心多", Decimal("4.52"), Decimal("0"), Decimal("4.52"))
        >>> read_result_file(write_result_file([row])) == [row]
        True
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
    """Parse a result file tolerantly: the member named ``result.txt`` (else the only or first
    ``.txt``), a header line skipped, missing trailing columns read as empty.

    :class:`DetailFileError` when it is not a ZIP, holds no text file, or an amount is not a
    number.
    """
    rows = []
    for number, line in enumerate(_result_text(content).splitlines(), start=1):
        cells = [cell.strip() for cell in line.split("\t")]
        if not any(cells) or cells[0] == "psn_no":
            continue
        cells += [""] * (len(fields(ResultRow)) - len(cells))
        psn_no, mdtrt_id, setl_id, msgid, rslt, flag, memo, medfee, fund, acct = cells[:10]
        rows.append(
            ResultRow(
                psn_no,
                mdtrt_id,
                setl_id,
                msgid,
                rslt,
                flag,
                memo,
                _result_amount(number, 8, "medfee_sumamt", medfee),
                _result_amount(number, 9, "fund_pay_sumamt", fund),
                _result_amount(number, 10, "acct_pay", acct),
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


def _result_text(content: bytes) -> str:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        raise DetailFileError("the 3202 result file is not a ZIP archive") from None
    with archive:
        names = [info.filename for info in archive.infolist() if not info.is_dir()]
        name = next((n for n in names if n.rsplit("/", 1)[-1] == "result.txt"), None)
        name = name or next((n for n in names if n.lower().endswith(".txt")), None)
        if name is None:
            raise DetailFileError(f"the 3202 result file holds no text file ({', '.join(names)})")
        raw = archive.read(name)
    return _decode(raw, name)


def _decode(raw: bytes, name: str) -> str:
    for encoding in ("utf-8-sig", "gbk"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DetailFileError(f"{name} is neither UTF-8 nor GBK text")


def _result_amount(number: int, column: int, name: str, value: str) -> Decimal:
    return _amount(number, column, name, value) if value else Decimal(0)


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
    return _decode(raw, texts[0].filename)


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
